"""The facilitator's notebook in a real browser: axe-core finds no serious or critical
WCAG 2.2 A/AA violation on its tabs (Voilà on loopback, Debian's Chromium via Playwright)."""

from __future__ import annotations

import shutil

import pytest
from browserkit import REPO, axe_violations, chromium, screenshot, voila

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = REPO / "notebooks" / "05_facilitator.ipynb"


@pytest.fixture(scope="module")
def page(demo_source, tmp_path_factory):
    root = tmp_path_factory.mktemp("facilitator-browser")
    ws = root / "ws"
    ws.mkdir()
    for f in demo_source.iterdir():
        if f.name.startswith("calibrate.sqlite") or f.name == "pseudonym.key":
            shutil.copy2(f, ws / f.name)
    with chromium() as browser, voila(NOTEBOOK, ws, root / "runtime", rater=None) as url:
        p = browser.new_page(viewport={"width": 1280, "height": 1000})
        p.set_default_timeout(60_000)
        p.goto(url, timeout=90_000)
        p.get_by_role("button", name="Vernieuwen", exact=True).wait_for(state="visible", timeout=90_000)
        yield p
        p.close()


def test_facilitator_page_is_dutch_and_axe_finds_nothing_serious(page):
    assert page.evaluate("document.documentElement.lang") == "nl"
    assert page.title() == "Facilitator \u2014 calibrate"
    found = {}
    for tab in ("Overzicht", "Consensus", "Nieuwe sessie"):
        page.get_by_role("tab", name=tab).click()
        v = axe_violations(page)
        if v:
            found[tab] = v
    screenshot(page, "facilitator-1280.png", width=1280)
    assert found == {}
