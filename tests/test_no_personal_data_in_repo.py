"""No e-mail address, phone number, student number or postcode in what we commit under
``notebooks/`` (cell sources and outputs) and ``data/``.

Nothing is whitelisted: fictional demo data must not match the patterns of
``calibrate.privacy.scan_text_for_personal_data``. A file this test cannot read as text
fails it, so that nothing slips through unscanned. Failures name file, place and kind,
with a masked preview, never the value found.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from calibrate.privacy import scan_text_for_personal_data

ROOT = Path(__file__).resolve().parent.parent
SCANNED_DIRS = ("notebooks", "data")
_SKIPPED_PARTS = {".ipynb_checkpoints", "__pycache__"}  # not committed (.gitignore)
# notebook output types that carry no text a person wrote: images, widget model ids
_BINARY_MIME_PREFIXES = ("image/", "application/vnd.jupyter.widget")


def _files(root: Path) -> list[Path]:
    return sorted(
        p for d in SCANNED_DIRS if (root / d).is_dir()
        for p in (root / d).rglob("*")
        if p.is_file() and not _SKIPPED_PARTS.intersection(p.relative_to(root).parts)
    )


def _notebook_texts(path: Path) -> Iterator[tuple[str, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb.get("cells", []), start=1):
        yield f"cell {i} source", _join(cell.get("source", ""))
        for j, output in enumerate(cell.get("outputs", []), start=1):
            where = f"cell {i} output {j}"
            if "text" in output:
                yield where, _join(output["text"])
            if "traceback" in output:
                yield where, "\n".join(output["traceback"])
            for mime, value in output.get("data", {}).items():
                if not mime.startswith(_BINARY_MIME_PREFIXES):
                    yield f"{where} ({mime})", value if isinstance(value, str) else (
                        _join(value) if isinstance(value, list) else json.dumps(value, ensure_ascii=False))
    yield "metadata", json.dumps(nb.get("metadata", {}), ensure_ascii=False)


def _join(source: str | list[str]) -> str:
    return source if isinstance(source, str) else "".join(source)


def _xlsx_texts(path: Path) -> Iterator[tuple[str, str]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    for ws in wb.worksheets:
        for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield f"sheet {ws.title!r} row {r}", "\t".join("" if v is None else str(v) for v in row)


def texts_of(path: Path) -> Iterator[tuple[str, str]]:
    """(place, text) pairs of everything readable in ``path``; raises on what is not."""
    if path.suffix == ".ipynb":
        yield from _notebook_texts(path)
    elif path.suffix in {".xlsx", ".xlsm"}:
        yield from _xlsx_texts(path)
    else:
        yield "", path.read_bytes().decode("utf-8-sig")  # a binary file fails here, loudly


def findings(root: Path) -> list[str]:
    out = []
    for path in _files(root):
        rel = path.relative_to(root)
        try:
            for place, text in texts_of(path):
                for hit in scan_text_for_personal_data(text):
                    where = ", ".join(x for x in (str(rel), place, f"line {hit.line}, column {hit.column}") if x)
                    out.append(f"{where}: {hit.label} ({hit.preview})")
        except (UnicodeDecodeError, json.JSONDecodeError, OSError, ValueError) as exc:
            out.append(f"{rel}: cannot be scanned as text ({type(exc).__name__}); "
                       "give it a reader in this test or keep it out of notebooks/ and data/")
    return out


def test_no_personal_data_in_notebooks_and_data():
    found = findings(ROOT)
    assert not found, "personal data patterns in committed files:\n" + "\n".join(found)


# --------------------------------------------------------------------------- the scan itself works


def _notebook(cells: list[dict]) -> str:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "notebooks" / "a.ipynb").write_text(_notebook([
        {"cell_type": "code", "source": ["x = 1\n", "mail = 'wpb@school.example.nl'\n"], "outputs": [
            {"output_type": "stream", "name": "stdout", "text": ["studentnummer 1012345\n"]},
            {"output_type": "execute_result", "data": {
                "text/plain": ["'06-12345678'"],
                "text/html": "<td>+31 6 12345678</td>",
                "image/png": "iVBORw0KGgo1234567",
            }},
        ]},
    ]), encoding="utf-8")
    (tmp_path / "data" / "cases.csv").write_text("case,text\nC1,Postcode 8011 AB Zwolle\n", encoding="utf-8")
    (tmp_path / "data" / "blob.bin").write_bytes(b"\x89PNG\xff\xfe")
    return tmp_path


def test_scan_finds_planted_data_in_sources_outputs_and_files(planted):
    found = findings(planted)
    joined = "\n".join(found)
    assert "cell 1 source, line 2" in joined and "e-mailadres" in joined
    assert "cell 1 output 1, line 1, column 15: studentnummer (9999999)" in joined
    assert "(text/plain)" in joined and "(text/html)" in joined
    assert "data/cases.csv, line 2" in joined and "postcode" in joined
    assert "data/blob.bin: cannot be scanned" in joined
    assert "image/png" not in joined
    for value in ("wpb@", "1012345", "12345678", "8011"):
        assert value not in joined  # findings show shapes, never values
    assert len(found) == 6
