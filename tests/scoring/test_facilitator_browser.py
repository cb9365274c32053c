"""The facilitator's notebook in a real browser (Voilà on loopback, Debian's Chromium via
Playwright): a whole meeting on one copy of the demo workspace.

One Voilà server and one page serve the module; the tests run in the order of a meeting
(set-up → progress → reveal → discussion with notes → consensus → what is open → re-score
round → presentation), each checking the store after what it did, axe-core on every screen
(no serious or critical WCAG 2.2 A/AA violation), no cut label and no sideways scrolling at
1280 and 390 px, screenshots in ``test-artifacts/``. In CI (``CI=true``) a missing Chromium
or Playwright is a failure, not a skip.
"""

from __future__ import annotations

import base64

import re
import shutil

import pytest

from calibrate.scoring import ScoringSession
from calibrate.store import Store
from browserkit import REPO, axe_violations, chromium, cut_labels, horizontal_overflow, screenshot, voila

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = REPO / "notebooks" / "05_facilitator.ipynb"
IND = "leerklimaat.klassenmanagement.1"
LEVEL = "leerklimaat.niveau"
NOTE_B02 = "Twee leerlingen achterin praatten door de instructie heen; de student liep er niet heen."
REASON_KEYS = "Regels stonden op het bord en de student benoemde ze bij binnenkomst."
REASON_MOUSE = "Routinematig in een herkenbare situatie, met onderbouwing uit het nagesprek."


IND3 = "leerklimaat.klassenmanagement.3"
PHASE = "fase.opbouw_van_routines"
LEVELS = {"B01": "3", "B02": "4", "B03": "4", "B04": "3", "B05": "4", "B06": "5"}


def _score(form, rater: str) -> None:
    """Mostly agreeing, as a team does: every item its first choice, a few differences, notes."""
    for item in form.assessable_items:
        form.set_value(item.id, form.choices(item.id)[0])
    form.set_value(LEVEL, LEVELS[rater])
    if rater == "B02":
        form.set_value(IND, "niet gezien")
        form.set_note(IND, NOTE_B02)
    if rater in ("B02", "B05"):
        form.set_value(IND3, "niet gezien")
    if rater == "B04":
        form.set_note(IND, "Stond bij de deur en begroette iedere leerling bij naam.")
    if rater == "B01":
        form.set_value(PHASE, "groei")


@pytest.fixture(scope="module")
def meeting(demo_source, tmp_path_factory):
    """(page, workspace, session): the facilitator's page on a copy of the demo in which the
    assessors of the upcoming session have scored case C01 (B02 differently, with a note)."""
    root = tmp_path_factory.mktemp("facilitator-browser")
    ws = root / "ws"
    ws.mkdir()
    for f in demo_source.iterdir():
        if f.name.startswith("calibrate.sqlite") or f.name == "pseudonym.key":
            shutil.copy2(f, ws / f.name)
    with Store.open(ws) as st:
        session = str(st.sessions()["session"].iloc[-1])
        assert not st.is_revealed(session)
        for rater in st.session_raters(session):
            s = ScoringSession.open(st, rater, session)
            form = s.form("C01")
            _score(form, rater)
            s.save(form)
    with chromium() as browser, voila(NOTEBOOK, ws, root / "runtime", rater=None) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(60_000)
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url, timeout=90_000)
        page.get_by_role("button", name="1. Sessie opzetten", exact=True).wait_for(state="visible", timeout=90_000)
        page.js_errors = errors
        yield page, ws, session
        page.close()


def _store(ws):
    return Store.open(ws)


def _check_screen(page, name: str) -> None:
    """axe at 1280 px; screenshots at 1280 and 390 px; nothing cut or scrolling sideways at 390 px."""
    found = axe_violations(page)
    screenshot(page, f"facilitator-{name}-1280.png", width=1280)
    screenshot(page, f"facilitator-{name}-390.png", width=390)
    page.set_viewport_size({"width": 390, "height": 900})
    narrow = horizontal_overflow(page), cut_labels(page)
    found_narrow = axe_violations(page)
    page.set_viewport_size({"width": 1280, "height": 1000})
    assert found == [] and found_narrow == [], f"{name}: {found + found_narrow}"
    assert narrow == ([], []), f"{name} at 390 px: {narrow}"
    assert page.js_errors == []


def _screen(page, label: str):
    page.get_by_role("button", name=re.compile(rf"^\d\. {label}")).click()


def _item(page, item: str):
    return page.locator(f'article.cal-item[data-item="{item}"]')


def test_page_is_dutch(meeting):
    page, _ws, session = meeting
    assert page.evaluate("document.documentElement.lang") == "nl"
    assert page.title() == "Facilitator \u2014 calibrate"
    assert session in page.locator(".cal-head h2").inner_text()


