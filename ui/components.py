"""Small widgets every page shares: metric tiles with n and 95% CI, the empty-state sentence, definitions."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import streamlit as st

from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.timeline import Timeline
from analysis.instruments import INSTRUMENTS, OutcomeRules
from analysis.views.overview import ACTIVE_WINDOW_DAYS, courses_started
from ui import state

if TYPE_CHECKING:
    import plotly.graph_objects as go

# Plain-word restatements of docs/DEFINITIONS.md, one per topic; {placeholders} are the clinic's settings.
DEFINITIONS: dict[str, str] = {
    "courses": (
        "**Course.** A course starts at a patient's first ketamine or esketamine session, and again at any "
        "session more than {course_gap_days} days after the previous one. It is counted in the quarter of "
        "its first session."
    ),
    "induction": (
        "**Induction series.** The first sessions of a course: {induction_lengths}, set by the modality of "
        "its first session. A course *completed induction* when it reached that many sessions; sessions "
        "after that are *boosters*."
    ),
    "in_progress": (
        "**In progress.** Fewer sessions than the induction length and the last session within "
        "{in_progress_days} days of the latest date in the data. These courses are not counted as "
        "finished and are left out of the ITT rates until they finish or stop."
    ),
    "active_patients": (
        "**Active patients.** Patients with at least one session in the last {active_days} days of the "
        "data (counting back from the latest session or questionnaire date in the store), among the "
        "courses the filters select."
    ),
    "timepoints": (
        "**When a questionnaire counts.** A questionnaire reflects the sessions *before* its date; one filled "
        "in on a session day is a pre-session measure. *Baseline* is the latest score in the "
        "{baseline_window_days} days before (or on the day of) session 1. The *end-of-induction* score is the "
        "latest one after the last induction session, at most {end_of_induction_window_days} days after it."
    ),
    "eligibility": (
        "**Who counts in the rates.** Only courses whose baseline score is at or above the instrument's "
        "threshold ({eligibility_min}) can respond or remit. Courses without a baseline, with a lower baseline, or "
        "still in progress are left out, and the page says how many."
    ),
    "itt": (
        "**Intention to treat (ITT).** Every eligible course that is not in progress, including those that "
        "stopped early. Its endpoint is the latest score during the induction series; with no score after "
        "baseline, the baseline is carried forward (counted as no change)."
    ),
    "completers": (
        "**Completers.** Eligible courses that finished the induction series and have an end-of-induction "
        "score. Completer rates are usually higher than ITT rates because those who stopped early are not in them."
    ),
    "response": ("**Response.** {response_rules}."),
    "remission": "**Remission.** {remission_rules}.",
    "reliable_change": (
        "**Reliable improvement.** The score fell by at least {reliable_changes} points from baseline to the "
        "ITT endpoint, a change larger than questionnaire noise. A rise of the same size is *reliable "
        "deterioration*."
    ),
    "intervals": (
        "**95% confidence intervals.** The range the clinic's true rate or mean plausibly lies in, given how "
        "many courses were measured. Rates use the Wilson interval; means use the t interval. Small n gives "
        "wide intervals: read the n next to every number."
    ),
    "item9": (
        "**PHQ-9 item 9 (thoughts of self-harm).** An answer of 1 or more is a safety flag. *Positive at "
        "baseline* counts courses whose baseline PHQ-9 had item 9 ≥ 1. *Back to 0 at endpoint* counts, among "
        "those courses that are not in progress, the ones whose item 9 was 0 on the ITT endpoint questionnaire "
        "(the latest PHQ-9 of the induction series). A course with no PHQ-9 after a session, or whose endpoint "
        "was recorded as a total only (item 9 unknown), is not counted as resolved."
    ),
    "trajectory": (
        "**Mean score by session.** For each number of sessions received (0 = baseline), the mean score of "
        "every course with a questionnaire at that point, eligible or not, finished or not; n is the number "
        "of courses measured there, so later points may rest on fewer courses."
    ),
    "session_rates": (
        "**Responding / remitting by session.** Among eligible courses with a score after that many sessions, "
        "the share meeting the response rule (responding) or the remission rule (remitting) at that point. "
        "{response_rules}. {remission_rules}. Each point has its own n."
    ),
    "trajectory_classes": (
        "**Response patterns.** Among completers, by the first number of sessions after which the score met "
        "the response rule: *early responders* met it after 1 or 2 sessions and still met it at the end of "
        "induction; *late responders* first met it after 3 or more sessions and met it at the end; "
        "*unsustained* met it at some point but not at the end; *non-responders* never met it. The four add "
        "up to the completers. The share beside the chart is among completers with no response after 2 "
        "sessions: how many of them were responding at the end."
    ),
    "long_term": (
        "**6- and 12-month outcomes (CMS159-style, not the certified measure).** Each patient's index is their "
        "first PHQ-9 of 10 or more. The 12-month window runs from 305 to 425 days after it, the 6-month window "
        "from 152 to 212 days. Remission: the latest PHQ-9 in the window is 4 or less; response at 12 months: "
        "at most half the index score. A patient with no PHQ-9 in the window counts as not in remission; a "
        "patient whose window has not closed yet in the data is left out and counted as *not yet*."
    ),
    "severity": ("**Severity bands.** {severity_bands}. Shaded the same way on every chart."),
    "boosters": (
        "**Booster.** Any session after the induction series of a course. The *booster interval* is the number "
        "of days since the previous session."
    ),
    "booster_rate": (
        "**Boosters per patient-month.** Boosters divided by the months that courses which finished induction "
        "were open for boosters: from the last induction session until {course_gap_days} days after the "
        "course's last session (a later session would start a new course) or the end of the data."
    ),
    "pre_booster": (
        "**Pre-booster score.** The latest questionnaire in the {pre_booster_window_days} days before a "
        "booster (the booster day included) and after the previous session."
    ),
    "durability": (
        "**Durability of response.** Among completers who responded, the days from the last induction session "
        "to the first later questionnaire at or above the eligibility threshold ({eligibility_min}) that no "
        "longer meets the response rule (loss of response). Courses that have not lost response count up to "
        "their last questionnaire (censored). The Kaplan–Meier curve shows the share still responding over "
        "time; the median is the time by which half have lost response."
    ),
    "literature": (
        "**Published comparisons.** Real-world studies differ from this clinic in patients, dosing, schedules "
        "and how they count (many report completers or those with follow-up only). Read them as a rough "
        "yardstick, not a target."
    ),
    "suppression": (
        "**Small numbers.** Exported reports hide counts of 1–{suppression_max} and rates built on them. "
        "The dashboard is for internal use and shows them; be careful when sharing screenshots."
    ),
}


def _setting_words() -> dict[str, str]:
    settings = state.settings()
    lengths = dict(settings.induction_length)
    ketamine = sorted({length for modality, length in lengths.items() if modality.startswith("ketamine")})
    induction_words = " or ".join(f"{n}" for n in ketamine) + " for ketamine"
    if "esketamine_nasal" in lengths:
        induction_words += f", {lengths['esketamine_nasal']} for esketamine (Spravato)"
    rules = dict(settings.instrument_rules)
    shown = [code for code in (state.timeline().instruments if state.timeline() else ()) if code in rules] or list(
        rules
    )

    def per_instrument(words: Callable[[OutcomeRules], str]) -> str:
        """'PHQ-9 and GAD-7: <words>; PCL-5: <other words>': instruments sharing a rule are named together."""
        grouped: dict[str, list[str]] = {}
        for code in shown:
            grouped.setdefault(words(rules[code]), []).append(code)
        return "; ".join(f"{' and '.join(codes)}: {text}" for text, codes in grouped.items())

    return {
        "course_gap_days": settings.course_gap_days,
        "induction_lengths": induction_words,
        "in_progress_days": settings.in_progress_days,
        "active_days": ACTIVE_DAYS,
        "baseline_window_days": settings.baseline_window_days,
        "end_of_induction_window_days": settings.end_of_induction_window_days,
        "eligibility_min": per_instrument(lambda r: f"{r.eligibility_min} or more"),
        "response_rules": per_instrument(lambda r: r.response_words()),
        "remission_rules": per_instrument(lambda r: r.remission_words()),
        "reliable_changes": " or ".join(f"{rules[code].reliable_change} ({code})" for code in shown),
        "severity_bands": "; ".join(
            f"{code}: " + ", ".join(f"{b.low}–{b.high} {b.label}" for b in INSTRUMENTS[code].bands) for code in shown
        ),
        "pre_booster_window_days": settings.pre_booster_window_days,
        "suppression_max": settings.suppression_max,
    }


ACTIVE_DAYS = ACTIVE_WINDOW_DAYS


def definitions_expander(topics: list[str], expanded: bool = False) -> None:
    """'How these numbers are defined': the docs/DEFINITIONS.md rules behind this page, in plain words."""
    unknown = [topic for topic in topics if topic not in DEFINITIONS]
    if unknown:
        raise ValueError(f"No definition written for {unknown}; known topics: {sorted(DEFINITIONS)}")
    words = _setting_words()
    with st.expander("How these numbers are defined", expanded=expanded, icon=":material/help:"):
        for topic in topics:
            st.markdown(DEFINITIONS[topic].format(**words))
        st.caption(
            f"Settings in use: {state.settings().source}. Every definition in full: docs/DEFINITIONS.md in the repository."
        )


def instrument_picker(instruments: Iterable[str], key: str, label: str = "Questionnaire") -> str:
    """The questionnaires the clinic records, as a one-click picker; the first is picked by default.

    Only instruments with assessments in the store are offered (docs/DEFINITIONS.md), so a clinic that never
    records the PCL-5 never sees it.
    """
    options = list(instruments) or [next(iter(INSTRUMENTS))]
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)  # e.g. a stale choice from before an import
    picked = st.segmented_control(
        label, options, default=options[0], key=key, format_func=lambda code: f"{code} ({INSTRUMENTS[code].condition})"
    )
    return picked or options[0]


def empty_state(message: str) -> None:
    """One sentence the user can act on, in place of a chart or table that has nothing to show."""
    st.info(message, icon=":material/info:")


def percent(rate: float | None, digits: int = 0) -> str:
    return "—" if rate is None else f"{rate * 100:.{digits}f}%"


def ci_words(ci: Sequence[float | None] | None, as_percent: bool = True, digits: int = 0) -> str:
    """'95% CI 41–58%' or '' when the interval cannot be computed."""
    low, high = (list(ci) + [None, None])[:2] if ci is not None else (None, None)
    if low is None or high is None:
        return ""
    if as_percent:
        return f"95% CI {low * 100:.{digits}f}–{high * 100:.{digits}f}%"
    return f"95% CI {low:.{digits}f} to {high:.{digits}f}"


def rate_tile(
    label: str,
    successes: int | str | None,
    n: int | str | None,
    rate: float | None,
    ci: Sequence[float | None] | None,
    help: str | None = None,
    digits: int = 0,
) -> None:
    """A rate in a bordered tile: '54%', with 'n/N courses · 95% CI' under it; '—' with a reason when n is 0.
    `digits=1` where the page sits beside a report's own figures ('61.8%')."""
    with st.container(border=True):
        st.metric(label, percent(rate, digits), help=help)
        if not n:
            st.caption("No courses to count yet")
        else:
            interval = ci_words(ci, digits=digits)
            st.caption(f"{successes} of {n} courses" + (f" · {interval}" if interval else ""))


