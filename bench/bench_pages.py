"""Time the first load of every dashboard page on a 20,000-patient network (goal: at most 2 s each).

Usage: python bench/bench_pages.py
Runs the app in-process with Streamlit's AppTest, three ways per page:
  cold          every cache cleared: the first visitor after an import pays for the copy of
                the store and the outcome engine, plus the page
  first visit   the app already holds the store and its outcomes; nothing of this page is cached
  repeat visit  a new session opening a page that someone has opened before
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

    # A running server has imported its modules already: one untimed run does that here.
    AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120).run()
    results = []
    for page in PAGES:
        st.cache_resource.clear()
        st.cache_data.clear()
        app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
        started = time.perf_counter()
        app.switch_page(f"pages/{page}.py").run()
        cold = time.perf_counter() - started
        assert not app.exception, app.exception
        # First visit to this page once the app holds the store: the shared snapshot and outcomes
        # (cache_resource) are loaded, nothing the page itself computes (cache_data) is.
        st.cache_data.clear()
        first_visit_app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
        started = time.perf_counter()
        first_visit_app.switch_page(f"pages/{page}.py").run()
        first_visit = time.perf_counter() - started
        assert not first_visit_app.exception, first_visit_app.exception
        warm_runs = []
        for _ in range(3):
            fresh = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
            started = time.perf_counter()
            fresh.switch_page(f"pages/{page}.py").run()
            warm_runs.append(time.perf_counter() - started)
            assert not fresh.exception, fresh.exception
        results.append((page, cold, first_visit, statistics.median(warm_runs)))
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
    print(f"{'page':<12}{'cold (s)':>10}{'first visit (s)':>17}{'repeat visit (s)':>18}")
    for page, cold, first_visit, warm in results:
        print(f"{page:<12}{cold:>10.2f}{first_visit:>17.2f}{warm:>18.2f}")
    worst = max(first_visit for _, _, first_visit, _ in results)
    print(
        f"goal: first load <= 2 s per page -> {'met' if worst <= 2 else 'NOT met'} for a first visit once the app "
        f"holds the store (worst {worst:.2f} s); the cold column also pays the one-off copy of the store and the "
        "outcome engine that the first visitor after each import triggers"
    )


if __name__ == "__main__":
    main()
