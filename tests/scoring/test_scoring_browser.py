"""The scoring notebook in a real browser: Voilà on loopback, Debian's Chromium via Playwright.

One Voilà server (preheated kernels, as ``voila.json`` sets them) serves the whole module on
one copy of the demo workspace, as assessor B01; each test works on its own case. In CI
(``CI=true``) a missing Chromium or Playwright is a failure, not a skip. Screenshots at 1280
and 390 px go to ``test-artifacts/`` (gitignored) for the CI run to keep.
"""

from __future__ import annotations

import re
import shutil
from urllib.request import urlopen

import pytest

from calibrate.errors import AccessError
from calibrate.scoring import ScoringSession
from calibrate.store import Store
from browserkit import (REPO, axe_violations, chromium, cut_labels, horizontal_overflow, screenshot,
                        voila)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = REPO / "notebooks" / "01_scoren.ipynb"
IND = "leerklimaat.klassenmanagement.1"
SECRET = "GEHEIM-B02"
SAVED = re.compile(r"^Opgeslagen om \d\d:\d\d")  # case-sensitive: not the "nog niet bewaard" line


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def server(demo_source, tmp_path_factory, fill_all_module):
    """(url, workspace): Voilà for B01 on a private copy of the demo; B02 has scored C01 fully
    (with a secret in every note) before the first page is opened."""
    root = tmp_path_factory.mktemp("scoring-browser")
    ws = root / "ws"
    ws.mkdir()
    for f in demo_source.iterdir():
        if f.name.startswith("calibrate.sqlite") or f.name == "pseudonym.key":
            shutil.copy2(f, ws / f.name)
    with Store.open(ws) as st:
        other = ScoringSession.open(st, "B02")
        form = other.form("C01")
        fill_all_module(form, note=f"{SECRET}: de student stond met de rug naar de klas.")
        form.set_value(IND, "niet gezien")
        assert other.save(form).complete
        with pytest.raises(AccessError):
            st.rater_view("B01").scores(other.session)
    with voila(NOTEBOOK, ws, root / "runtime") as url:
        yield url, ws


@pytest.fixture(scope="module")
def fill_all_module():
    def _fill(form, *, note=None):
        for item in form.assessable_items:
            form.set_value(item.id, form.choices(item.id)[0])
            if note:
                form.set_note(item.id, note)
    return _fill


def _open(browser, url, *, width=1280, height=1000):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(60_000)
    page.served = page.goto(url, timeout=90_000).text()  # the HTML as served, loading text included
    save = page.get_by_role("button", name="Opslaan", exact=True)
    save.wait_for(state="visible", timeout=90_000)  # the kernel has answered and the form is there
    expect(page.locator(".cal-loading")).to_have_count(0)
    return page, save


def _go_to_case(page, case: str) -> None:
    from playwright.sync_api import expect

    page.get_by_label("Casus", exact=True).select_option(case)
    expect(page.locator(".cal-material h3")).to_contain_text(f"{case} \u2014")


def _upcoming(ws) -> str:
    with Store.open(ws) as st:
        s = st.sessions()
        return next(x for x in s["session"] if x.startswith("K05"))


def _mine(ws, case):
    with Store.open(ws) as st:
        return st.rater_view("B01").my_scores(_upcoming(ws), case).set_index("item")


def test_unrevealed_session_shows_no_other_assessors_judgements_in_a_dutch_page(browser, server):
    url, ws = server
    page, _save = _open(browser, url)
    body = page.inner_text("body")
    notes = page.eval_on_selector_all("input, textarea", "els => els.map(e => e.value).join(' ')")
    checked = page.locator('[role="radio"][aria-checked="true"]').count()
    lang, title, served = page.evaluate("document.documentElement.lang"), page.title(), page.served
    screenshot(page, "scoring-form-blind.png", width=1280)
    page.close()
    assert "Komende kalibreersessie" in body and "Blind scoren" in body
    assert "0 van 3 casussen compleet" in body  # B02's complete case is not B01's
    assert SECRET not in body and SECRET not in notes
    assert checked == 0  # no choice shown that B01 did not make
    assert lang == "nl" and title == "Scoren \u2014 calibrate"
    assert "Even geduld: de pagina wordt geladen" in served  # Voilà's loading text, in Dutch
    assert "Running 01_scoren" not in served