def count_tile(label: str, value: int | str | None, help: str | None = None, caption: str | None = None) -> None:
    """A plain count in a bordered tile (courses started, active patients)."""
    with st.container(border=True):
        st.metric(label, "—" if value is None else f"{value:,}" if isinstance(value, int) else value, help=help)
        if caption:
            st.caption(caption)


def mean_tile(
    label: str,
    mean: float | None,
    n: int | None,
    ci: Sequence[float | None] | None,
    unit: str = "points",
    signed: bool = False,
    help: str | None = None,
) -> None:
    """A mean with its n and 95% t interval; signed=True for a change (e.g. '-7.2 points')."""
    with st.container(border=True):
        shown = "—" if mean is None else f"{mean:+.1f} {unit}" if signed else f"{mean:.1f} {unit}"
        st.metric(label, shown, help=help)
        if not n:
            st.caption("No courses to count yet")
        else:
            interval = ci_words(ci, as_percent=False, digits=1)
            st.caption(f"n = {n} courses" + (f" · {interval}" if interval else ""))


NO_DATA = (
    "The store holds no sessions yet. Load your clinic's exports on the **Data** page "
    "(or build the demo clinic with `python -m analysis demo`), and this page fills in."
)
NO_MATCH = "No courses match these filters — widen the date range or clear a filter."


