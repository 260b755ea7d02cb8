"""The report as a document: formatted tables that the HTML and PDF exports both lay out, in the same words."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.engine.long_term import MEASURE_WORDS as LONG_TERM_WORDS
from analysis.engine.long_term import met_key
from analysis.instruments import OutcomeRules
from analysis.reporting.published import PUBLISHED_RESULTS
from analysis.reporting.shapes import Count, Interval, Report

GROUP_NAMES = {"itt": "Intention to treat", "completers": "Completers"}
DASH = "-"


@dataclass(frozen=True)
class Table:
    """A titled table of text cells; `note` is a sentence printed under it."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str = ""
    widths: tuple[float, ...] = field(default=())


def rule_sentences(report: Report) -> list[str]:
    """Each reported instrument's rules in words, from the settings the report was made with."""
    sentences = []
    for code in report["instruments"]:
        rules = OutcomeRules(**report["settings"]["instrument_rules"][code])
        sentences.append(
            f"{code}: only courses with a {rules.eligibility_words()} count. Response: {rules.response_words()}. "
            f"Remission: {rules.remission_words()}."
        )
    return sentences


def count_text(value: Count | None) -> str:
    """12 -> '12'; '<11' stays; None -> '-'."""
    if value is None:
        return DASH
    return str(value)


def percent_text(rate: float | None) -> str:
    """0.5227 -> '52.3%' (one decimal, so every figure of the CSV can be found in the document)."""
    return DASH if rate is None else f"{rate * 100:.1f}%"


def rate_text(rate: float | None, ci: Interval | None, n: Count | None = None) -> str:
    """'52.3% (38.0-66.2%)'; 'withheld' when suppression hides it; '-' when there is nothing to count."""
    if rate is None:
        return DASH if n in (0, None) else "withheld (small numbers)"
    low, high = ci or (None, None)
    if low is None or high is None:
        return percent_text(rate)
    return f"{rate * 100:.1f}% ({low * 100:.1f}-{high * 100:.1f}%)"


def mean_text(value: float | None, ci: Interval | None = None) -> str:
    """'12.5 (10.1 to 14.9)'; '-' when withheld or empty."""
    if value is None:
        return DASH
    shown = f"{value:.1f}"
    if ci and ci[0] is not None and ci[1] is not None:
        shown += f" ({ci[0]:.1f} to {ci[1]:.1f})"
    return shown


def period_title(period: str) -> str:
    return "all courses" if period == "all" else period


def course_table(report: Report) -> Table:
    median = report["median_booster_interval_days"]
    rows = [
        ("Courses started", count_text(report["courses_started"])),
        ("Patients starting a course", count_text(report["patients_started"])),
        ("Induction completed", count_text(report["induction_completed"])),
        ("Induction in progress", count_text(report["in_progress"])),
        ("Boosters delivered in the period", count_text(report["boosters_delivered"])),
        ("Median booster interval (days)", DASH if median is None else f"{median:.1f}"),
        ("PHQ-9 item 9 >= 1 at baseline (thoughts of self-harm)", count_text(report["item9_positive_baseline"])),
        ("PHQ-9 item 9 unknown at baseline (total only)", count_text(report["item9_unknown_baseline"])),
    ]
    return Table("Courses", ("Measure", "Value"), rows, widths=(3, 1))


def outcome_table(report: Report) -> Table:
    rows = []
    for code, summary in report["instruments"].items():
        for group in ("itt", "completers"):
            numbers = summary[group]
            rows.append(
                (
                    code,
                    GROUP_NAMES[group],
                    count_text(numbers["n"]),
                    count_text(numbers["response_n"]),
                    rate_text(numbers["response_rate"], numbers["response_ci"], numbers["n"]),
                    count_text(numbers["remission_n"]),
                    rate_text(numbers["remission_rate"], numbers["remission_ci"], numbers["n"]),
                )
            )
    return Table(
        "Response and remission",
        (
            "Instrument",
            "Group",
            "Courses",
            "Responders",
            "Response rate (95% CI)",
            "Remitters",
            "Remission rate (95% CI)",
        ),
        rows,
        note=" ".join(rule_sentences(report))
        + " Intention to treat keeps every finished course (its last score, or the baseline when there is none); "
        "completers finished induction with an end-of-induction score.",
        widths=(1.25, 1.6, 0.9, 1.15, 2.2, 1.05, 2.2),
    )


