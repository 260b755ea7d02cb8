"""One record per questionnaire: items, ranges, prorating, bands, safety items, outcome rules, labels, codes.

Adding an instrument is adding a record to CATALOG (and its tests): the importer, the settings,
the outcome engine, the report, the pages' pickers, the patient charts and the exports all read
these records and nothing else. Definitions: docs/DEFINITIONS.md §1 and §4.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, TypeAlias, overload

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import NDArray

    # Scores of many courses at once: the outcome rules answer them with an array, one answer per course.
    Scores: TypeAlias = NDArray[np.floating] | NDArray[np.integer] | pd.Series

# How the response rule is written: the endpoint at most a fraction of baseline (PHQ-9, GAD-7), or
# a fall of at least some points (PCL-5).
ResponseKind = Literal["fraction", "drop"]


@dataclass(frozen=True)
class Band:
    """A severity band: totals low..high (both included) carry this label."""

    low: int
    high: int
    label: str


@dataclass(frozen=True)
class OutcomeRules:
    """The per-instrument outcome rules (docs/DEFINITIONS.md §4-§5); each value is a clinic setting."""

    eligibility_min: int  # baseline at or above this: eligible for response and remission
    response_kind: ResponseKind
    response_value: float  # the fraction of baseline, or the points of the fall
    remission_max: int  # endpoint at or below this: remission
    reliable_change: int  # points of change that count as reliable

    @overload
    def responds(self, baseline: float, endpoint: float) -> bool: ...
    @overload
    def responds(self, baseline: Scores, endpoint: Scores) -> NDArray[np.bool_]: ...
    def responds(self, baseline: float | Scores, endpoint: float | Scores) -> bool | NDArray[np.bool_]:
        """Does the endpoint meet the response rule? Works on numbers and on numpy arrays alike."""
        baseline = np.asarray(baseline, dtype=float)
        endpoint = np.asarray(endpoint, dtype=float)
        if self.response_kind == "fraction":
            met = endpoint <= self.response_value * baseline
        else:
            met = baseline - endpoint >= self.response_value
        return met if met.ndim else bool(met)

    @overload
    def remits(self, endpoint: float) -> bool: ...
    @overload
    def remits(self, endpoint: Scores) -> NDArray[np.bool_]: ...
    def remits(self, endpoint: float | Scores) -> bool | NDArray[np.bool_]:
        met = np.asarray(endpoint, dtype=float) <= self.remission_max
        return met if met.ndim else bool(met)

    @overload
    def lost_response(self, baseline: float, score: float) -> bool: ...
    @overload
    def lost_response(self, baseline: Scores, score: Scores) -> NDArray[np.bool_]: ...
    def lost_response(self, baseline: float | Scores, score: float | Scores) -> bool | NDArray[np.bool_]:
        """Loss of response (docs/DEFINITIONS.md §5): at or above eligibility and no longer meeting the response rule."""
        baseline = np.asarray(baseline, dtype=float)
        score = np.asarray(score, dtype=float)
        if self.response_kind == "fraction":
            still = score <= self.response_value * baseline
        else:
            still = baseline - score >= self.response_value
        lost = (score >= self.eligibility_min) & ~still
        return lost if lost.ndim else bool(lost)

    @overload
    def response_threshold(self, baseline: float) -> float: ...
    @overload
    def response_threshold(self, baseline: Scores) -> NDArray[np.floating]: ...
    def response_threshold(self, baseline: float | Scores) -> float | NDArray[np.floating]:
        """The highest endpoint that still counts as a response, for a reference line on a chart."""
        baseline = np.asarray(baseline, dtype=float)
        if self.response_kind == "fraction":
            return self.response_value * baseline
        return baseline - self.response_value

    # Words for captions, help texts and exports, always built from the values in force.
    def response_words(self) -> str:
        if self.response_kind == "fraction":
            if self.response_value == 0.5:
                return "score at endpoint at most half of baseline"
            return f"score at endpoint at most {self.response_value:.0%} of baseline"
        return f"a fall of at least {self.response_value:g} points from baseline"

    def threshold_words(self) -> str:
        """Where the response threshold lies, for a chart's legend: 'half of baseline', '10 points below baseline'."""
        if self.response_kind == "fraction":
            return "half of baseline" if self.response_value == 0.5 else f"{self.response_value:.0%} of baseline"
        return f"{self.response_value:g} points below baseline"

    def remission_words(self) -> str:
        return f"score at endpoint {self.remission_max} or lower"

    def eligibility_words(self) -> str:
        return f"baseline {self.eligibility_min} or more"

    def reliable_words(self) -> str:
        return f"a change of {self.reliable_change} points or more"


