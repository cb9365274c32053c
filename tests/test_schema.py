"""The score-table contract: every malformation is refused with its row and column."""

import pandas as pd
import pytest

from calibrate.errors import InputError
from calibrate.schema import SCORE_COLUMNS, ItemSpec, validate_table

GOOD = {
    "session": "K1", "session_date": "2026-01-19", "case": "C01", "rater": "B01",
    "item": "eigen.item.1", "kind": "indicator", "value": "gezien", "note": "", "scored_at": "",
}


def table(*changes, drop=()):
    rows = []
    for ch in changes or ({},):
        row = dict(GOOD)
        row.update(ch)
        rows.append(row)
    df = pd.DataFrame(rows, dtype="string")
    return df.drop(columns=list(drop))


def test_good_table_is_normalised():
    df = validate_table(table({}, {"rater": "B02", "value": "n.v.t."}), source="s.csv")
    assert list(df.columns) == list(SCORE_COLUMNS)
    assert df["value"].tolist() == ["gezien", "n.v.t."]
    assert df["note"].isna().all()


def test_researchers_own_items_and_levels_are_accepted():
    df = validate_table(table({"item": "mijn_rubric.criterium_a", "kind": "level", "value": "5"}), source="s.csv")
    assert df.loc[0, "value"] == "5"


@pytest.mark.parametrize(
    "changes,drop,pattern",
    [
        ((), ("kind",), r"row 1: column\(s\) 'kind' missing"),
        (({"kind": "rubric"},), (), r"row 2, column 'kind': unknown kind 'rubric'"),
        (({"value": "7", "kind": "level"},), (), r"row 2, column 'value': '7' is outside the scale"),
        (({"session_date": "19-13-2026"},), (), r"row 2, column 'session_date': '19-13-2026' is not a date"),
        (({"scored_at": "gisteren"},), (), r"row 2, column 'scored_at': 'gisteren' is not a timestamp"),
        (({}, {"value": "niet gezien"}), (), r"rows 2, 3 give different judgements"),
        (({"case": ""},), (), r"row 2, column 'case': empty"),
        (({}, {"item": "eigen.item.1", "kind": "level", "value": "3", "rater": "B02"}), (), r"row 3, column 'kind'.*has kind 'level' here but 'indicator' in row 2"),
        (({}, {"session_date": "2026-02-01", "rater": "B02"}), (), r"session 'K1' has more than one date"),
    ],
)
def test_malformed_rows_name_row_and_column(changes, drop, pattern):
    with pytest.raises(InputError, match=pattern) as info:
        validate_table(table(*changes, drop=drop), source="s.csv")
    assert str(info.value).startswith("s.csv")


def test_extra_column_and_header_only():
    df = table()
    df["score"] = "x"
    with pytest.raises(InputError, match=r"unknown column\(s\) 'score'"):
        validate_table(df, source="s.csv")
    with pytest.raises(InputError, match="header but no rows"):
        validate_table(table().iloc[0:0], source="s.csv")


def test_framework_item_kind_and_codes_are_enforced():
    items = {"x.niveau": ItemSpec("x.niveau", "level", ("1", "2", "3", "4", "5", "6"))}
    with pytest.raises(InputError, match=r"item 'x.niveau' is a 'level' item in the framework, not 'indicator'"):
        validate_table(table({"item": "x.niveau"}), source="s.csv", items=items)


def test_exact_duplicate_rows_are_dropped_not_refused():
    df = validate_table(table({}, {}), source="s.csv")
    assert len(df) == 1


def test_consensus_table_has_no_rater():
    df = table(drop=("rater", "note"))
    out = validate_table(df, source="c.csv", with_rater=False)
    assert "rater" not in out.columns
    with pytest.raises(InputError, match=r"unknown column\(s\) 'rater'"):
        validate_table(table(), source="c.csv", with_rater=False)


def test_personal_data_in_a_bad_cell_is_masked_in_the_message():
    with pytest.raises(InputError) as info:
        validate_table(table({"value": "06-12345678"}), source="s.csv")
    msg = str(info.value)
    assert "row 2, column 'value'" in msg and "12345678" not in msg and "masked" in msg