def score_table(report: Report) -> Table:
    rows = []
    for code, summary in report["instruments"].items():
        left_out = summary["left_out"]
        rows += [
            (code, "Courses with a baseline score", count_text(summary["baseline_n"])),
            (code, "Eligible (baseline at or above the threshold)", count_text(summary["eligible_n"])),
            (code, "Left out: no baseline", count_text(left_out["no_baseline"])),
            (code, "Left out: baseline below the threshold", count_text(left_out["baseline_below_threshold"])),
            (code, "Left out: still in induction", count_text(left_out["in_progress"])),
            (code, "Mean baseline score (95% CI)", mean_text(summary["mean_baseline"], summary["mean_baseline_ci"])),
            (code, "Mean endpoint score (95% CI)", mean_text(summary["mean_endpoint"], summary["mean_endpoint_ci"])),
            (
                code,
                "Mean change, endpoint - baseline (95% CI)",
                mean_text(summary["mean_change"], summary["mean_change_ci"]),
            ),
            (
                code,
                "Reliable improvement (courses, share)",
                f"{count_text(summary['reliable_improvement_n'])}; "
                + rate_text(
                    summary["reliable_improvement_rate"], summary["reliable_improvement_ci"], summary["itt"]["n"]
                ),
            ),
            (code, "Reliable deterioration (courses)", count_text(summary["reliable_deterioration_n"])),
        ]
    return Table("Scores (intention to treat)", ("Instrument", "Measure", "Value"), rows, widths=(1, 3.2, 2.2))


def pattern_table(report: Report) -> Table:
    rows = []
    for code, summary in report["instruments"].items():
        classes = summary["trajectory_classes"]
        rows.append(
            (
                code,
                count_text(classes["n"]),
                count_text(classes["early"]),
                count_text(classes["late"]),
                count_text(classes["unsustained"]),
                count_text(classes["non_responder"]),
                count_text(classes["no_response_by_t2_n"]),
                rate_text(classes["later_response_rate"], classes["later_response_ci"], classes["no_response_by_t2_n"]),
            )
        )
    return Table(
        "Response patterns among completers",
        (
            "Instrument",
            "Completers",
            "Early",
            "Late",
            "Unsustained",
            "Non-responders",
            "No response after 2 sessions",
            "Of those, responding at the end",
        ),
        rows,
        note="Early: met the response rule after 1 or 2 sessions and still at the end of induction. Late: first "
        "met it after 3 or more sessions and at the end. Unsustained: met it, but not at the end. Non-"
        "responders never met it. The four add up to the completers.",
        widths=(1.1, 1.1, 0.8, 0.8, 1.2, 1.3, 1.5, 2.2),
    )


def long_term_table(report: Report) -> Table:
    block = report["long_term"]
    rows = [("Patients with an index PHQ-9 of 10 or more", count_text(block["index_n"]), "", "", "", "")]
    for key, words in LONG_TERM_WORDS.items():
        numbers = block[key]
        rows.append(
            (
                words,
                count_text(numbers["n"]),
                count_text(numbers[met_key(numbers)]),
                rate_text(numbers["rate"], numbers["ci"], numbers["n"]),
                count_text(numbers["no_score_n"]),
                count_text(numbers["not_yet"]),
            )
        )
    return Table(
        "6- and 12-month outcomes (PHQ-9, CMS159-style)",
        ("Measure", "Measurable", "Met", "Rate (95% CI)", "No PHQ-9 in window", "Not yet"),
        rows,
        note="Patients whose index (first PHQ-9 of 10 or more) falls in the period. 12-month window: 305-425 "
        "days after the index; 6-month: 152-212 days. The latest PHQ-9 in the window counts; none counts as "
        "not met. 'Not yet': the window has not closed in the data. CMS159-style, not the certified eCQM.",
        widths=(2.6, 1.1, 0.8, 2.2, 1.3, 0.9),
    )


def trajectory_table(report: Report) -> Table:
    rows = []
    for code, summary in report["instruments"].items():
        for point in summary["trajectory"]:
            if point["n"] == 0:
                continue
            label = "Baseline" if point["t"] == 0 else f"After {point['t']} session{'s' if point['t'] > 1 else ''}"
            rows.append((code, label, count_text(point["n"]), mean_text(point["mean"], point["ci"])))
    return Table(
        "Mean score across the induction series",
        ("Instrument", "When", "Courses (n)", "Mean score (95% CI)"),
        rows,
        widths=(1, 2, 1.2, 2.4),
    )


