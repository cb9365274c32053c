"""Reading and writing the tables users exchange: CSV, Excel and Parquet.

Imports take what a Dutch Excel writes (semicolons, a byte-order mark, CRLF) and
``.xlsx``; exports are UTF-8, comma-separated, with a header row. Files are read in
chunks (:func:`read_chunks`), so a file of any size costs the memory of one chunk; the
CSV parser is Arrow's (``pyarrow.csv``), which reads each block in C and reports each
ragged row with its record number.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .errors import InputError

XLSX_MAGIC = b"PK\x03\x04"

CHUNK_ROWS = 200_000
"""Rows per chunk handed to an import: bounded memory, few round trips."""

_HEAD_BYTES = 1 << 20
_BLOCK_BYTES = 1 << 20


def read_table(path: str | Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV or ``.xlsx`` file into a DataFrame of strings (empty cells as NA).

    The delimiter (comma, semicolon or tab) is sniffed from the header line; a UTF-8
    BOM and Windows line ends are accepted; cp1252 is tried when the file is not UTF-8.
    Ragged rows (more or fewer cells than the header) are an error naming the row. The
    index is the spreadsheet row number minus 2 (the header is row 1).
    """
    header, chunks = read_chunks(path, sheet=sheet)
    parts = list(chunks)
    if not parts:
        return pd.DataFrame({h: pd.Series(dtype="string") for h in header})
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def read_chunks(path: str | Path, *, chunk_rows: int = CHUNK_ROWS,
                sheet: str | int | None = None) -> tuple[list[str], Iterator[pd.DataFrame]]:
    """The header of a CSV or ``.xlsx`` file and an iterator over its rows in chunks of
    at most ``chunk_rows`` (DataFrames of strings, empty cells NA, blank rows left out,
    index = spreadsheet row - 2). Problems with the file itself (missing, empty, binary,
    not text, bad quotes, a ragged row, an ``.xlsx`` that unpacks to too much or has data
    on more than one sheet without ``sheet`` saying which) raise :class:`InputError`
    naming file and row, never quoting its contents. UTF-16 text is read too. A cell
    that our export neutralised (``'=...``, see :mod:`calibrate.formula_guard`) is read
    back as it was; line breaks inside a quoted cell (LF, CRLF, a lone CR) are kept."""
    from .paths import check_input_file

    path = check_input_file(path)
    name = path.name
    if is_parquet(path):  # Parquet: typed columns, read batch by batch (read_parquet_chunks)
        return read_parquet_chunks(path, chunk_rows=chunk_rows)
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    if not head.strip() and not _has_text_beyond(path, len(head)):
        raise InputError("the file is empty.", location=name, hint="Export the table again with its header row.")
    if head.startswith(XLSX_MAGIC) or path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _xlsx_chunks(path, name, chunk_rows, sheet)
    encoding = _utf16(head)
    if encoding is None and b"\x00" in head[:4096]:
        raise InputError(
            "this is not a text (CSV) file: it holds binary data.",
            location=name,
            hint="Save the table as CSV (UTF-8) or .xlsx and import that.",
        )
    encoding = encoding or _encoding(path, name)
    return _csv_chunks(path, name, head, encoding, chunk_rows)


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def _utf16(head: bytes) -> str | None:
    """``utf-16`` when the file is UTF-16 text ("Unicode-tekst" as Excel saves it: a
    byte-order mark, tab-separated), also without a mark when every other byte of the
    start is zero; ``None`` otherwise. Decoded text with control characters is binary."""
    sample = head[:4096]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(sample) >= 8 and sample[1::2].count(0) > 0.9 * (len(sample) // 2) and sample[0::2].count(0) == 0:
        encoding = "utf-16-le"
    elif len(sample) >= 8 and sample[0::2].count(0) > 0.9 * (len(sample) // 2) and sample[1::2].count(0) == 0:
        encoding = "utf-16-be"
    else:
        return None
    text = sample[: len(sample) // 2 * 2].decode(encoding, errors="ignore")
    return None if _CONTROL_RE.search(text) else encoding


def _has_text_beyond(path: Path, offset: int) -> bool:
    with path.open("rb") as fh:
        fh.seek(offset)
        while block := fh.read(_BLOCK_BYTES):
            if block.strip():
                return True
    return False


def _encoding(path: Path, name: str) -> str:
    """``utf-8`` when the whole file decodes as UTF-8 (checked block by block), else
    ``cp1252``; neither is an error."""
    for encoding in ("utf-8", "cp1252"):
        dec = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as fh:
                while block := fh.read(_BLOCK_BYTES):
                    dec.decode(block)
                dec.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise InputError("the file is neither UTF-8 nor Windows-1252 text.", location=name, hint="Save it as CSV UTF-8.")


def _header(head: bytes, encoding: str, name: str) -> tuple[list[str], int, str]:
    """The header (first non-blank record), its record number and the delimiter."""
    text = head.decode(encoding, errors="ignore")
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [ln for ln in text.split("\n") if ln.strip()]
    if not lines:
        raise InputError("the file is empty.", location=name)
    counts = {d: lines[0].count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get) if max(counts.values()) > 0 else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"', strict=True)
    try:
        for number, row in enumerate(reader, start=1):
            if any(cell.strip() for cell in row):
                return [h.strip() for h in row], number, delimiter
    except csv.Error as exc:
        raise InputError(f"not valid CSV ({exc}).", location=f"{name}, row {reader.line_num}",
                         hint="Check the quotes on that row.") from None
    raise InputError("the file is empty.", location=name)


def _csv_chunks(path: Path, name: str, head: bytes, encoding: str, chunk_rows: int):
    from .formula_guard import restore_formula

    header, header_no, delimiter = _header(head, encoding, name)
    header = [restore_formula(h) for h in header]
    width = len(header)
    names = [f"c{i}" for i in range(width)]
    invalid: list[tuple[int, int, str]] = []

    def on_bad_row(row) -> str:
        invalid.append((row.number, row.actual_columns, row.text))
        return "skip"

    def chunks() -> Iterator[pd.DataFrame]:
        try:
            reader = pacsv.open_csv(
                str(path),
                read_options=pacsv.ReadOptions(use_threads=False, block_size=_BLOCK_BYTES, column_names=names,
                                               skip_rows=header_no, encoding=encoding),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                                 newlines_in_values=True, ignore_empty_lines=False,
                                                 invalid_row_handler=on_bad_row),
                convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False),
            )
        except pa.ArrowInvalid as exc:
            raise InputError(f"not valid CSV ({_arrow_message(exc)}).", location=name,
                             hint="Check the quotes and the separators of that row.") from None
        next_record = header_no + 1
        pending: list[pa.RecordBatch] = []
        pending_numbers: list[np.ndarray] = []
        n_pending = 0
        seen_invalid = 0
        blanks: set[int] = set()
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise InputError(f"not valid CSV ({_arrow_message(exc)}).", location=name,
                                 hint="Check the quotes and the separators of that row.") from None
            seen_invalid = _check_invalid(invalid, seen_invalid, blanks, delimiter, width, name)
            n = batch.num_rows
            if not any(b >= next_record for b in blanks):
                numbers = np.arange(next_record, next_record + n)
                next_record += n
            else:
                numbers = []
                while len(numbers) < n:
                    if next_record not in blanks:
                        numbers.append(next_record)
                    next_record += 1
                numbers = np.asarray(numbers, dtype=np.int64)
            while next_record in blanks:
                next_record += 1
            pending.append(batch)
            pending_numbers.append(numbers)
            n_pending += batch.num_rows
            if n_pending >= chunk_rows:
                yield _frame(pending, pending_numbers, header)
                pending, pending_numbers, n_pending = [], [], 0
        _check_invalid(invalid, seen_invalid, blanks, delimiter, width, name)
        if n_pending:
            yield _frame(pending, pending_numbers, header)

    return header, chunks()


def _check_invalid(invalid: list, seen: int, blanks: set, delimiter: str, width: int, name: str) -> int:
    """Rows the parser set aside: blank ones are skipped (their numbers noted), any other
    is a ragged row, an error naming it. Returns how many have been looked at."""
    for number, cells, text in invalid[seen:]:
        if text.replace(delimiter, "").strip():
            raise InputError(
                f"this row has {cells} cells but the header has {width}.",
                location=f"{name}, row {number}",
                hint=f"Each row needs exactly one cell per column (separator {delimiter!r}); "
                     "check for a stray separator or a missing cell.",
            )
        blanks.add(number)
    return len(invalid)


def _arrow_message(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    return text.replace("CSV parse error: ", "")[:200]


def _frame(batches: list[pa.RecordBatch], numbers: list, header: list[str]) -> pd.DataFrame:
    """Arrow batches as a DataFrame of strings: empty cells NA, line breaks inside a value
    as they are, cells our export neutralised restored, blank rows dropped, index =
    record number - 2."""
    table = pa.Table.from_batches(batches)
    idx = np.concatenate(numbers) if numbers else np.zeros(0, dtype=np.int64)
    cols = []
    blank = None
    for col in table.columns:
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        col = _restored(col)
        empty = pc.equal(pc.utf8_trim_whitespace(col), "")
        blank = empty if blank is None else pc.and_(blank, empty)
        cols.append(pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col))
    keep = pc.invert(blank) if blank is not None else None
    df = pd.DataFrame({i: pd.arrays.ArrowStringArray(c.cast(pa.large_string())) for i, c in enumerate(cols)})
    df.columns = header
    df.index = pd.Index(idx - 2)
    if keep is not None and not pc.all(keep).as_py():
        df = df[keep.to_numpy(zero_copy_only=False)]
    return _as_string(df)


def _restored(col: pa.Array) -> pa.Array:
    """Cells starting with ``'`` through :func:`calibrate.formula_guard.restore_formula`
    (only the few that start so are looked at)."""
    quoted = pc.starts_with(col, "'")
    if not pc.any(quoted).as_py():
        return col
    from .formula_guard import restore_formula

    values = col.to_pylist()
    for i in np.flatnonzero(quoted.to_numpy(zero_copy_only=False)):
        values[i] = restore_formula(values[i])
    return pa.array(values, type=col.type)


def _as_string(df: pd.DataFrame) -> pd.DataFrame:
    """Every column as pandas ``string`` (Arrow- or Python-backed, as pandas prefers)."""
    return df.astype("string")


#: an ``.xlsx`` is a zip archive of XML; what it may unpack to (bytes) and by how much it
#: may be compressed on average before it is refused unread (a "zip bomb": 4 MB that
#: unpacks to 926 MB of XML and keeps openpyxl busy for minutes). Real score workbooks
#: compress 5-20 times.
XLSX_MAX_UNPACKED = 256 << 20
XLSX_MAX_RATIO = 100
_XLSX_RATIO_FLOOR = 16 << 20  # below this many unpacked bytes the ratio does not matter


def _xlsx_error(exc: Exception, name: str) -> InputError:
    return InputError(f"could not read this Excel file ({type(exc).__name__}).", location=name,
                      hint="Open it in Excel and save it again as .xlsx or CSV.")


def _check_xlsx_size(path: Path, name: str) -> None:
    """Refuse an archive that would unpack to more than :data:`XLSX_MAX_UNPACKED` or is
    compressed more than :data:`XLSX_MAX_RATIO` times (declared sizes: zipfile never
    unpacks more than an entry declares, its CRC check fails instead)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"could not read this Excel file ({type(exc).__name__}).", location=name,
                         hint="Open it in Excel and save it again as .xlsx or CSV.") from None
    unpacked = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if unpacked > XLSX_MAX_UNPACKED or (unpacked > _XLSX_RATIO_FLOOR and unpacked / packed > XLSX_MAX_RATIO):
        raise InputError(
            f"this Excel file unpacks to {unpacked / 2**20:,.0f} MB ({unpacked / packed:,.0f} times its size); "
            f"calibrate reads .xlsx files up to {XLSX_MAX_UNPACKED >> 20} MB unpacked and refused it unread.",
            location=name,
            hint="Save the table as CSV (UTF-8) instead: CSV files of any size are read in chunks.",
        )


def _has_data(sheet, rows: int = 50) -> bool:
    from itertools import islice

    return any(v is not None and str(v).strip() for row in islice(sheet.iter_rows(values_only=True), rows) for v in row)


def _pick_sheet(book, name: str, sheet: str | int | None):
    """The sheet to read: the one asked for (name or 1-based number), else the only
    sheet with data; data on more than one sheet is an error naming them by number
    (a sheet's name may be a person's)."""
    sheets = book.worksheets
    if sheet is not None:
        if isinstance(sheet, int) or str(sheet).isdigit():
            k = int(sheet)
            if 1 <= k <= len(sheets):
                return sheets[k - 1]
        else:
            for ws in sheets:
                if ws.title == sheet:
                    return ws
        raise InputError(f"the workbook has no sheet {sheet!r} (it has {len(sheets)} sheet(s)).", location=name,
                         hint=f"Give a sheet number from 1 to {len(sheets)}.")
    if len(sheets) == 1:
        return sheets[0]
    with_data = [k for k, ws in enumerate(sheets, start=1) if _has_data(ws)]
    if len(with_data) > 1:
        raise InputError(
            f"the workbook has data on {len(with_data)} sheets (sheets {', '.join(map(str, with_data))}); "
            "calibrate reads one table per file and does not guess which.",
            location=name,
            hint="Choose one with --sheet NUMBER (or NAME), or save the sheet to import as its own file.",
        )
    return sheets[with_data[0] - 1] if with_data else sheets[0]


def _xlsx_chunks(path: Path, name: str, chunk_rows: int, sheet: str | int | None = None):
    from .formula_guard import restore_formula

    _check_xlsx_size(path, name)
    try:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a broken archive: zipfile, XML and openpyxl raise many types
        raise InputError(
            f"could not read this Excel file ({type(exc).__name__}).",
            location=name,
            hint="Open it in Excel and save it again as .xlsx or CSV.",
        ) from None
    try:
        ws = _pick_sheet(book, name, sheet)
    except InputError:
        book.close()
        raise
    except Exception as exc:
        book.close()
        raise _xlsx_error(exc, name) from None
    try:
        rows = ws.iter_rows(values_only=True)
        header = None
        header_no = 0
        for header_no, row in enumerate(rows, start=1):
            if any(v is not None and str(v).strip() for v in row):
                header = [restore_formula(_xlsx_unescape(str(v)).strip()) if v is not None else "" for v in row]
                break
    except Exception as exc:  # a broken archive: zipfile, XML and openpyxl raise many types
        book.close()
        raise _xlsx_error(exc, name) from None
    if header is None:
        book.close()
        raise InputError("the file is empty.", location=name, hint="Export the table again with its header row.")
    while header and header[-1] == "":
        header.pop()
    width = len(header)

    def chunks() -> Iterator[pd.DataFrame]:
        buf: list[tuple] = []
        index: list[int] = []
        try:
            for number, row in enumerate(rows, start=header_no + 1):
                cells = [None if v is None else restore_formula(_xlsx_unescape(str(v))) for v in row[:width]]
                cells += [None] * (width - len(cells))
                if all(c is None for c in cells):
                    continue
                buf.append(tuple(cells))
                index.append(number - 2)
                if len(buf) >= chunk_rows:
                    yield _as_string(pd.DataFrame(buf, columns=header, index=index, dtype=object))
                    buf, index = [], []
            if buf:
                yield _as_string(pd.DataFrame(buf, columns=header, index=index, dtype=object))
        except InputError:
            raise
        except Exception as exc:  # damaged further in (a bad CRC, broken XML)
            raise _xlsx_error(exc, name) from None
        finally:
            book.close()

    return header, chunks()


def write_csv(df: pd.DataFrame, path: str | Path, *, neutralise: bool = True) -> None:
    """Write ``df`` as UTF-8, comma-separated CSV with a header row and ``\\n`` line ends.

    Text cells that a spreadsheet would run as a formula are neutralised
    (:func:`calibrate.formula_guard.neutralise_frame`; our import restores them). A cell
    with a carriage return makes every cell quoted, so a lone CR inside a note survives
    (pandas quotes only what holds the separator, a quote or the line end ``\\n``)."""
    from .formula_guard import neutralise_frame

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if neutralise:
        df = neutralise_frame(df)
    quoting = csv.QUOTE_ALL if _has_cr(df) else csv.QUOTE_MINIMAL
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", quoting=quoting)


def _has_cr(df: pd.DataFrame) -> bool:
    for col in df.columns:
        series = df[col]
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            if series.astype("string").str.contains("\r", regex=False).any():
                return True
    return any("\r" in str(c) for c in df.columns)


_XLSX_ESCAPED_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_XLSX_NEEDS_ESCAPE_RE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b\x0c\x0d\x0e-\x1f]")


def _xlsx_escape(text: str) -> str:
    """Text for an ``.xlsx`` cell as Excel writes it (OOXML ``ST_Xstring``): a carriage
    return and the control characters XML cannot hold as ``_x000D_``, and a literal
    ``_xHHHH_`` with its underscore escaped (``_x005F_``), so nothing is lost."""
    return _XLSX_NEEDS_ESCAPE_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def _xlsx_unescape(text: str) -> str:
    """The inverse of :func:`_xlsx_escape` (also for files Excel wrote)."""
    return _XLSX_ESCAPED_RE.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def write_xlsx(df: pd.DataFrame, path: str | Path) -> None:
    """Write ``df`` as one ``.xlsx`` sheet, every text cell stored as text and neutralised
    (openpyxl would store a string that starts with ``=`` as a formula)."""
    from openpyxl import Workbook

    from .formula_guard import neutralise_frame

    df = neutralise_frame(df)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("calibrate")
    sheet.append([_xlsx_escape(str(c)) for c in df.columns])
    for row in df.astype(object).where(df.notna(), None).itertuples(index=False, name=None):
        sheet.append([_xlsx_escape(v) if isinstance(v, str) else v for v in row])
    book.save(str(path))


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """:func:`write_xlsx` for a ``.xlsx`` path, :func:`write_parquet` for ``.parquet``, :func:`write_csv` otherwise."""
    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        write_xlsx(df, path)
    elif suffix in (".parquet", ".pq"):
        write_parquet(df, path)
    else:
        write_csv(df, path)


# ---------------------------------------------------------------------------- Parquet
PARQUET_MAGIC = b"PAR1"

#: Arrow types of the contract's columns in a Parquet export (every other column: string)
PARQUET_TYPES = {"session_date": pa.date32(), "scored_at": pa.timestamp("us", tz="UTC")}


def is_parquet(path: str | Path) -> bool:
    """``True`` for a ``.parquet`` / ``.pq`` name or a file that starts with Parquet's magic."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(4) == PARQUET_MAGIC
    except OSError:
        return False


def read_parquet_chunks(path: str | Path, *, chunk_rows: int = CHUNK_ROWS) -> tuple[list[str], Iterator[pd.DataFrame]]:
    """The column names of a Parquet file and an iterator over its rows in chunks of at
    most ``chunk_rows``, in the form :func:`read_chunks` gives for CSV: DataFrames of
    strings, empty cells NA. Dates become ``YYYY-MM-DD``, timestamps ISO 8601 (naive ones
    are taken as UTC), integers their digits; rows are numbered from 1 in the file (the
    index is that number - 2, so messages about "row N" mean the N-th record). A file that
    is not Parquet, or a column of a type a score table cannot hold (floats with a
    fraction, booleans, lists, ...), raises :class:`InputError` naming file and column."""
    import pyarrow.parquet as pq

    path = Path(path)
    name = path.name
    if not path.exists():
        raise InputError("file not found.", location=str(path), hint="Check the path.")
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"could not read this Parquet file ({_arrow_message(exc)}).", location=name,
                         hint="Write it again (e.g. pandas DataFrame.to_parquet) or export the table as CSV.") from None
    header = [str(n) for n in schema.names]
    for field in schema:
        _parquet_text_type(field.type, name, field.name)

    def chunks() -> Iterator[pd.DataFrame]:
        start = 0
        try:
            batches = pf.iter_batches(batch_size=chunk_rows, use_threads=False)
            for batch in batches:
                cols = {i: _parquet_text(batch.column(i), name, f.name) for i, f in enumerate(schema)}
                df = pd.DataFrame({i: pd.arrays.ArrowStringArray(c) for i, c in cols.items()})
                df.columns = header
                df.index = pd.RangeIndex(start - 1, start - 1 + batch.num_rows)
                start += batch.num_rows
                yield _as_string(df)
        except pa.ArrowException as exc:
            raise InputError(f"could not read this Parquet file after row {start} ({_arrow_message(exc)}).",
                             location=name, hint="The file is damaged or cut off; write it again.") from None
        finally:
            pf.close()

    return header, chunks()


