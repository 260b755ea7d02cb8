"""Small-cell suppression (docs/DEFINITIONS.md): counts of 1..limit become "<limit+1", rates and means on them are withheld."""

from __future__ import annotations

import copy

import numpy as np

from analysis.reporting.shapes import Count, Report
from analysis.wording import suppressed_label


def _small(count: Count, limit: int) -> bool:
    return isinstance(count, (int, np.integer)) and 1 <= count <= limit


def suppress_report(report: Report, limit: int = 10) -> Report:
    """Small-cell suppression: counts 1..limit become '<limit+1>' ('<11'); rates and means built on them are withheld."""
    out = copy.deepcopy(report)
    out["suppressed"] = True
    shown = suppressed_label(limit)

    def count(value: Count) -> Count:
        return shown if _small(value, limit) else value

    if _small(report["boosters_delivered"], limit):
        out["median_booster_interval_days"] = None
    for key in (
        "courses_started",
        "patients_started",
        "induction_completed",
        "in_progress",
        "boosters_delivered",
        "item9_positive_baseline",
        "item9_unknown_baseline",
    ):
        if key in report:
            out[key] = count(report[key])
    if "long_term" in report:
        out["long_term"] = suppress_long_term(report["long_term"], limit)
    for code, summary in report["instruments"].items():
        target = out["instruments"][code]
        for group in ("itt", "completers"):
            numbers, shown_group = summary[group], target[group]
            for measure in ("response", "remission"):
                if _small(numbers[f"{measure}_n"], limit) or _small(numbers["n"], limit):
                    shown_group[f"{measure}_rate"] = None
                    shown_group[f"{measure}_ci"] = [None, None]
                shown_group[f"{measure}_n"] = count(numbers[f"{measure}_n"])
            shown_group["n"] = count(numbers["n"])
        itt_n = summary["itt"]["n"]
        if _small(summary["reliable_improvement_n"], limit) or _small(itt_n, limit):
            target["reliable_improvement_rate"] = None
            target["reliable_improvement_ci"] = [None, None]
        if _small(itt_n, limit):
            # A mean over a handful of courses can reveal one patient's score.
            for key in ("mean_baseline", "mean_endpoint", "mean_change"):
                target[key] = None
                target[f"{key}_ci"] = [None, None]
        for key in (
            "baseline_n",
            "eligible_n",
            "reliable_improvement_n",
            "reliable_deterioration_n",
            "baseline_carried_forward_n",
            "completed_without_end_score",
        ):
            if key in summary:
                target[key] = count(summary[key])
        target["left_out"] = {reason: count(n) for reason, n in summary["left_out"].items()}
        classes, shown_classes = summary["trajectory_classes"], target["trajectory_classes"]
        if _small(classes["later_response_n"], limit) or _small(classes["no_response_by_t2_n"], limit):
            shown_classes["later_response_rate"] = None
            shown_classes["later_response_ci"] = [None, None]
        for key, value in classes.items():
            if key.endswith("_rate") or key.endswith("_ci"):
                continue
            shown_classes[key] = count(value)
        for point in target["trajectory"]:
            if _small(point["n"], limit):
                point["mean"] = None
                point["ci"] = [None, None]
            point["n"] = count(point["n"])
    return out


def suppress_long_term(block: dict, limit: int = 10) -> dict:
    """The §5b block with counts of 1..limit shown as '<11' and rates built on them withheld."""
    shown = f"<{limit + 1}"
    out = copy.deepcopy(block)
    out["index_n"] = shown if _small(block["index_n"], limit) else block["index_n"]
    for key, numbers in block.items():
        if not isinstance(numbers, dict):
            continue
        met = "remission_n" if "remission_n" in numbers else "response_n"
        if _small(numbers[met], limit) or _small(numbers["n"], limit):
            out[key]["rate"] = None
            out[key]["ci"] = [None, None]
        for name in ("n", met, "not_yet", "no_score_n"):
            out[key][name] = shown if _small(numbers[name], limit) else numbers[name]
    return out
