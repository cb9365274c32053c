"""The report's PDF, rendered to PNG page by page: page count, no empty or heading-only
page, no raw ids, English column names, decimal points or developer paths (issue 13.4, 13.6).

Pages are rasterised with poppler's ``pdftoppm`` and their text read with ``pdftotext``
(Debian's poppler-utils, installed by scripts/test.sh); in CI their absence is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from calibrate.store import Store

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PAGES = (6, 30)            # the demo report: at least the main sections, at most the appendix's share
VERSLAG_PAGES = (1, 2)     # minutes for the examencommissie
MIN_WORDS = 40             # a page below this holds at most a heading and a sentence ...
MIN_FIGURE_INK = 0.04      # ... unless a figure fills it
MIN_INK = 0.002            # share of non-white pixels on any page
ITEM_ID = re.compile(r"\b[a-z]+\.[a-z_]+\.\d+\b|\b(?:fase|leerklimaat|afstemmen|leerstof|ict|ppi)\.[a-z_]+\b")
ENGLISH = re.compile(r"\b(?:lenient_rate|severe_rate|lenient_flagged|severe_flagged|n_units|ci_low|percent_agreement)\b")
DOT_DECIMAL = re.compile(r"(?<![\d.])\d\.\d{2,3}(?![\d.])")


def _tools():
    missing = [t for t in ("pdftoppm", "pdftotext") if shutil.which(t) is None]
    if missing:
        if IN_CI:
            pytest.fail(f"{', '.join(missing)} (poppler-utils) is required in CI")
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install poppler-utils)")


def pages(pdf: Path, png_dir: Path) -> list[dict]:
    """Per page: its text (pdftotext) and its ink ratio (pdftoppm at 40 dpi, grey)."""
    from PIL import Image

    png_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-png", str(pdf), str(png_dir / "p")], check=True)
    out = []
    for k, png in enumerate(sorted(png_dir.glob("p-*.png")), start=1):
        text = subprocess.run(["pdftotext", "-f", str(k), "-l", str(k), "-layout", str(pdf), "-"], check=True,
                              capture_output=True, text=True).stdout
        grey = np.asarray(Image.open(png).convert("L"), dtype=float)
        out.append({"page": k, "png": png, "text": text, "words": len(text.split()), "ink": float((grey < 200).mean())})
    return out


@pytest.fixture(scope="module")
def rendered(demo_workspace, tmp_path_factory):
    pytest.importorskip("weasyprint")
    _tools()
    from calibrate.report import write_report

    out = tmp_path_factory.mktemp("pdf")
    with Store.open(demo_workspace) as store:
        rapport = write_report(store, out / "rapport.pdf")
        verslag = write_report(store, out / "verslag.pdf", kind="verslag")
    keep = os.environ.get("CALIBRATE_REPORT_PNG_DIR")  # to look at the pages by hand
    base = Path(keep) if keep else out
    return {"rapport": pages(rapport, base / "rapport"), "verslag": pages(verslag, base / "verslag")}


@pytest.mark.parametrize("kind,bounds", [("rapport", PAGES), ("verslag", VERSLAG_PAGES)])
def test_page_count_and_no_empty_or_heading_only_page(rendered, kind, bounds):
    ps = rendered[kind]
    assert bounds[0] <= len(ps) <= bounds[1], f"{kind}: {len(ps)} pages"
    for p in ps:
        assert p["ink"] >= MIN_INK, f"{kind} page {p['page']} is empty"
        assert p["words"] >= MIN_WORDS or p["ink"] >= MIN_FIGURE_INK, \
            f"{kind} page {p['page']} holds only {p['words']} words: {p['text'].strip()[:80]!r}"


@pytest.mark.parametrize("kind", ["rapport", "verslag"])
def test_visible_text_is_dutch_with_names(rendered, kind):
    text = "\n".join(p["text"] for p in rendered[kind])
    assert not ITEM_ID.search(text), ITEM_ID.search(text).group(0)
    assert not ENGLISH.search(text), ENGLISH.search(text).group(0)
    assert not DOT_DECIMAL.search(text), DOT_DECIMAL.search(text).group(0)
    assert "docs/" not in text and ".md" not in text
    assert "6 juli 2026" in text and "2026-07-06" not in text


def test_report_shows_an_interval_for_every_kind_and_the_scale_once(rendered):
    text = "\n".join(p["text"] for p in rendered["rapport"])
    first = rendered["rapport"][0]["text"]
    for kind in ("indicator", "niveau", "fase", "oordeel", "besluit"):
        assert re.search(rf"^\s*{kind}\s.*\[−?\d,\d\d; −?\d,\d\d\]", first, re.M), kind
    assert text.count("Krippendorff (2004") == 1
    assert "Bijlage A" in text
    assert "Geen beperkingen" in first  # the demo's last session is revealed and complete
