"""The report section "Wat elke beoordelaar doet": shape, Dutch texts without ids, the
numbers of the three models, the planted assessors of the demo."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest

from calibrate.errors import InputError
from calibrate.raters import implicit_cutoffs, rasch_measures, report_section
from calibrate.raters.report import item_names
from calibrate.scores import CodedScores


@pytest.fixture(scope="module")
def section(demo, framework):
    return report_section(demo.scores, framework, demo.consensus, n_boot=10)


def _texts(sec: dict) -> list[str]:
    out = list(sec["intro"]) + list(sec["notes"]) + [sec["title"]]
    for t in sec["tables"]:
        out.append(t["caption"])
        out += [h for _, h in t["columns"]]
        out += [str(v) for r in t["rows"] for v in r.values() if isinstance(v, str)]
    for f in sec["figures"]:
        out += [f["alt"], f["caption"]]
    return out


def test_shape_is_the_shared_section_and_json(section):
    assert section["id"] == "beoordelaars" and section["title"] == "Wat elke beoordelaar doet"
    assert set(section) == {"id", "title", "intro", "tables", "figures", "notes"}
    json.dumps(section)
    for t in section["tables"]:
        keys = [k for k, _ in t["columns"]]
        assert all(set(r) <= set(keys) | {"rater"} for r in t["rows"])
        for r in t["rows"]:
            for v in r.values():
                assert v is None or isinstance(v, (str, int, float)) and not isinstance(v, bool)
    (fig,) = section["figures"]
    assert base64.b64decode(fig["png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "95%-interval" in fig["alt"] and "B03" in fig["alt"] and len(fig["alt"]) > 80


def test_texts_are_dutch_and_name_no_item_or_case(section, demo, framework):
    texts = _texts(section)
    ids = {it.id for it in framework.items()}
    cases = set(demo.scores["case"].astype(str))
    for text in texts:
        for token in re.findall(r"[\w.\-]+", text):
            assert token not in ids, (token, text)
            assert token not in cases, (token, text)
    joined = " ".join(texts)
    for word in ("strengheid", "handleiding vraagt", "waarschijnlijk oordeel (model)", "logit"):
        assert word in joined
    # decimal comma in the prose, no decimal point between digits
    assert not re.search(r"\d\.\d", " ".join(section["intro"]))


def test_numbers_are_the_models_and_planted_assessors_show(section, demo, framework):
    table = pd.DataFrame(section["tables"][0]["rows"]).set_index("rater")
    rm = rasch_measures(demo.scores, framework=framework, bias=False).raters.set_index("element")
    assert np.allclose(table["severity"], rm.loc[table.index, "measure"])
    assert np.allclose(table["severity_ci_high"] - table["severity_ci_low"], 2 * 1.959963984540054 * rm.loc[table.index, "se"])
    cut = implicit_cutoffs(demo.scores, framework, n_boot=10).set_index("rater")
    assert (table["cutoff"] == cut.loc[table.index, "cutoff"]).all()
    assert (table["framework_cutoff"] == 8).all()
    # the simulator's planted lenient assessor B03 and verdict-lenient B04
    assert table["severity"].idxmin() == "B03" and table.loc["B03", "severity_ci_high"] < 0
    assert table.loc["B04", "cutoff_classification"] == "milder"
    para = {p.split(":", 1)[0]: p for p in section["intro"][1:]}
    assert set(para) == set(table.index)
    assert "milder dan het team" in para["B03"] and "strenger dan het team" in para["B05"]
    assert "de handleiding vraagt 8" in para["B04"]


def test_agreement_with_the_recorded_consensus(section, demo):
    table = pd.DataFrame(section["tables"][0]["rows"]).set_index("rater")
    s, c = demo.scores, demo.consensus
    m = s[s["rater"] == "B02"].merge(c[["session", "case", "item", "value"]], on=["session", "case", "item"],
                                     suffixes=("", "_c")).dropna(subset=["value", "value_c"])
    assert table.loc["B02", "agreement_recorded_consensus"] == pytest.approx((m["value"] == m["value_c"]).mean())


def test_coded_scores_give_the_same_section_part(demo, framework):
    coded = CodedScores.code(demo.scores, framework=framework)
    a = report_section(coded, framework, n_boot=5)
    b = report_section(demo.scores, framework, n_boot=5)
    ta, tb = (pd.DataFrame(x["tables"][0]["rows"]).set_index("rater") for x in (a, b))
    assert np.allclose(ta["severity"], tb["severity"]) and (ta["cutoff"] == tb["cutoff"]).all()


def test_item_names_cover_every_kind(framework):
    names = item_names(framework)
    assert set(names) == {it.id for it in framework.items()}
    assert names["besluit"] == "Besluit"
    assert names["fase.zelfstandigheid"] == "Zelfstandigheid"
    assert names["leerklimaat.oordeel"].endswith("(oordeel)")


def test_bad_input_is_named():
    with pytest.raises(InputError, match="report_section"):
        report_section([1, 2, 3], None)


def test_coded_consensus_is_read_like_the_plain_one(demo, framework):
    coded = CodedScores.code(demo.consensus, required=("session", "case", "item", "value"), what="consensus")
    a = report_section(demo.scores, framework, coded, n_boot=5)
    b = report_section(demo.scores, framework, demo.consensus, n_boot=5)
    ta, tb = (pd.DataFrame(x["tables"][0]["rows"]).set_index("rater") for x in (a, b))
    assert np.allclose(ta["agreement_recorded_consensus"], tb["agreement_recorded_consensus"])