def test_setup_with_titles_checkboxes_search_and_a_dutch_date(meeting):
    page, ws, session = meeting
    _screen(page, "Sessie opzetten")
    setup = page.locator('section.cal-screen[data-screen="setup"]')
    cases = setup.locator('fieldset[data-list="cases"]')
    assert "C03 \u2014 Uitleg breuken in 1 vwo" in cases.inner_text()  # titles, not bare ids
    cases.get_by_role("searchbox").fill("breuken")
    visible = cases.locator("li:visible")
    assert visible.count() == 1
    box = cases.get_by_role("checkbox", name=re.compile("C03"))
    box.focus()
    page.keyboard.press("Space")  # a checkbox by keyboard: nothing needs Ctrl-click
    assert box.is_checked() and "(1 gekozen)" in cases.locator("legend").inner_text()
    cases.get_by_role("searchbox").fill("")
    cases.get_by_text("Startopdracht in 2 havo").click()  # the label is the click target
    raters = setup.locator('fieldset[data-list="raters"]')
    raters.get_by_role("checkbox", name=re.compile("B01")).check()
    raters.get_by_role("checkbox", name=re.compile("B04")).check()
    setup.get_by_label("Datum").fill("2-11-2026")
    # a session name with personal data: refused in Dutch, the value masked, nothing created
    setup.get_by_label("Naam van de sessie").fill("K09 jan.devries@student.han.nl")
    setup.get_by_role("button", name="Sessie aanmaken…").click()
    said = setup.get_by_text(re.compile("lijkt persoonsgegevens te bevatten"))
    said.wait_for()
    assert "De naam van de sessie" in said.inner_text() and "devries" not in setup.inner_text()
    assert setup.get_by_role("button", name="Ja, sessie aanmaken").count() == 0  # no way to confirm it
    with _store(ws) as st:
        assert not any("devries" in s for s in st.sessions()["session"])
    _check_screen(page, "opzetten-persoonsgegevens")
    setup.locator(".cal-confirm").get_by_role("button", name="Terug").click()
    setup.locator(".cal-confirm").wait_for(state="detached")
    setup.get_by_label("Naam van de sessie").fill("K09-2026-11")
    setup.get_by_role("button", name="Sessie aanmaken…").click()
    confirm = setup.locator(".cal-confirm")
    confirm.wait_for()
    text = confirm.inner_text()
    assert "Sessie K09-2026-11 aanmaken?" in text and "2 november 2026" in text
    assert "C03 \u2014 Uitleg breuken in 1 vwo" in text and "B01, B04" in text
    with _store(ws) as st:
        assert "K09-2026-11" not in set(st.sessions()["session"])  # nothing yet: it waits for the confirmation
    _check_screen(page, "opzetten")
    confirm.get_by_role("button", name="Ja, sessie aanmaken").click()
    page.get_by_text("Sessie K09-2026-11 is aangemaakt").wait_for()
    with _store(ws) as st:
        row = st.sessions().set_index("session").loc["K09-2026-11"]
        assert str(row["session_date"])[:10] == "2026-11-02" and not row["revealed"]
        assert st.session_cases("K09-2026-11") == ["C01", "C03"] and st.session_raters("K09-2026-11") == ["B01", "B04"]
    page.get_by_label("Kalibreersessie", exact=True).select_option(session)  # back to the meeting's session
    page.locator(".cal-head h2", has_text=session).wait_for()


def test_progress_counts_only_then_reveal_after_confirmation(meeting):
    page, ws, session = meeting
    _screen(page, "Voortgang")
    progress = page.locator('section.cal-screen[data-screen="progress"]')
    table = progress.locator("table.cal-table")
    table.wait_for()
    row = table.locator("tr", has_text="B02")
    assert "1 van 3" in row.inner_text()
    assert re.search(r"\d{1,2} [a-z]+ \d{4} om \d\d:\d\d", row.inner_text())  # Dutch time, not ISO
    assert NOTE_B02 not in page.locator("body").inner_text()  # blind: counts only
    _check_screen(page, "voortgang")
    progress.get_by_role("button", name="Onthullen…").click()
    confirm = progress.locator(".cal-confirm")
    confirm.wait_for()
    assert "sluit de blinde ronde" in confirm.inner_text() and "Nog niet klaar" in confirm.inner_text()
    with _store(ws) as st:
        assert not st.is_revealed(session)  # one click does nothing yet
    confirm.get_by_role("button", name="Ja, onthullen").click()
    progress.get_by_text(f"Sessie {session} is onthuld").wait_for()
    with _store(ws) as st:
        assert st.is_revealed(session)