def test_score_save_read_back_and_a_whole_leeruitkomst_with_the_keyboard_only(browser, server):
    from playwright.sync_api import expect

    url, ws = server
    page, save = _open(browser, url)
    _go_to_case(page, "C01")
    expect(page.get_by_text("0 van 3 casussen compleet")).to_be_visible()
    first = page.get_by_role("radiogroup").first
    gezien = first.get_by_role("radio", name="gezien", exact=True)
    gezien.click()
    expect(gezien).to_have_attribute("aria-checked", "true")  # chosen: colour and a mark
    assert page.evaluate("e => getComputedStyle(e.querySelector('.cal-mark'), '::before').content",
                         gezien.element_handle()) == '"\u2713\u00a0"'
    page.get_by_placeholder("Bewijs (optioneel)").first.fill("Begroette iedere leerling bij de deur.")
    save.click()
    expect(page.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=30_000)
    mine = _mine(ws, "C01")
    assert mine.loc[IND, "value"] == "gezien"
    assert mine.loc[IND, "note"] == "Begroette iedere leerling bij de deur."
    assert len(mine) == 1

    # the keyboard only: Tab from question to question, Space / arrows / a digit to choose
    _go_to_case(page, "C02")
    page.locator(".cal-sections button", has_text="Creëren van positief leerklimaat").click()
    page.locator(".cal-sections button[aria-current='true']").focus()  # from here on only keys
    chosen: dict[str, str] = {}
    for _ in range(400):
        info = page.evaluate("""() => { const a = document.activeElement; const g = a && a.closest('[role=radiogroup]');
            return {role: a && a.getAttribute('role'), item: g && g.dataset.item, save: a && a.classList.contains('cal-save')}; }""")
        if info["save"]:
            break
        if info["role"] == "radio" and info["item"] not in chosen:
            key = ("Space", "ArrowRight", "3")[len(chosen) % 3]
            if info["item"].endswith(".niveau"):
                key = "End"  # the last level cell
            page.keyboard.press(key)
            chosen[info["item"]] = page.evaluate(
                "(item) => document.querySelector(`[data-item='${item}'] [aria-checked=true]`).dataset.value", info["item"])
            if key == "3":
                continue  # a digit chooses and goes on to the next question by itself
        page.keyboard.press("Tab")
    expect(page.locator(".cal-sections button[aria-current='true'] .cal-count")).to_have_text("25/25")
    expect(page.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=5_000)
    screenshot(page, "scoring-keyboard-1280.png", width=1280)
    page.close()
    mine = _mine(ws, "C02")
    items = [i for i in mine.index if i.startswith("leerklimaat.")]
    assert len(chosen) == 25 and sorted(items) == sorted(chosen)
    assert {i: mine.loc[i, "value"] for i in items} == chosen
    assert set(chosen.values()) >= {"gezien", "niet gezien", "n.v.t.", "6", "voldaan"}


def test_a_note_typed_and_not_saved_by_hand_survives_a_reload(browser, server):
    from playwright.sync_api import expect

    url, ws = server
    page, _save = _open(browser, url)
    _go_to_case(page, "C03")
    note = page.get_by_role("textbox", name="Notitie bij Klassenmanagement, indicator 2", exact=True)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    note.click()
    note.press_sequentially("Wachtte tot het stil was en gaf toen de opdracht.", delay=5)
    # straight after typing something is unsaved: closing the page now asks first
    page.evaluate("() => { window.__unload = new Event('beforeunload', {cancelable: true}); "
                  "window.dispatchEvent(window.__unload); }")
    assert page.evaluate("window.__unload.defaultPrevented")
    status = page.get_by_role("status").filter(has_text=SAVED)
    expect(status).to_be_visible(timeout=5_000)  # saved by itself, well within 2 s of the last key
    page.reload()
    page.get_by_role("button", name="Opslaan", exact=True).wait_for(state="visible", timeout=90_000)
    expect(page.locator(".cal-material h3")).to_contain_text("C03 \u2014")  # back on the case last worked on
    expect(page.get_by_role("textbox", name="Notitie bij Klassenmanagement, indicator 2", exact=True)) \
        .to_have_value("Wachtte tot het stil was en gaf toen de opdracht.")
    page.close()
    assert _mine(ws, "C03").loc["leerklimaat.klassenmanagement.2", "note"] == "Wachtte tot het stil was en gaf toen de opdracht."


def test_no_sideways_scroll_no_cut_labels_and_no_serious_axe_violation_at_1280_and_390(browser, server):
    url, _ws = server
    page, _save = _open(browser, url, width=1280, height=900)
    problems, found = {}, {}
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for button in page.locator(".cal-sections button").all():
            button.click()
            name = button.inner_text().split("\n")[0]
            issues = horizontal_overflow(page) + [f"cut: {t}" for t in cut_labels(page)]
            if issues:
                problems[f"{width}px {name}"] = issues
            if name in ("Creëren van positief leerklimaat", "Fasen", "Besluit en motivering"):
                v = axe_violations(page)  # axe-core, WCAG 2.2 A and AA, serious or critical
                if v:
                    found[f"{width}px {name}"] = v
        page.locator(".cal-sections button").first.click()
        screenshot(page, f"scoring-form-{width}.png", width=width)
    page.close()
    assert problems == {}
    assert found == {}
