"""The store's rule for the current judgement, checked against pandas' groupby as the peer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.store.latest import latest_rows


@pytest.mark.parametrize("seed", range(5))
def test_latest_rows_matches_groupby_idxmax(seed):
    rng = np.random.default_rng(seed)
    n = 5_000
    sizes = [3, 7, 4, 11]
    codes = [rng.integers(0, s, n) for s in sizes]
    ids = rng.permutation(n * 3)[:n] + 1  # unique ids, in no particular order
    got = latest_rows(ids, codes, sizes)
    df = pd.DataFrame({f"k{i}": c for i, c in enumerate(codes)} | {"id": ids})
    peer = df.groupby([f"k{i}" for i in range(len(sizes))])["id"].idxmax().to_numpy()
    assert sorted(got.tolist()) == sorted(peer.tolist())
    assert np.all(np.diff(ids[got]) > 0)  # in increasing id order


def test_latest_rows_edge_cases():
    assert latest_rows(np.array([], dtype=np.int64), [np.array([], dtype=np.int64)], [0]).tolist() == []
    # one key, saved three times: only the last save counts, wherever it sits in the input
    assert latest_rows(np.array([5, 9, 2]), [np.array([0, 0, 0])], [1]).tolist() == [1]
