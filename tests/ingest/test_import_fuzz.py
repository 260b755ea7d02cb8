"""The generative fuzzer in the suite: valid clinic exports with one to three mutations, checked against the contract.

What each example must show is in import_fuzzer.check_import; bench/fuzz_import.py runs the same
fuzzer for minutes. Most examples import in memory (fast); fewer go through the command line and a
store file, as an administrator's import does. Each mutation of the catalogue is also drawn on its
own, so one that silently stopped applying cannot hide a crack.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from import_fuzzer import MUTATIONS, check_import, exports

FUZZ = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@settings(max_examples=40, **FUZZ)
@given(case=exports(), skip_invalid=st.booleans())
def test_any_mutated_clinic_export_is_imported_or_refused_as_the_contract_says(case, skip_invalid):
    for expect in case.expects:
        event(expect.mutation)
    outcome = check_import(case, skip_invalid, command_line=False)
    event("refused" if outcome.refused else "imported")


@settings(max_examples=8, **FUZZ)
@given(case=exports(), skip_invalid=st.booleans())
def test_the_command_line_answers_mutated_exports_with_0_or_2_and_sentences(case, skip_invalid):
    check_import(case, skip_invalid, command_line=True)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_mutation_applies_and_is_answered(mutation):
    @settings(max_examples=1, **FUZZ)
    @given(case=exports(mutation), skip_invalid=st.booleans())
    def check(case, skip_invalid):
        assume(case.expects)  # never applying at all fails the test (Unsatisfiable)
        outcome = check_import(case, skip_invalid, command_line=False)
        level = case.expects[0].level
        assert outcome.refused or (level == "row" and skip_invalid)

    check()
