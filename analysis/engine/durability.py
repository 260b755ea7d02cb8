"""Durability (docs/DEFINITIONS.md): days from session L to loss of response, or censoring, per responder."""

from __future__ import annotations

import pandas as pd

from analysis.engine.cohort import CohortFilter, cohort
from analysis.engine.timeline import Timeline


def durability(timeline: Timeline, instrument: str = "PHQ-9", filters: CohortFilter | None = None) -> pd.DataFrame:
    """Days from session L to loss of response, or to the last assessment (censored), per responder.

    Responders are completers who responded. Loss of response is the first assessment after the
    end-of-induction score at or above the instrument's eligibility threshold that no longer meets
    its response rule (PHQ-9: >= 10 and above half of baseline; docs/DEFINITIONS.md).
    """
    rules = timeline.settings.rules_for(instrument)
    sub = cohort(timeline, filters)
    responders = sub.course_outcomes.loc[
        (sub.course_outcomes["instrument"] == instrument) & sub.course_outcomes["completer_response"].astype(bool),
        ["course_id", "baseline", "end_of_induction_date"],
    ].merge(sub.courses[["course_id", "session_l_date", "patient_id"]], on="course_id")
    columns = ["course_id", "patient_id", "days", "lost_response", "event_date"]
    if responders.empty:
        return pd.DataFrame(columns=columns)
    later = sub.assessments.loc[
        sub.assessments["instrument"] == instrument, ["course_id", "assessment_date", "total"]
    ].merge(responders, on="course_id")
    later = later.loc[pd.to_datetime(later["assessment_date"]) > pd.to_datetime(later["end_of_induction_date"])]
    lost = later.loc[rules.lost_response(later["baseline"].to_numpy(float), later["total"].to_numpy(float))]
    first_loss = lost.groupby("course_id")["assessment_date"].min().rename("loss_date")
    last_seen = later.groupby("course_id")["assessment_date"].max().rename("last_date")
    result = responders.merge(first_loss, on="course_id", how="left").merge(last_seen, on="course_id", how="left")
    result["lost_response"] = result["loss_date"].notna()
    result["event_date"] = result["loss_date"].where(
        result["lost_response"], result["last_date"].where(result["last_date"].notna(), result["end_of_induction_date"])
    )
    result["days"] = (pd.to_datetime(result["event_date"]) - pd.to_datetime(result["session_l_date"])).dt.days
    return result[columns].sort_values("course_id").reset_index(drop=True)
