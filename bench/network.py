"""The 20,000-patient clinic network the speed measurements run on (built once, kept in bench/out/)."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

OUT = REPO / "bench" / "out"
NETWORK_PATIENTS = 20_000
END_DATE = dt.date(2026, 10, 31)


def network_store(n_patients: int = NETWORK_PATIENTS) -> Path:
    """A store holding the synthetic network; built through the importer the first time."""
    from analysis.demo import build as demo_store

    path = OUT / f"network_{n_patients}.duckdb"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        demo_store.build(path, n_patients=n_patients, seed=11, end_date=END_DATE)
        print(f"built {path.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path