def require_courses(timeline: Timeline | None, filters: CohortFilter) -> bool:
    """True when the cohort has courses; otherwise show the sentence that says why not and what to do."""
    if timeline is None or cached(courses_started, timeline)["courses"] == 0:
        empty_state(NO_DATA)
        return False
    if cached(courses_started, timeline, filters)["courses"] == 0:
        empty_state(NO_MATCH)
        return False
    return True


def _version(timeline: Timeline) -> tuple:
    """The key a timeline's numbers are cached under: the version it carries (read with it, once)."""
    return timeline.version or state.version()[0]


@st.cache_resource(show_spinner=False, max_entries=16)
def _cohort(store_key: tuple, filters: CohortFilter, _timeline: Timeline) -> Timeline:
    """The filtered courses, made once per store version and filters and shared (never changed)."""
    return cohort(_timeline, filters)


@st.cache_data(show_spinner=False, max_entries=256)
def _cached(
    module: str, name: str, store_key: tuple, args: tuple, kwargs: tuple, _timeline: Timeline, _call_args: tuple
) -> Any:
    function = getattr(importlib.import_module(module), name)
    return function(_timeline, *_call_args, **dict(kwargs))


def cached(function: Callable, timeline: Timeline, *args, **kwargs) -> Any:
    """function(timeline, *args) from analysis/, cached per store version, settings and arguments (filters too).

    The timeline stays out of the cache key (it is large); the version it carries stands for it. Every
    analysis function starts by narrowing the timeline to its CohortFilter, so the narrowed cohort is
    made once here and handed over with the filter set to None: same numbers, one filtering per rerun.
    """
    key = (_version(timeline), state.scope_key(timeline))  # a clinician's results never reach anyone else
    filters = next((arg for arg in args if isinstance(arg, CohortFilter)), None)
    call_args = args
    if filters is not None and not filters.is_everyone():
        timeline = _cohort(key, filters, timeline)
        call_args = tuple(None if isinstance(arg, CohortFilter) else arg for arg in args)
    return _cached(
        function.__module__, function.__qualname__, key, args, tuple(sorted(kwargs.items())), timeline, call_args
    )


@st.cache_resource(show_spinner=False, max_entries=128)
def _figure(module: str, name: str, args: tuple, kwargs: tuple) -> go.Figure:
    return getattr(importlib.import_module(module), name)(*args, **dict(kwargs))


def figure(chart: Callable[..., go.Figure], *args, **kwargs) -> go.Figure:
    """chart(*args) from analysis.charts, built once per distinct input (building a plotly figure is slow).

    The same Figure object is handed to every session: pass it to st.plotly_chart, never change it.
    """
    return _figure(chart.__module__, chart.__qualname__, args, tuple(sorted(kwargs.items())))
