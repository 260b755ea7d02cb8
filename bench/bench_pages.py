"""Time the first load of every dashboard page on a 20,000-patient network (goal: at most 2 s each).

Usage: python bench/bench_pages.py
Runs the app in-process with Streamlit's AppTest. "Cold" clears every cache first (the first
visitor after an import: snapshot + outcome engine + page); "warm" is a new visitor's first
load of the page once the store version is cached (the usual case).
"""
from __future__ import annotations

import os
import statistics
import time

from network import REPO, network_store

PAGES = ["overview", "induction", "boosters", "patient", "quarterly", "data"]


def main() -> None:
    path = network_store()
    os.environ["OUTCOMES_DB"] = str(path)
    os.chdir(REPO)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    results = []
    for page in PAGES:
        st.cache_resource.clear()
        st.cache_data.clear()
        app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
        started = time.perf_counter()
        app.switch_page(f"pages/{page}.py").run()
        cold = time.perf_counter() - started
        assert not app.exception, app.exception
        warm_runs = []
        for _ in range(3):
            fresh = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
            started = time.perf_counter()
            fresh.switch_page(f"pages/{page}.py").run()
            warm_runs.append(time.perf_counter() - started)
            assert not fresh.exception, fresh.exception
        results.append((page, cold, statistics.median(warm_runs)))
    st.cache_resource.clear()
    st.cache_data.clear()
    started = time.perf_counter()
    entry = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120).run()
    frame_cold = time.perf_counter() - started
    assert not entry.exception, entry.exception
    started = time.perf_counter()
    AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120).run()
    frame_warm = time.perf_counter() - started
    print(f"frame + overview (sidebar filters, banner, default page): cold {frame_cold:.2f} s, warm {frame_warm:.2f} s")
    print(f"{'page':<12}{'cold (s)':>10}{'warm first load (s)':>22}")
    for page, cold, warm in results:
        print(f"{page:<12}{cold:>10.2f}{warm:>22.2f}")
    worst = max(warm for _, _, warm in results)
    print(f"goal: first load <= 2 s per page -> {'met' if worst <= 2 else 'NOT met'} (worst warm {worst:.2f} s)")


if __name__ == "__main__":
    main()
