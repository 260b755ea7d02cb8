"""Time the full quarterly report on a 20,000-patient network (goal: at most 1 s).

Usage: python bench/bench_report.py [--repeat 5]
Measures what `python -m analysis report --quarter all --format json` does after Python has
started: open the store, compute every course and outcome, build the report, write JSON.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

from network import network_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = network_store()

    from analysis import store
    from analysis.engine.timeline import load_timeline
    from analysis.reporting.export import to_json
    from analysis.reporting.report import quarterly_report
    from analysis.settings import load_settings

    timings, stages = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        with store.opened(path, read_only=True) as con:
            timeline = load_timeline(con, load_settings(), with_details=False)  # as the report CLI does
        loaded = time.perf_counter()
        report = quarterly_report(timeline, "all", suppress=True)
        to_json(report)
        finished = time.perf_counter()
        timings.append(finished - started)
        stages.append((loaded - started, finished - loaded))
    with store.opened(path, read_only=True) as con:
        counts = store.counts(con)
        # A settings value that changes no outcome but the settings' fingerprint: the cache is
        # bypassed, as right after a clinic edits settings.toml.
        started = time.perf_counter()
        uncached = load_timeline(con, replace(load_settings(), suppression_max=9), with_details=False)
        to_json(quarterly_report(uncached, "all", suppress=True))
        without_cache = time.perf_counter() - started
    print(
        f"network: {len(timeline.courses)} courses, {counts['sessions']} sessions, {counts['assessments']} assessments"
    )
    started = time.perf_counter()
    quarter = quarterly_report(timeline, "2026Q1", suppress=True)
    single_quarter = time.perf_counter() - started
    print(
        f"full report (open store + every course and outcome + the 'all' report as JSON): "
        f"median {statistics.median(timings):.3f} s, best {min(timings):.3f} s over {args.repeat} runs"
    )
    print(
        f"  of which outcome engine {statistics.median(s[0] for s in stages):.3f} s, "
        f"report {statistics.median(s[1] for s in stages):.3f} s"
    )
    print(f"one more quarter from the same outcomes: {single_quarter:.3f} s")
    print(f"the same report computed without the store's report cache: {without_cache:.3f} s")
    print(f"goal: <= 1 s -> {'met' if statistics.median(timings) <= 1 else 'NOT met'}")
    assert report["courses_started"] and quarter["quarter"] == "2026Q1"


if __name__ == "__main__":
    main()
