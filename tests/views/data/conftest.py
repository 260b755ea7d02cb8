"""The hand-worked clinic (tests/clinic_fixture.py) the Data page's views are checked against."""

from __future__ import annotations

import clinic_fixture
import pytest

from analysis import store
from analysis.engine.timeline import load_timeline


@pytest.fixture(scope="module")
def clinic_path(tmp_path_factory):
    return clinic_fixture.build(tmp_path_factory.mktemp("data") / "t.duckdb")


@pytest.fixture(scope="module")
def clinic(clinic_path):
    con = store.connect(clinic_path, read_only=True)
    yield con, load_timeline(con)
    con.close()
