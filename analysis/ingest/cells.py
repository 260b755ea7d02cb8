"""Pattern checks over a column's distinct values: Python's re for a few short values, Arrow's RE2 otherwise."""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd

from analysis.ingest.headers import normalise_header

# Checks run on a column's distinct values. For a few short values Python's re is quicker than setting
# up a pandas/Arrow string kernel (a small export is mostly set-up); otherwise Arrow's RE2 kernels run,
# vectorised and in linear time (Python's backtracking re is quadratic on a 100,000-character cell).
_FEW_VALUES = 512
_SHORT_VALUE = 256


def _python_is_quicker(values: pd.Series) -> bool:
    return len(values) <= _FEW_VALUES and max(map(len, values.to_numpy(dtype=object)), default=0) <= _SHORT_VALUE


@functools.cache
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.ASCII)  # ASCII: the same \d and \w as Arrow's RE2


def matches(values: pd.Series, pattern: str, *, whole: bool = False) -> np.ndarray:
    """Per distinct value: does the pattern match the whole value (whole) or any part of it?"""
    if not _python_is_quicker(values):
        found = values.str.fullmatch(pattern) if whole else values.str.contains(pattern, regex=True)
        return found.to_numpy(dtype=bool, na_value=False)
    test = _regex(pattern).fullmatch if whole else _regex(pattern).search
    return np.array([test(v) is not None for v in values.to_numpy(dtype=object)], dtype=bool)


def first_group(values: pd.Series, pattern: str) -> pd.Series:
    """Per distinct value: the first group of a match at the start, or NaN."""
    if not _python_is_quicker(values):
        return values.str.extract(pattern)[0]
    match = _regex(pattern).match
    found = [match(v) for v in values.to_numpy(dtype=object)]
    return pd.Series([m.group(1) if m else None for m in found], dtype="str")


def replaced(values: pd.Series, pattern: str, replacement: str) -> pd.Series:
    if not _python_is_quicker(values):
        return values.str.replace(pattern, replacement, regex=True)
    substitute = _regex(pattern).sub
    return pd.Series([substitute(replacement, v) for v in values.to_numpy(dtype=object)], dtype="str")


def alias_keys(values: pd.Series) -> pd.Series:
    """'Ketamine IV ' -> 'ketamine_iv': the form aliases are looked up in (as normalise_header)."""
    if not _python_is_quicker(values):
        return values.str.lower().str.replace(r"[^0-9a-z]+", "_", regex=True).str.strip("_")
    return pd.Series([normalise_header(v) for v in values.to_numpy(dtype=object)], dtype="str")