@dataclass(frozen=True)
class Instrument:
    """Everything the importer, the engine, the report and the pages need to know about a questionnaire."""

    code: str  # as stored and shown: "PHQ-9"
    name: str  # full name for help texts
    condition: str  # what it measures, in clinic words: "Depression"
    n_items: int
    item_min: int
    item_max: int
    max_missing_for_prorating: int
    bands: tuple[Band, ...]
    rules: OutcomeRules  # the defaults; settings.toml may override each value
    item_labels: tuple[str, ...]
    answer_labels: tuple[str, ...]  # one per answer item_min..item_max
    # Items whose answer >= 1 is a safety flag (PHQ-9 item 9: thoughts of self-harm), 1-based.
    safety_items: tuple[int, ...] = ()
    # Column prefix in a layout B session log (phq9_total, phq9_item_1, ...).
    log_prefix: str = ""
    # Other ways exports write the code (matched case-insensitively, punctuation ignored).
    aliases: tuple[str, ...] = ()
    # Codes for FHIR and other coded sources.
    loinc_panel: str | None = None
    loinc_total: str | None = None
    loinc_items: tuple[str, ...] = ()
    questionnaire_urls: tuple[str, ...] = ()
    citation: str = ""

    @property
    def total_max(self) -> int:
        return self.n_items * self.item_max

    @property
    def total_min(self) -> int:
        return self.n_items * self.item_min

    def band(self, total: float | None) -> str | None:
        if total is None or total != total:  # None or NaN
            return None
        for band in self.bands:
            if band.low <= total <= band.high:
                return band.label
        return None

    def with_rules(self, rules: OutcomeRules) -> Instrument:
        return replace(self, rules=rules)


PHQ9 = Instrument(
    code="PHQ-9",
    name="Patient Health Questionnaire-9",
    condition="Depression",
    n_items=9,
    item_min=0,
    item_max=3,
    max_missing_for_prorating=2,
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 19, "moderately severe"),
        Band(20, 27, "severe"),
    ),
    rules=OutcomeRules(
        eligibility_min=10, response_kind="fraction", response_value=0.5, remission_max=4, reliable_change=6
    ),
    item_labels=(
        "Little interest or pleasure",
        "Feeling down or hopeless",
        "Sleep problems",
        "Tired, little energy",
        "Appetite",
        "Feeling bad about yourself",
        "Trouble concentrating",
        "Moving or speaking slowly / restless",
        "Thoughts of self-harm",
    ),
    answer_labels=("not at all", "several days", "more than half the days", "nearly every day"),
    safety_items=(9,),
    log_prefix="phq9",
    aliases=("phq9", "phq_9", "phq 9"),
    loinc_panel="44249-1",
    loinc_total="44261-6",
    loinc_items=("44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3", "44260-8"),
    questionnaire_urls=("http://loinc.org/q/44249-1", "http://hl7.org/fhir/us/core/Questionnaire/phq-9"),
    citation="Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med. 2001;16(9):606-613.",
)

GAD7 = Instrument(
    code="GAD-7",
    name="Generalized Anxiety Disorder-7",
    condition="Anxiety",
    n_items=7,
    item_min=0,
    item_max=3,
    max_missing_for_prorating=1,
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 21, "severe"),
    ),
    rules=OutcomeRules(
        eligibility_min=10, response_kind="fraction", response_value=0.5, remission_max=4, reliable_change=4
    ),
    item_labels=(
        "Feeling nervous or on edge",
        "Not able to stop worrying",
        "Worrying too much",
        "Trouble relaxing",
        "Restless",
        "Easily annoyed or irritable",
        "Afraid something awful might happen",
    ),
    answer_labels=("not at all", "several days", "more than half the days", "nearly every day"),
    log_prefix="gad7",
    aliases=("gad7", "gad_7", "gad 7"),
    loinc_panel="69737-5",
    loinc_total="70274-6",
    loinc_items=("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"),
    questionnaire_urls=("http://loinc.org/q/69737-5",),
    citation="Spitzer RL, Kroenke K, Williams JB, Löwe B. Arch Intern Med. 2006;166(10):1092-1097.",
)

PCL5 = Instrument(
    code="PCL-5",
    name="PTSD Checklist for DSM-5",
    condition="PTSD",
    n_items=20,
    item_min=0,
    item_max=4,
    max_missing_for_prorating=4,  # 80% answered (docs/DEFINITIONS.md §1)
    # No empirical severity bands exist: the probable-PTSD cut-off is the one line drawn.
    bands=(
        Band(0, 32, "below the probable-PTSD cut-off"),
        Band(33, 80, "probable PTSD"),
    ),
    rules=OutcomeRules(
        eligibility_min=33, response_kind="drop", response_value=10.0, remission_max=32, reliable_change=10
    ),
    item_labels=(
        "Repeated disturbing memories",
        "Repeated disturbing dreams",
        "Feeling as if it were happening again",
        "Upset when reminded",
        "Strong physical reactions when reminded",
        "Avoiding memories, thoughts or feelings",
        "Avoiding external reminders",
        "Trouble remembering parts of it",
        "Strong negative beliefs",
        "Blaming yourself or others",
        "Strong negative feelings",
        "Loss of interest in activities",
        "Feeling distant or cut off",
        "Trouble feeling positive feelings",
        "Irritable or angry outbursts",
        "Taking risks or self-destructive behaviour",
        "Being super-alert or on guard",
        "Jumpy or easily startled",
        "Difficulty concentrating",
        "Trouble falling or staying asleep",
    ),
    answer_labels=("not at all", "a little bit", "moderately", "quite a bit", "extremely"),
    log_prefix="pcl5",
    aliases=("pcl5", "pcl_5", "pcl 5", "pcl5_dsm5"),
    # LOINC 101697-1 "PTSD checklist - civilian version DSM-5 [PCL-5]" and 101698-9 "PTSD PCL-5 score".
    loinc_panel="101697-1",
    loinc_total="101698-9",
    questionnaire_urls=("http://loinc.org/q/101697-1",),
    citation="Weathers FW et al. The PTSD Checklist for DSM-5 (PCL-5). National Center for PTSD, 2013.",
)

# The instruments in the order every picker, table and export lists them.
CATALOG: tuple[Instrument, ...] = (PHQ9, GAD7, PCL5)
