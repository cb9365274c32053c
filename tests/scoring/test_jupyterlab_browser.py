"""The scoring notebook also runs in JupyterLab (CONTRACTS §5): the same widget, saved by itself."""

from __future__ import annotations

import re
import shutil

import pytest
from browserkit import chromium, jupyterlab

from calibrate.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_form_runs_and_autosaves_in_jupyterlab(demo_source, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    for f in demo_source.iterdir():
        if f.name.startswith("calibrate.sqlite") or f.name == "pseudonym.key":
            shutil.copy2(f, ws / f.name)
    with chromium() as browser, jupyterlab(ws, tmp_path / "runtime") as url:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(90_000)
        page.goto(f"{url}lab/tree/notebooks/01_scoren.ipynb", timeout=90_000)
        page.locator(".jp-Notebook").first.wait_for()
        page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).first.wait_for()  # the kernel is up
        page.get_by_text("Run", exact=True).first.click()
        page.locator("li[data-command='runmenu:run-all']").click()
        page.get_by_role("button", name="Opslaan", exact=True).wait_for(state="visible")
        radio = page.get_by_role("radiogroup").first.get_by_role("radio", name="gezien", exact=True)
        radio.click()
        page.get_by_role("status").filter(has_text=re.compile(r"^Opgeslagen om \d\d:\d\d")).wait_for(timeout=10_000)
        assert radio.get_attribute("aria-checked") == "true"
        page.close()
    with Store.open(ws) as st:
        session = next(s for s in st.sessions()["session"] if s.startswith("K05"))
        mine = st.rater_view("B01").my_scores(session, "C01").set_index("item")
    assert mine.loc["leerklimaat.klassenmanagement.1", "value"] == "gezien"
