"""Fast frame helpers the engine, the report and the views share."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def is_in(values: pd.Series, wanted: Iterable[object]) -> np.ndarray:
    """`values.isin(wanted)` as a boolean array, computed by Arrow.

    pandas' isin on Arrow-backed strings (the timeline's ids) loops in Python: 0.1 s for 100,000 course ids
    against 0.003 s here, and the report calls it per instrument (bench/bench_report.py). A missing value is
    never in `wanted`.
    """
    choices = list(wanted.tolist() if isinstance(wanted, pd.Series | pd.Index) else wanted)
    if not _arrow_backed(values):  # numpy and object columns: pandas' own hash table is the fast way
        return values.isin(choices).to_numpy() & values.notna().to_numpy()
    if not len(values):
        return np.zeros(0, dtype=bool)
    left = pa.array(values, from_pandas=True)  # the column's own Arrow data, not a copy
    right = pa.array(choices, from_pandas=True)
    if right.type != left.type:
        if pa.types.is_null(right.type) or pa.types.is_null(left.type):  # nothing chosen, or nothing recorded
            return np.zeros(len(values), dtype=bool)
        right = right.cast(left.type)
    found = pc.is_in(left, value_set=right, skip_nulls=True)
    return np.asarray(pc.fill_null(found, False), dtype=bool)


def _arrow_backed(values: pd.Series) -> bool:
    dtype = values.dtype
    return isinstance(dtype, pd.ArrowDtype) or (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow")
