"""Reading and writing the tables users exchange: CSV and Excel.

Imports take what a Dutch Excel writes (semicolons, a byte-order mark, CRLF) and
``.xlsx``; exports are UTF-8, comma-separated, with a header row.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from .errors import InputError

XLSX_MAGIC = b"PK\x03\x04"


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or ``.xlsx`` file into a DataFrame of strings (empty cells as NA).

    The delimiter (comma, semicolon or tab) is sniffed from the header line; a UTF-8
    BOM and Windows line ends are accepted; cp1252 is tried when the file is not UTF-8.
    Ragged rows (more or fewer cells than the header) are an error naming the row.
    """
    path = Path(path)
    name = path.name
    if not path.exists():
        raise InputError("file not found.", location=str(path), hint="Check the path.")
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("the file is empty.", location=name, hint="Export the table again with its header row.")
    if raw.startswith(XLSX_MAGIC) or path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_xlsx(raw, name)
    if b"\x00" in raw[:4096]:
        raise InputError(
            "this is not a text (CSV) file: it holds binary data.",
            location=name,
            hint="Save the table as CSV (UTF-8) or .xlsx and import that.",
        )
    text = _decode(raw, name)
    return _read_csv_text(text, name)


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError("the file is neither UTF-8 nor Windows-1252 text.", location=name, hint="Save it as CSV UTF-8.")


def _read_csv_text(text: str, name: str) -> pd.DataFrame:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get) if max(counts.values()) > 0 else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"', strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(f"not valid CSV ({exc}).", location=f"{name}, row {reader.line_num}", hint="Check the quotes on that row.") from None
    # blank lines are skipped, not errors
    numbered = [(i + 1, r) for i, r in enumerate(rows) if any(cell.strip() for cell in r)]
    if not numbered:
        raise InputError("the file is empty.", location=name)
    header_no, header = numbered[0]
    width = len(header)
    body = []
    for rowno, r in numbered[1:]:
        if len(r) != width:
            raise InputError(
                f"this row has {len(r)} cells but the header has {width}.",
                location=f"{name}, row {rowno}",
                hint=f"Each row needs exactly one cell per column (separator {delimiter!r}); check for a stray separator or a missing cell.",
            )
        body.append(r)
    df = pd.DataFrame(body, columns=[h.strip() for h in header], dtype="string")
    # keep spreadsheet row numbers: the header is row 1; blank lines shift the rest
    df.index = pd.Index([rowno - 2 for rowno, _ in numbered[1:]])
    return df.replace({"": pd.NA})


def _read_xlsx(raw: bytes, name: str) -> pd.DataFrame:
    try:
        df = pd.read_excel(io.BytesIO(raw), dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a broken archive
        raise InputError(
            f"could not read this Excel file ({type(exc).__name__}).",
            location=name,
            hint="Open it in Excel and save it again as .xlsx or CSV.",
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    df = df.dropna(how="all").astype("string")
    return df


def write_csv(df: pd.DataFrame, path: str | Path) -> None:
    """Write ``df`` as UTF-8, comma-separated CSV with a header row and ``\\n`` line ends."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
