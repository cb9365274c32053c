"""The scoring notebook in a real browser: Voilà on loopback, Debian's Chromium via Playwright.

In CI (``CI=true``) a missing Chromium or Playwright is a failure, not a skip. Screenshots
of the filled form go to ``test-artifacts/`` (gitignored) for the CI run to keep.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from calibrate.errors import AccessError
from calibrate.scoring import ScoringSession
from calibrate.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "01_scoren.ipynb"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
START_TIMEOUT_S = 60
IND = "leerklimaat.klassenmanagement.1"


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        _unavailable(f"playwright is not installed: {exc}")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def voila(ws: Path, tmp_path: Path, *, rater: str = "B01"):
    """Serve the scoring notebook with Voilà on 127.0.0.1 for ``rater`` on workspace ``ws``."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"CALIBRATE_DB", "CALIBRATE_SESSION", "CALIBRATE_CASE"}}
    env.update(CALIBRATE_WORKSPACE=str(ws), CALIBRATE_RATER=rater, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log_path = tmp_path / "voila.log"
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", str(NOTEBOOK), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"Voilà exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"Voilà did not listen within {START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # Voilà shuts its kernels down on SIGTERM
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def _open_form(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(START_TIMEOUT_S * 1000)
    page.goto(url, timeout=START_TIMEOUT_S * 1000)
    save = page.get_by_role("button", name="Opslaan", exact=True)
    save.wait_for(state="visible")  # the kernel has run the notebook and the form is there
    return page, save


def _screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.set_viewport_size({"width": 1280, "height": 2600})
    page.screenshot(path=str(path), full_page=True)
    return path


def test_score_an_indicator_save_and_read_back(browser, ws, upcoming, tmp_path):
    from playwright.sync_api import expect

    with voila(ws, tmp_path) as url:
        page, save = _open_form(browser, url)
        expect(page.get_by_text("0 van 3 casussen compleet")).to_be_visible()
        page.get_by_role("button", name="gezien", exact=True).first.click()
        page.get_by_placeholder("Bewijs (optioneel)").first.fill("Begroette iedere leerling bij de deur.")
        save.click()
        expect(page.get_by_text("Opgeslagen")).to_be_visible(timeout=30_000)
        shot = _screenshot(page, "scoring-form-filled.png")
        page.close()
    assert shot.stat().st_size > 10_000
    with Store.open(ws) as st:
        mine = st.rater_view("B01").my_scores(upcoming, "C01").set_index("item")
    assert mine.loc[IND, "value"] == "gezien"
    assert mine.loc[IND, "note"] == "Begroette iedere leerling bij de deur."
    assert len(mine) == 1


def test_unrevealed_session_shows_no_other_assessors_judgements(browser, ws, upcoming, tmp_path, fill_all):
    secret = "GEHEIM-B02"
    with Store.open(ws) as st:
        other = ScoringSession.open(st, "B02")
        form = other.form("C01")
        fill_all(form, note=f"{secret}: de student stond met de rug naar de klas.")
        form.set_value(IND, "niet gezien")
        assert other.save(form).complete
        with pytest.raises(AccessError):
            st.rater_view("B01").scores(upcoming)

    with voila(ws, tmp_path, rater="B01") as url:
        page, _save = _open_form(browser, url)
        body = page.inner_text("body")
        notes = page.eval_on_selector_all("input, textarea", "els => els.map(e => e.value).join(' ')")
        pressed = page.locator(".widget-toggle-button.mod-active").count()
        _screenshot(page, "scoring-form-blind.png")
        page.close()
    assert "Komende kalibreersessie" in body and "Blind scoren" in body
    assert "0 van 3 casussen compleet" in body  # B02's complete case is not B01's
    assert secret not in body and secret not in notes
    assert pressed == 0  # no choice shown that B01 did not make
