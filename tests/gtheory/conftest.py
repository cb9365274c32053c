import pytest
from gfixtures import read_fixture


@pytest.fixture
def synthetic4():
    return read_fixture("brennan_synthetic4_px_rt.csv")
