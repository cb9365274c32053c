"""A rater who judged the same case twice within a group is an error on DuckDB as in
memory, naming the group, the case and the rater, wherever the duplicate sits: in a
unit of a few raters, in a crowded unit (more raters than a hash-bucket screen has
buckets, the case any cheaper replacement of the exact check must still get right), or
three times over. Without duplicates, the crowded unit is no error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.engines import agreement_table
from calibrate.errors import InputError

from engine_cases import assert_same

SPECS = ["krippendorff_alpha:ordinal", "gwet_ac:quadratic"]


def _panel(n_units: int, raters: int, seed: int) -> pd.DataFrame:
    """Units rated by ``raters`` distinct raters each from a pool of 500; six levels."""
    rng = np.random.default_rng(seed)
    rows = [(f"c{i}", f"r{j:03d}", str(int(rng.integers(1, 7))))
            for i in range(n_units) for j in rng.choice(500, size=raters, replace=False)]
    return pd.DataFrame(rows, columns=["case", "rater", "value"]).assign(item="x", kind="level")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.concat([_panel(60, 3, seed=5), _panel(1, 80, seed=6).assign(case="crowded")], ignore_index=True)


def test_a_crowded_unit_without_duplicates_is_no_error(panel):
    assert_same(agreement_table(panel, engine="duckdb", by="item", coefficients=SPECS),
                agreement_table(panel, by="item", coefficients=SPECS), ["item"])


@pytest.mark.parametrize("case,times", [("c7", 2), ("crowded", 2), ("c9", 3)])
def test_a_duplicate_is_reported_with_its_case_and_rater(panel, case, times):
    again = panel[panel["case"] == case].iloc[[1]]
    bad = pd.concat([panel, *[again.assign(value=str(v)) for v in range(2, 2 + times - 1)]], ignore_index=True)
    rater = again["rater"].iloc[0]
    with pytest.raises(InputError, match="more than once"):
        agreement_table(bad, by="item", coefficients=SPECS)
    with pytest.raises(InputError, match="more than once") as err:
        agreement_table(bad, engine="duckdb", by="item", coefficients=SPECS)
    assert f"('x', '{case}', '{rater}')" in str(err.value)