def published_table(report: Report) -> Table:
    """The clinic's PHQ-9 ITT and completer rates beside published real-world results, with citations."""
    phq9 = report["instruments"].get("PHQ-9")
    rows = []
    if phq9:
        for group in ("itt", "completers"):
            numbers = phq9[group]
            rows.append(
                (
                    f"This clinic, {GROUP_NAMES[group].lower()}",
                    count_text(numbers["n"]),
                    rate_text(numbers["response_rate"], numbers["response_ci"], numbers["n"]),
                    rate_text(numbers["remission_rate"], numbers["remission_ci"], numbers["n"]),
                )
            )
    for index, study in enumerate(PUBLISHED_RESULTS, start=1):
        rows.append(
            (
                f"[{index}] {study['study']}, {study['modality']}",
                str(study["n"]),
                percent_text(study["response_rate"]) if study["response_rate"] is not None else "not reported",
                percent_text(study["remission_rate"]) if study["remission_rate"] is not None else "not reported",
            )
        )
    return Table(
        "Beside published real-world results (PHQ-9)",
        ("Source", "n", "Response", "Remission"),
        rows,
        note="Published rates count different patients (see each study's basis) and carry their own "
        "uncertainty; read them as yardsticks, not targets.",
        widths=(3.2, 0.8, 2.2, 2.2),
    )


def citations() -> list[str]:
    return [
        f"[{index}] {study['citation']} doi:{study['doi']}. Basis: {study['basis']}."
        for index, study in enumerate(PUBLISHED_RESULTS, start=1)
    ]


def report_tables(report: Report) -> list[Table]:
    """Every table of the document, in reading order."""
    return [
        course_table(report),
        outcome_table(report),
        score_table(report),
        pattern_table(report),
        long_term_table(report),
        trajectory_table(report),
    ]


def _modality_words(lengths: dict) -> str:
    ketamine = sorted({n for modality, n in lengths.items() if modality.startswith("ketamine")})
    parts = []
    if ketamine:
        parts.append(" or ".join(str(n) for n in ketamine) + " sessions for ketamine")
    if "esketamine_nasal" in lengths:
        parts.append(f"{lengths['esketamine_nasal']} for esketamine (Spravato)")
    return ", ".join(parts)


def settings_rows(settings: dict) -> list[tuple[str, str]]:
    """The settings a report was made with, in plain words; never a local file path."""
    known = {
        "course_gap_days": ("A new course starts after a gap of more than", "{} days without a session"),
        "in_progress_days": (
            "A short course is 'in progress' while its last session is within",
            "{} days of the data's end",
        ),
        "baseline_window_days": ("Baseline questionnaire taken up to", "{} days before the first session"),
        "end_of_induction_window_days": (
            "End-of-induction questionnaire taken up to",
            "{} days after the last induction session",
        ),
        "pre_booster_window_days": ("Pre-booster questionnaire taken up to", "{} days before the booster"),
        "eligibility_min": ("Courses counted in response and remission", "baseline score of {} or more"),
        "response_fraction": ("Response", "endpoint at most {:.0%} of the baseline score"),
        "remission_max": ("Remission", "endpoint score of {} or less"),
        "loss_of_response_min": (
            "Loss of response",
            "a later score of {} or more that no longer meets the response rule",
        ),
        "suppression_max": (
            "Small-cell suppression in exports",
            "counts from 1 to {} shown as fewer than the next number",
        ),
    }
    rows = []
    for key, value in settings.items():
        if key in ("source", "clinic_name"):
            continue
        if key == "instrument_rules" and isinstance(value, dict):
            for code, rules in value.items():
                words = OutcomeRules(**rules)
                rows.append(
                    (
                        f"{code} outcome rules",
                        f"counted with a {words.eligibility_words()}; response: {words.response_words()}; "
                        f"remission: {words.remission_words()}; reliable change: {words.reliable_change} points",
                    )
                )
        elif key == "induction_length" and isinstance(value, dict):
            rows.append(("Induction series", _modality_words(value)))
        elif key == "reliable_change" and isinstance(value, dict):
            rows.append(("Reliable change (points)", ", ".join(f"{points} ({code})" for code, points in value.items())))
        elif key in known:
            words, template = known[key]
            rows.append((words, template.format(value)))
        elif isinstance(value, dict):
            rows.append((key.replace("_", " ").capitalize(), ", ".join(f"{k}: {v}" for k, v in value.items())))
        else:
            rows.append((key.replace("_", " ").capitalize(), str(value)))
    source = str(settings.get("source", ""))
    rows.append(
        (
            "Settings from",
            "the docs/DEFINITIONS.md defaults"
            if not source or source == "docs/DEFINITIONS.md defaults"
            else f"the clinic's settings file ({source.replace(chr(92), '/').rsplit('/', 1)[-1]})",
        )
    )
    return rows
