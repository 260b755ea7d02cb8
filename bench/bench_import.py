"""Time a layout A import of the 20,000-patient clinic network (goal: at least 100,000 rows/s).

Usage: python bench/bench_import.py [--patients 20000] [--repeat 3]
Writes the network's patients, sessions and assessments as CSV (bench/out/), then imports them
into a fresh store the way `python -m analysis import` does: read, check every row, write in one
transaction. Also times importing the same files again (every row merges, nothing changes).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from network import END_DATE, NETWORK_PATIENTS, OUT


def write_network(n_patients: int) -> list[Path]:
    """The demo generator's clinic at network scale, as three layout A CSV files (written once)."""
    from analysis.demo import clinic as demo

    folder = OUT / f"network_{n_patients}_csv"
    paths = [folder / f"{kind}.csv" for kind in ("patients", "sessions", "assessments")]
    if not all(path.exists() for path in paths):
        folder.mkdir(parents=True, exist_ok=True)
        clinic = demo.generate_clinic(n_patients=n_patients, seed=11, end_date=END_DATE)
        for path in paths:
            clinic[path.stem].to_csv(path, index=False)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=NETWORK_PATIENTS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from analysis import ingest, store

    paths = write_network(args.patients)
    rows = sum(sum(1 for _ in path.open()) - 1 for path in paths)
    megabytes = sum(path.stat().st_size for path in paths) / 1e6
    print(f"{args.patients:,} patients: {rows:,} rows, {megabytes:.1f} MB of CSV")
    db_path = OUT / "bench_import.duckdb"
    first, again = [], []
    for _ in range(args.repeat):
        for leftover in (db_path, Path(f"{db_path}.wal")):
            leftover.unlink(missing_ok=True)
        with store.opened(db_path) as con:
            started = time.perf_counter()
            result = ingest.import_files(con, paths)
            first.append(time.perf_counter() - started)
            if result.refused:
                raise SystemExit("refused: " + "; ".join(p.sentence() for p in result.problems[:5]))
            started = time.perf_counter()
            repeat = ingest.import_files(con, paths)
            again.append(time.perf_counter() - started)
            assert repeat.added == 0 and repeat.merged == rows, repeat.summary_line()
    db_path.unlink(missing_ok=True)
    print(
        f"new store:   best {min(first):.2f} s = {rows / min(first):,.0f} rows/s "
        f"(runs: {', '.join(f'{t:.2f}' for t in first)} s)"
    )
    print(f"same again:  best {min(again):.2f} s = {rows / min(again):,.0f} rows/s (every row merges)")


if __name__ == "__main__":
    main()
