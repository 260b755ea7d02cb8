"""Fixtures shared by the page tests: one 120-patient demo clinic per test run (never written to)."""

import datetime as dt
from pathlib import Path

import pytest

from analysis import store
from analysis.demo import build as demo_store
from analysis.engine.timeline import load_timeline


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pages") / "demo.duckdb"
    demo_store.build(path, n_patients=120, seed=7, end_date=dt.date(2026, 10, 31))
    return path


@pytest.fixture(scope="session")
def demo_timeline(demo_path):
    with store.opened(demo_path, read_only=True) as con:
        return load_timeline(con)
