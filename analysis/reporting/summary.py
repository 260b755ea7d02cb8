"""The written summary: a few plain sentences built only from the report's own numbers, never guessed."""

from __future__ import annotations

from analysis.engine.long_term import MEASURE_WORDS as LONG_TERM_WORDS
from analysis.reporting.document import percent_text, period_title
from analysis.reporting.published import PUBLISHED_RESULTS
from analysis.reporting.report import period_kind
from analysis.reporting.shapes import Count, Report

INSTRUMENT = "PHQ-9"


def _courses(value: Count) -> str:
    """12 -> '12 courses'; '<11' -> 'fewer than 11 courses'."""
    return _amount(value, "course", "courses")


def _amount(value: Count, one: str, many: str) -> str:
    if isinstance(value, str) and value.startswith("<"):
        return f"fewer than {value[1:]} {many}"
    return f"{value} {one if value == 1 else many}"


def _why_no_rate(n: Count | None) -> str:
    if n in (0, None):
        return "no eligible course has finished induction yet"
    return "it is withheld because fewer than 11 courses or events count (small-cell suppression)"


def _outcome_sentences(report: Report, history: list[Report]) -> list[str]:
    summary = report["instruments"].get(INSTRUMENT)
    if summary is None:
        return []
    itt = summary["itt"]
    period = period_title(report["quarter"])
    if itt["response_rate"] is None:
        return [f"{INSTRUMENT} response ({period}): no rate, as {_why_no_rate(itt['n'])}."]
    remission = (
        f"{percent_text(itt['remission_rate'])} remitted"
        if itt["remission_rate"] is not None
        else "the remission rate is withheld because fewer than 11 remissions count"
    )
    sentences = [
        f"Of {_courses(itt['n'])} that could be counted in {period} (intention to treat), "
        f"{percent_text(itt['response_rate'])} responded on the {INSTRUMENT} and {remission}."
    ]
    earlier = [
        (r["quarter"], r["instruments"][INSTRUMENT]["itt"]["response_rate"])
        for r in history
        if INSTRUMENT in r["instruments"]
    ]
    shown = [(q, rate) for q, rate in earlier if rate is not None]
    periods = f"{period_kind(report['quarter'])}s"
    if earlier and shown:
        low = min(shown, key=lambda item: item[1])
        high = max(shown, key=lambda item: item[1])
        missing = len(earlier) - len(shown)
        tail = f" ({missing} of them without a rate to show)" if missing else ""
        if low[0] == high[0]:
            sentences.append(
                f"In the {len(earlier)} {periods} before, the one with a rate to show ({low[0]}) had "
                f"{percent_text(low[1])}{tail}."
            )
        else:
            sentences.append(
                f"In the {len(earlier)} {periods} before, response ranged from {percent_text(low[1])} ({low[0]}) to "
                f"{percent_text(high[1])} ({high[0]}){tail}."
            )
    elif earlier:
        sentences.append(f"None of the {len(earlier)} {periods} before has a response rate to compare with.")
    published = [s["response_rate"] for s in PUBLISHED_RESULTS if s["response_rate"] is not None]
    if published:
        low, high = min(published), max(published)
        rate = itt["response_rate"]
        where = "within" if low <= rate <= high else "below" if rate < low else "above"
        sentences.append(
            f"That is {where} the range of published real-world response rates, {percent_text(low)} to "
            f"{percent_text(high)} (see the comparison with published results; the studies count different patients)."
        )
    return sentences


def _completion_sentence(report: Report) -> str:
    return (
        f"{_courses(report['courses_started']).capitalize()} started in {period_title(report['quarter'])}: "
        f"{_amount(report['induction_completed'], 'completed', 'completed')} induction and "
        f"{_amount(report['in_progress'], 'is', 'are')} still in progress."
    )


def _durability_sentence(report: Report) -> str:
    boosters = report["boosters_delivered"]
    median = report["median_booster_interval_days"]
    if boosters == 0:
        return "No booster sessions were given in the period."
    if median is None:
        return f"{_amount(boosters, 'booster session was', 'booster sessions were').capitalize()} given in the period."
    return (
        f"{_amount(boosters, 'booster session was', 'booster sessions were').capitalize()} given in the period, a "
        f"median of {median:.1f} days after the session before."
    )


def _long_term_sentence(report: Report) -> str | None:
    block = report.get("long_term")
    if not block:
        return None
    twelve = block["remission_12m"]
    words = LONG_TERM_WORDS["remission_12m"].lower()
    if twelve["rate"] is not None:
        return (
            f"{percent_text(twelve['rate'])} of {_amount(twelve['n'], 'patient', 'patients')} with a measurable "
            f"12-month window were in remission (CMS159-style); {_amount(twelve['not_yet'], 'patient', 'patients')} "
            "cannot be measured yet."
        )
    if twelve["n"] == 0:
        return f"No patient indexed in the period can be measured for {words} yet ({twelve['not_yet']} not yet)."
    return f"The rate of {words} is withheld because fewer than 11 patients or remissions count."


def _safety_sentence(report: Report) -> str:
    positive, unknown = report["item9_positive_baseline"], report["item9_unknown_baseline"]
    sentence = f"Safety: {_courses(positive)} had PHQ-9 item 9 (thoughts of self-harm) at 1 or more at baseline"
    if unknown not in (0, None):
        sentence += f"; for {_courses(unknown)} item 9 is unknown (total recorded only), so they are not counted as 0"
    return sentence + "."


def written_summary(report: Report, history: list[Report] | None = None) -> list[str]:
    """Plain sentences for the top of the quarterly page, the HTML and the PDF.

    Every number comes from `report`, the reports of the periods before (`history`) or the published
    results the document prints beside them; a withheld or missing rate is said to be so.
    """
    sentences = [_completion_sentence(report)]
    sentences += _outcome_sentences(report, history or [])
    long_term = _long_term_sentence(report)
    if long_term:
        sentences.append(long_term)
    sentences.append(_durability_sentence(report))
    sentences.append(_safety_sentence(report))
    return sentences
