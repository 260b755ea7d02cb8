"""PHQ-9 and GAD-7 scoring (OUTCOMES.md §1), checked against totals worked out by hand.

Bands are Kroenke, Spitzer & Williams 2001 (PHQ-9) and Spitzer et al. 2006 (GAD-7), the cut-offs
every public scorer uses (awell-score, finalform). The worked cases are the ones in the import issue.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.instruments import (
    GAD7,
    INCOMPLETE,
    INSTRUMENTS,
    PHQ9,
    PRORATED,
    SUMMED,
    score,
    score_items,
    severity_band,
)


def test_phq9_worked_example_is_10_moderate():
    """3+0+1+2+0+0+1+0+3 = 10, in the 10-14 band."""
    total, method = score("PHQ-9", [3, 0, 1, 2, 0, 0, 1, 0, 3])
    assert (total, method) == (10, "summed")
    assert severity_band("PHQ-9", total) == "moderate"


def test_gad7_worked_example_is_7_mild():
    """3+0+1+2+0+0+1 = 7, in the 5-9 band."""
    total, method = score("GAD-7", [3, 0, 1, 2, 0, 0, 1])
    assert (total, method) == (7, "summed")
    assert severity_band("GAD-7", total) == "mild"


@pytest.mark.parametrize("code, lowest, highest", [("PHQ-9", 0, 27), ("GAD-7", 0, 21)])
def test_every_answer_0_or_every_answer_3(code, lowest, highest):
    n_items = INSTRUMENTS[code].n_items
    assert score(code, [0] * n_items) == (lowest, "summed")
    assert score(code, [3] * n_items) == (highest, "summed")
    assert severity_band(code, lowest) == "minimal"
    assert severity_band(code, highest) == "severe"


@pytest.mark.parametrize(
    "total, band",
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_band_edges(total, band):
    assert severity_band(PHQ9, total) == band


@pytest.mark.parametrize(
    "total, band",
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (19, "severe"),
        (20, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_band_edges(total, band):
    assert severity_band(GAD7, total) == band


@pytest.mark.parametrize("total", [-1, 28, None])
def test_no_band_outside_the_range(total):
    assert severity_band(PHQ9, total) is None


def test_band_edges_reached_from_items():
    """Band edges 4/5, 9/10, 14/15, 19/20 reached by answering items, not only from a total."""
    assert severity_band("PHQ-9", score("PHQ-9", [1, 1, 1, 1, 0, 0, 0, 0, 0])[0]) == "minimal"
    assert severity_band("PHQ-9", score("PHQ-9", [1, 1, 1, 1, 1, 0, 0, 0, 0])[0]) == "mild"
    assert severity_band("PHQ-9", score("PHQ-9", [1] * 9)[0]) == "mild"
    assert severity_band("PHQ-9", score("PHQ-9", [2, 1, 1, 1, 1, 1, 1, 1, 1])[0]) == "moderate"
    assert score("PHQ-9", [2, 2, 2, 2, 2, 1, 1, 1, 1]) == (14, "summed")
    assert score("PHQ-9", [2, 2, 2, 2, 2, 2, 1, 1, 1]) == (15, "summed")
    assert score("PHQ-9", [3, 3, 3, 2, 2, 2, 2, 1, 1]) == (19, "summed")
    assert score("PHQ-9", [3, 3, 3, 3, 2, 2, 2, 1, 1]) == (20, "summed")
    assert severity_band("GAD-7", score("GAD-7", [2, 2, 2, 2, 2, 2, 2])[0]) == "moderate"  # 14
    assert severity_band("GAD-7", score("GAD-7", [3, 2, 2, 2, 2, 2, 2])[0]) == "severe"  # 15


def test_eight_phq9_answers_of_2_prorate_to_18():
    """One item blank: mean 2 x 9 items = 18."""
    assert score("PHQ-9", [2, 2, 2, 2, 2, 2, 2, 2, None]) == (18, "prorated")
    assert score("PHQ-9", [None, 2, 2, 2, 2, 2, 2, 2, 2]) == (18, "prorated")


def test_prorating_rounds_half_up():
    """Eight PHQ-9 answers summing to 4: 4 / 8 x 9 = 4.5 -> 5 (Python's round() would give 4).
    Six GAD-7 answers summing to 3: 3 / 6 x 7 = 3.5 -> 4; summing to 9: 10.5 -> 11 (round() gives 10)."""
    assert round(4.5) == 4 and round(10.5) == 10  # the trap this guards against
    assert score("PHQ-9", [1, 1, 1, 1, 0, 0, 0, 0, None]) == (5, "prorated")
    assert score("GAD-7", [1, 1, 1, 0, 0, 0, None]) == (4, "prorated")
    assert score("GAD-7", [2, 2, 2, 1, 1, 1, None]) == (11, "prorated")


def test_phq9_with_two_blank_items_is_prorated_but_three_is_incomplete():
    """7 answers summing to 7: 7 / 7 x 9 = 9. With a third blank and no total: incomplete."""
    assert score("PHQ-9", [1, 1, 1, 1, 1, 1, 1, None, None]) == (9, "prorated")
    assert score("PHQ-9", [1, 1, 1, 1, 1, 1, None, None, None]) == (None, "incomplete")


def test_gad7_with_two_blank_items_and_no_total_is_incomplete():
    assert score("GAD-7", [1, 2, 3, 1, 2, None, None]) == (None, "incomplete")


def test_incomplete_items_with_a_supplied_total_use_the_total():
    assert score("GAD-7", [1, 2, 3, 1, 2, None, None], total=12) == (12, "supplied")
    assert score("PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, None], total=9) == (9, "supplied")


def test_total_only_is_valid():
    assert score("PHQ-9", total=14) == (14, "supplied")
    assert score("GAD-7", [None] * 7, total=0) == (0, "supplied")


def test_total_that_disagrees_with_complete_items_is_refused():
    with pytest.raises(ValueError, match="does not equal"):
        score("PHQ-9", [3, 0, 1, 2, 0, 0, 1, 0, 3], total=11)
    assert score("PHQ-9", [3, 0, 1, 2, 0, 0, 1, 0, 3], total=10) == (10, "summed")


@pytest.mark.parametrize("answer", [4, -1, 2.5, True, "2"])
def test_an_answer_outside_0_to_3_is_refused(answer):
    with pytest.raises(ValueError, match="item 1"):
        score("PHQ-9", [answer, 0, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="item 1"):
        score("GAD-7", [answer, 0, 0, 0, 0, 0, 0])


def test_a_whole_float_answer_counts_as_its_number():
    assert score("GAD-7", [2.0, 0, 0, 0, 0, 0, 0]) == (2, "summed")


@pytest.mark.parametrize("code, total", [("PHQ-9", 28), ("PHQ-9", -1), ("GAD-7", 22), ("GAD-7", 7.5)])
def test_a_total_outside_the_range_is_refused(code, total):
    with pytest.raises(ValueError, match="total"):
        score(code, total=total)


def test_too_many_answers_no_answers_or_unknown_instrument_are_refused():
    with pytest.raises(ValueError, match="7 items"):
        score("GAD-7", [0] * 8)
    with pytest.raises(ValueError, match="needs item answers or a total"):
        score("PHQ-9", [None] * 9)
    with pytest.raises(ValueError, match="unknown instrument"):
        score("PHQ-2", [0, 0])


def test_score_items_matches_score_row_by_row():
    """The vectorised scorer the importer uses gives the same answer as score() for each row."""
    rows = [
        ([3, 0, 1, 2, 0, 0, 1, 0, 3], None),
        ([2, 2, 2, 2, 2, 2, 2, 2, None], None),
        ([1, 1, 1, 1, 0, 0, 0, 0, None], None),
        ([1, 1, 1, 1, 1, 1, None, None, None], None),
        ([None] * 9, 14),
        ([1, 1, 1, 1, 1, 1, 1, 1, None], 9),
    ]
    items = np.array([[-1 if a is None else a for a in answers] for answers, _ in rows])
    totals = np.array([-1 if t is None else t for _, t in rows])
    scored = score_items(PHQ9, items, totals)
    for k, (answers, total) in enumerate(rows):
        expected_total, expected_method = score("PHQ-9", answers, total)
        assert (scored["total"][k], scored["method"][k]) == (
            -1 if expected_total is None else expected_total,
            expected_method,
        )
    assert not scored["mismatch"].any()


# PCL-5 (OUTCOMES.md §1): 20 items 0-4, total 0-80; up to 4 missing items prorated.


def test_pcl5_complete_items_are_summed():
    assert score("PCL-5", [4] * 10 + [1] * 10) == (50, SUMMED)
    assert score("PCL-5", [4] * 20) == (80, SUMMED)


def test_pcl5_four_missing_items_are_prorated_and_five_are_incomplete():
    """16 answers summing to 41: round_half_up(41 * 20 / 16) = round_half_up(51.25) = 51.
    16 answers summing to 38: 38 * 20 / 16 = 47.5 -> 48 (half rounds up). 15 answers: incomplete."""
    sixteen = [4] * 10 + [1] * 1 + [0] * 5  # 41
    assert score("PCL-5", sixteen + [None] * 4) == (51, PRORATED)
    assert score("PCL-5", [4] * 9 + [2] + [0] * 6 + [None] * 4) == (48, PRORATED)
    assert score("PCL-5", [4] * 15 + [None] * 5) == (None, INCOMPLETE)


def test_pcl5_answers_run_to_4_and_totals_to_80():
    with pytest.raises(ValueError, match="item 3 must be 0-4"):
        score("PCL-5", [1, 1, 5] + [0] * 17)
    with pytest.raises(ValueError, match="total must be 0-80"):
        score("PCL-5", total=81)
    assert severity_band("PCL-5", 32) == "below the probable-PTSD cut-off"
    assert severity_band("PCL-5", 33) == "probable PTSD"


def test_the_pcl5_record_holds_the_outcomes_md_rules():
    rules = INSTRUMENTS["PCL-5"].rules
    assert (rules.eligibility_min, rules.remission_max, rules.reliable_change) == (33, 32, 10)
    assert (rules.response_kind, rules.response_value) == ("drop", 10.0)
    assert rules.responds(45, 35) and not rules.responds(45, 36)
    assert rules.lost_response(50, 41) and not rules.lost_response(50, 40) and not rules.lost_response(40, 32)
