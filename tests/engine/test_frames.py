"""is_in gives pandas' isin, whatever the column's type, with a missing value never found."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.engine.frames import is_in

WORDS = st.sampled_from(["P00001#1", "P00001#2", "P00002#1", "2026Q1", "2026Q2", "", "ü"])


@given(values=st.lists(st.one_of(WORDS, st.none()), max_size=30), wanted=st.lists(WORDS, max_size=6))
@pytest.mark.parametrize("dtype", ["str", object])
def test_is_in_agrees_with_pandas_on_text_columns(dtype, values, wanted):
    column = pd.Series(values, dtype=dtype)
    expected = column.isin(wanted).to_numpy() & column.notna().to_numpy()
    assert np.array_equal(is_in(column, wanted), expected)
    assert np.array_equal(is_in(column, pd.Series(wanted, dtype=dtype)), expected)


@given(values=st.lists(st.integers(-5, 5), max_size=30), wanted=st.sets(st.integers(-5, 5), max_size=6))
def test_is_in_agrees_with_pandas_on_whole_numbers(values, wanted):
    column = pd.Series(values, dtype="int64")
    assert np.array_equal(is_in(column, wanted), column.isin(wanted).to_numpy())


def test_an_empty_column_or_an_empty_choice_finds_nothing():
    assert is_in(pd.Series([], dtype="str"), ["a"]).tolist() == []
    assert is_in(pd.Series(["a", None], dtype="str"), []).tolist() == [False, False]