def test_discussion_shows_the_note_and_records_consensus_by_keyboard_and_mouse(meeting):
    page, ws, session = meeting
    _screen(page, "Bespreking")
    disc = page.locator('section.cal-screen[data-screen="discussion"]')
    disc.locator("h3", has_text="C01 \u2014 Startopdracht in 2 havo").wait_for()
    first = disc.locator("article.cal-item").first
    assert first.locator(".cal-badge").inner_text().startswith("verschil")  # most disputed first
    art = _item(page, IND)
    assert NOTE_B02 in art.inner_text() and "B02" in art.locator(".cal-notelist").inner_text()
    assert "niet gezien" in art.locator(".cal-counts").inner_text()
    assert "Klassenmanagement" in art.locator("xpath=ancestor::div[contains(@class,'cal-dgroup')]").locator("h5").inner_text()
    _check_screen(page, "bespreking")

    # by keyboard: from the reason field back to the choice, arrows choose, Tab on, Enter records
    reason = art.get_by_label("Reden: wat de groep afsprak en waarom")
    reason.focus()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.getAttribute('role')") == "radio"
    page.keyboard.press("Home")  # gezien
    assert art.get_by_role("radio", name="gezien", exact=True).get_attribute("aria-checked") == "true"
    page.keyboard.press("Tab")
    page.keyboard.type(REASON_KEYS)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Consensus vastleggen"
    page.keyboard.press("Enter")
    art.locator(".cal-item-status", has_text="Vastgelegd om").wait_for()
    # by mouse: a level, chosen by its descriptor cell
    lvl = _item(page, LEVEL)
    lvl.get_by_role("radio", name=re.compile("^4 bekwaam")).click()
    lvl.get_by_label("Reden: wat de groep afsprak en waarom").fill(REASON_MOUSE)
    lvl.get_by_role("button", name="Consensus vastleggen").click()
    lvl.locator(".cal-item-status", has_text="Vastgelegd om").wait_for()
    with _store(ws) as st:
        cons = st.consensus(session)
        cons = cons[cons["case"] == "C01"].set_index("item")
        assert cons.loc[IND, "value"] == "gezien" and cons.loc[IND, "note"] == REASON_KEYS
        assert cons.loc[LEVEL, "value"] == "4" and cons.loc[LEVEL, "note"] == REASON_MOUSE
    assert "Consensus: gezien" in art.locator(".cal-agreed").inner_text()


def test_open_list_and_rescore_round_after_confirmation(meeting):
    page, ws, session = meeting
    _screen(page, "Nog open")
    scr = page.locator('section.cal-screen[data-screen="open"]')
    scr.locator(".cal-open-case").first.wait_for()
    text = scr.inner_text()
    assert "zonder consensus" in text and "C02" in text
    assert "Niet compleet in de blinde ronde" in text
    _check_screen(page, "nog-open")
    box = scr.locator(".cal-rescore")
    box.locator('fieldset[data-list="rescore-cases"]').get_by_role("checkbox", name=re.compile("C03")).uncheck()
    box.get_by_role("button", name="Herbeoordelingsronde openen…").click()
    confirm = scr.locator(".cal-confirm")
    confirm.wait_for()
    t = confirm.inner_text()
    new = f"{session}-R2"
    assert f"Herbeoordelingsronde {new} openen?" in t and "2 casussen: C01" in t and "6 beoordelaars: B01" in t
    with _store(ws) as st:
        assert new not in set(st.sessions()["session"])
    confirm.get_by_role("button", name="Ja, ronde openen").click()
    scr.get_by_text(f"Herbeoordelingsronde {new} is geopend").wait_for()
    with _store(ws) as st:
        row = st.sessions().set_index("session").loc[new]
        assert row["parent"] == session and not row["revealed"]
        assert st.session_cases(new) == ["C01", "C02"]


def test_the_kalibratieverslag_is_made_in_the_browser(meeting):
    page, ws, session = meeting
    _screen(page, "Nog open")
    scr = page.locator('section.cal-screen[data-screen="open"]')
    box = scr.locator(".cal-verslag")
    box.get_by_role("button", name="Kalibratieverslag maken").click()
    link = box.get_by_role("link", name="Kalibratieverslag openen")
    link.wait_for(timeout=120_000)
    assert link.get_attribute("download") == f"kalibratieverslag-{session}.html"
    href = link.get_attribute("href")
    assert href.startswith("data:text/html;charset=utf-8;base64,")
    html = base64.b64decode(href.split(",", 1)[1]).decode("utf-8")
    assert "Kalibratieverslag" in html and "Traceback" not in html
    scr.get_by_text("is gemaakt").wait_for()


def test_presentation_mode(meeting):
    page, _ws, _session = meeting
    page.get_by_role("button", name="Presentatie", exact=True).click()
    page.locator(".cal-present").wait_for()
    disc = page.locator('section.cal-screen[data-screen="discussion"]')
    disc.locator("h3", has_text="C01").wait_for()
    assert page.locator(".cal-consensus:visible").count() == 0  # no editing chrome
    assert float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('.cal-facil')).fontSize)")) >= 22
    assert NOTE_B02 in _item(page, IND).inner_text()
    _check_screen(page, "presentatie")
    page.locator(".cal-head h2").click()
    page.keyboard.press("PageDown")  # a presenter's clicker
    disc.locator("h3", has_text="C02").wait_for()
    page.get_by_role("button", name="Presentatie sluiten").click()
    page.locator(".cal-present").wait_for(state="detached")