def _parquet_text_type(typ: pa.DataType, name: str, column: str) -> None:
    """Refuse a column type that is not text, a date, a timestamp or an integer."""
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    ok = (pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_integer(typ)
          or pa.types.is_floating(typ) or pa.types.is_date(typ) or pa.types.is_timestamp(typ)
          or pa.types.is_null(typ) or getattr(pa.types, "is_string_view", lambda t: False)(typ))
    if not ok:
        raise InputError(
            f"column {column!r} holds {typ}, which a score table cannot hold.",
            location=name,
            hint="Every column is text (the category code as written in CONTRACTS §1), "
                 "except session_date (a date) and scored_at (a timestamp).",
        )


def _parquet_text(col: pa.Array, name: str, column: str) -> pa.Array:
    """One Parquet column as large strings (None stays None)."""
    typ = col.type
    if pa.types.is_dictionary(typ):
        col = col.dictionary_decode()
        typ = col.type
    if pa.types.is_date(typ):
        out = col.cast(pa.date32()).cast(pa.string())
    elif pa.types.is_timestamp(typ):
        if typ.tz is None:
            col = col.cast(pa.timestamp(typ.unit, tz="UTC"))
        out = pc.strftime(col, format="%Y-%m-%dT%H:%M:%S%z")
    elif pa.types.is_floating(typ):
        whole = pc.equal(col, pc.floor(col))
        if not pc.all(pc.or_kleene(whole, pc.is_null(col))).as_py():
            raise InputError(f"column {column!r} holds numbers with a fraction ({typ}).", location=name,
                             hint="Write the category codes as text or whole numbers.")
        out = col.cast(pa.int64()).cast(pa.string())
    else:
        out = col.cast(pa.string())
    return out.cast(pa.large_string())


def write_parquet(df: pd.DataFrame, path: str | Path) -> None:
    """Write a contract table as Parquet: ``session_date`` as a date, ``scored_at`` as a
    UTC timestamp (microseconds), every other column as text; all or nothing (written to
    a temporary file beside ``path``, then renamed)."""
    import os

    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays, fields = [], []
    for col in df.columns:
        typ = PARQUET_TYPES.get(col, pa.string())
        values = df[col].astype("string").astype(object).where(df[col].notna(), None)
        if col == "session_date":
            arr = pa.array(pd.to_datetime(values, format="ISO8601")).cast(pa.timestamp("s")).cast(typ)
        elif col == "scored_at":
            arr = pa.array(pd.to_datetime(values, format="ISO8601", utc=True)).cast(typ)
        else:
            arr = pa.array(values.tolist(), type=typ)
        arrays.append(arr)
        fields.append(pa.field(str(col), typ))
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    tmp = path.with_name(f".{path.name}.part")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
