"""Time widget changes on the 400-patient demo clinic once a page has loaded (goal: under 0.5 s).

Usage: python bench/bench_widgets.py
Each change is a rerun of the page in Streamlit's AppTest with one widget set, as a user's
click or pick would cause; the page has been loaded once before, as in real use.
"""

from __future__ import annotations

import os
import statistics
import time

from network import END_DATE, OUT, REPO


def _demo_store():
    from analysis.demo import build as demo_store

    path = OUT / "demo_400.duckdb"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        demo_store.build(path, n_patients=400, seed=7, end_date=END_DATE)
    return path


def main() -> None:
    os.environ["OUTCOMES_DB"] = str(_demo_store())
    os.chdir(REPO)
    from streamlit.testing.v1 import AppTest

    def timed(page: str, change, repeat: int = 3) -> float:
        app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60)
        app.switch_page(f"pages/{page}.py").run()
        runs = []
        for attempt in range(repeat):
            widget = change(app, attempt)
            started = time.perf_counter()
            widget.run()
            runs.append(time.perf_counter() - started)
            assert not app.exception, app.exception
        return statistics.median(runs)

    quarters = ["2026Q1", "2025Q4", "2025Q3"]
    patients = ["P00101", "P00025", "P00183"]
    cases = [
        (
            "induction",
            "split the trajectory",
            lambda app, i: app.selectbox(key="induction_split").set_value(
                app.selectbox(key="induction_split").options[1 + i]
            ),
        ),
        (
            "boosters",
            "patients shown in the cadence strip",
            lambda app, i: app.slider(key="boosters_top").set_value(10 + 5 * i),
        ),
        ("quarterly", "change quarter", lambda app, i: app.selectbox(key="quarterly_quarter").set_value(quarters[i])),
        ("quarterly", "suppression switch", lambda app, i: app.toggle(key="quarterly_internal").set_value(i % 2 == 0)),
        ("patient", "pick a patient", lambda app, i: app.selectbox(key="patient_id").set_value(patients[i])),
    ]
    print(f"{'page':<11}{'change':<40}{'median (s)':>11}")
    worst = 0.0
    for page, words, change in cases:
        seconds = timed(page, change)
        worst = max(worst, seconds)
        print(f"{page:<11}{words:<40}{seconds:>11.2f}")
    print(f"goal: under 0.5 s -> {'met' if worst < 0.5 else 'NOT met'} (worst {worst:.2f} s)")


if __name__ == "__main__":
    main()
