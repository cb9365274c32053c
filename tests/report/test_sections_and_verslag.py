"""Generic report sections (the shared shape) and the kalibratieverslag (issue 13.4, 13.5)."""

from __future__ import annotations

import base64
import io
import json
import shutil

import pytest
import sqlalchemy as sa

from calibrate.cli import main
from calibrate.errors import InputError
from calibrate.report import build_report_content, render_html, render_verslag, write_report
from calibrate.report.sections import check_section
from calibrate.store import Store


def _png() -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


SECTION = {
    "id": "proef", "title": "Een proefsectie van buiten",
    "intro": ["Deze sectie komt uit een ander pakket."],
    "tables": [{"caption": "Strengheid per beoordelaar", "columns": [["rater", "beoordelaar"], ["measure", "strengheid (logit)"],
                                                                       ["se", "standaardfout"]],
                "rows": [{"rater": "B01", "measure": 0.351, "se": None}, {"rater": "B02", "measure": -1.25, "se": 0.2}]}],
    "figures": [{"png": None, "alt": "Strengheid per beoordelaar met interval", "caption": "Figuur bij de proef"}],
    "notes": ["Een voetnoot."],
}


@pytest.fixture(scope="module")
def with_section(demo_workspace):
    sec = dict(SECTION, figures=[dict(SECTION["figures"][0], png=_png())])
    with Store.open(demo_workspace) as store:
        content = build_report_content(store, sections=[sec])
    return content


def test_a_section_is_rendered_generically(with_section):
    html = render_html(with_section)
    assert "<h2>Een proefsectie van buiten</h2>" in html and "Deze sectie komt uit een ander pakket." in html
    assert "<th>strengheid (logit)</th>" in html and "Strengheid per beoordelaar" in html
    assert ">0,35<" in html and ">−1,25<" in html and ">—<" in html  # numbers formatted by the report
    assert 'alt="Strengheid per beoordelaar met interval"' in html and "Een voetnoot." in html
    js = json.loads(json.dumps(with_section, allow_nan=False))
    assert js["sections"][0]["tables"][0]["rows"][0]["measure"] == 0.351  # numbers stay numbers in JSON


def test_a_bad_section_names_itself():
    with pytest.raises(InputError, match="'proef'.*columns"):
        check_section(dict(SECTION, tables=[{"rows": []}]))
    with pytest.raises(InputError, match="alt"):
        check_section(dict(SECTION, figures=[{"png": "x"}]))


@pytest.fixture(scope="module")
def discussed(demo_workspace, tmp_path_factory):
    """The demo after the discussion: two agreed readings with reasons; names opted in."""
    ws = tmp_path_factory.mktemp("verslag") / "ws"
    shutil.copytree(demo_workspace, ws)
    with Store.open(ws) as store:
        store.save_consensus("K04-2026-07", "C28", {"leerstof.activerend_lesgeven.4": ("gezien", "De check-in aan het begin telt als formatieve vraag.")})
        store.save_consensus("K04-2026-07", "C26", {"afstemmen.didactisch_afstemmen.3": ("niet gezien", "Alleen benoemd, niet onderbouwd met theorie.")})
    return ws


def test_verslag_with_readings_and_no_rescore_round(discussed, tmp_path):
    out = tmp_path / "verslag.html"
    assert main(["report", "--workspace", str(discussed), "--kind", "verslag", "--out", str(out), "--quiet"]) == 0
    html = out.read_text(encoding="utf-8")
    for text in ("Kalibratieverslag", "6 juli 2026", "onder pseudoniem", "B01", "B06", "Digitale tijdlijn in 2 vwo",
                 "De check-in aan het begin telt als formatieve vraag.", "Alleen benoemd, niet onderbouwd met theorie.",
                 "Er is geen herbeoordelingsronde gehouden", "blinde ronde", "Punten voor de volgende sessie",
                 "Krippendorff (2004)"):
        assert text in html, text
    assert "leerstof.activerend_lesgeven.4" not in html  # the item's text, not its id


def test_verslag_names_only_where_the_session_opted_in(discussed, tmp_path):
    from calibrate.store import schema as t

    ws = tmp_path / "named"
    shutil.copytree(discussed, ws)
    with Store.open(ws) as store:
        with store.engine.begin() as conn:
            conn.execute(sa.update(t.raters).where(t.raters.c.id == "B02").values(display_name="Testnaam Beoordelaar"))
        content = build_report_content(store)
        assert "Testnaam Beoordelaar" not in render_verslag(content)  # not opted in
        store.show_rater_names("K04-2026-07")
        html = render_verslag(build_report_content(store))
    assert "Testnaam Beoordelaar" in html and "met naam" in html


def test_verslag_takes_the_rounds_section(discussed, tmp_path):
    rounds = {"id": "rondes", "title": "Voor en na", "intro": ["Na de bespreking steeg de overeenstemming."],
              "tables": [{"caption": "", "columns": [["kind", "soort"], ["before", "vóór"], ["after", "na"]],
                          "rows": [{"kind": "indicator", "before": 0.35, "after": 0.62}]}]}
    with Store.open(discussed) as store:
        out = write_report(store, tmp_path / "v.html", kind="verslag", rounds=rounds)
    html = out.read_text(encoding="utf-8")
    assert "Na de bespreking steeg de overeenstemming." in html and ">0,62<" in html
    assert "Er is geen herbeoordelingsronde gehouden" not in html


def test_unknown_kind_is_a_clear_error(demo_workspace, tmp_path):
    with Store.open(demo_workspace) as store:
        with pytest.raises(InputError, match="kind"):
            write_report(store, tmp_path / "x.html", kind="notulen")


def test_agenda_without_consensus_shows_the_model_estimate(demo_workspace):
    """Issue 15: where no consensus exists, the agenda gives 'waarschijnlijk oordeel (model)'
    from calibrate.raters' latent consensus, marked as a model estimate."""
    from calibrate.raters import latent_consensus
    from calibrate.report.content import report_content

    with Store.open(demo_workspace) as store:
        scores = store.with_notes(store.coded_scores(notes=False, stamps=False), ["K04-2026-07"])
        framework = store.framework("han-wpl2-2025")
        content = report_content(scores, None, store.sessions(), framework=framework,
                                 expected={"cases": store.session_cases("K04-2026-07"), "raters": store.session_raters("K04-2026-07")})
        focus = store.scores("K04-2026-07")
    cases = [(a["item"], cs) for a in content["agenda"] for cs in a["cases"]]
    assert cases and all(cs["consensus"] is None and cs["model"] for _, cs in cases)
    item, cs = cases[0]
    sub = focus[focus["item"].isin({i for i, _ in cases})]
    ml = latent_consensus(sub, framework=framework, n_boot=0).most_likely.set_index(["case", "item"])
    assert cs["model"]["value"] == ml.loc[(cs["case"], item), "value"]  # passed through unchanged
    assert 0.5 <= cs["model"]["p"] <= 1
    for i, c in cases:  # a unanimous panel: the model agrees with it
        if len(c["values"]) == 1:
            assert c["model"]["value"] == next(iter(c["values"]))
    html = render_html(content)
    assert "waarschijnlijk oordeel (model)" in html and "geen afspraak" in html
