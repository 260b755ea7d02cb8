"""Cell checks over whole columns: pseudonyms, dates, numbers, mapped values, identifying values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from analysis.ingest.cells import alias_keys, first_group, matches, replaced
from analysis.ingest.headers import IDENTIFYING_VALUES, normalise_header
from analysis.ingest.problems import empty_problems, shown_value
from analysis.instruments import INSTRUMENTS
from analysis.vocabulary import AGE_BANDS

EARLIEST_DATE = pd.Timestamp("1990-01-01")
MAX_DOSE_MG = 1500
PSEUDONYM = r"[A-Za-z0-9_.\-]{1,64}"
PSEUDONYM_COLUMNS = ("patient_id", "site", "clinician_id")
SEX_ALIASES = {
    "f": "F",
    "female": "F",
    "woman": "F",
    "m": "M",
    "male": "M",
    "man": "M",
    "x": "X",
    "nonbinary": "X",
    "non_binary": "X",
    "other": "X",
    "u": "U",
    "unknown": "U",
}
CONDITION_ALIASES = {
    "mdd": "MDD",
    "major_depressive_disorder": "MDD",
    "major_depression": "MDD",
    "depression": "MDD",
    "trd": "TRD",
    "treatment_resistant_depression": "TRD",
    "ptsd": "PTSD",
    "post_traumatic_stress_disorder": "PTSD",
    "posttraumatic_stress_disorder": "PTSD",
    "gad": "GAD",
    "generalized_anxiety_disorder": "GAD",
    "generalised_anxiety_disorder": "GAD",
    "anxiety": "GAD",
    "bipolar_depression": "bipolar depression",
    "bipolar": "bipolar depression",
    "bipolar_disorder": "bipolar depression",
    "ocd": "OCD",
    "obsessive_compulsive_disorder": "OCD",
    "other": "other",
}
# 'PHQ-9', 'phq9', 'PHQ_9 total', 'GAD7 score', 'PCL-5' ... -> the instrument's code.
INSTRUMENT_ALIASES = {
    normalise_header(alias) + suffix: instrument.code
    for instrument in INSTRUMENTS.values()
    for alias in (instrument.code, *instrument.aliases)
    for suffix in ("", "_total", "_score")
}
AGE_BAND_ALIASES = {normalise_header(band): band for band in AGE_BANDS} | {"65_plus": "65+", "65plus": "65+"}
# Cell patterns, matched on whole (stripped) cells.
_ISO_DATE = r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
# 12,5 from a European export; never 1,500, which may be a US thousands separator.
_DECIMAL_COMMA = r"^(-?\d+),(\d{1,2}|\d{4,})$"
_BARE_PHONE_OR_SSN = r"^\+?\d{9,11}$"
_DATE_LIKE = r"^\d{4}-\d{2}-\d{2}$"
# 03/14/2026, 14.03.26, 6/20/2025 09:30 AM: the order of day and month is told by the column.
_SLASH_DATE = (
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:[T ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)?$"
)
DATE_ORDERS = {"month": "MM/DD/YYYY", "day": "DD/MM/YYYY"}
NOT_A_DATE = (
    "is not a date written YYYY-MM-DD, MM/DD/YYYY or DD/MM/YYYY (for example 2026-03-15); "
    "in Excel, format the column as Date."
)


# ---------------------------------------------------------------------------
# Row checks: each takes whole columns and records every failing cell.


class Checker:
    """Checks the columns of one table and collects a problem for every failing cell.

    Each check runs once per distinct value of a column and is spread back to the rows by
    code: an export has hundreds of thousands of rows but few distinct dates, answers,
    modalities or patients, so validation stays vectorised and cheap.
    """

    def __init__(
        self,
        label: str,
        frame: pd.DataFrame,
        today: dt.date,
        *,
        date_order: str = "month",
        date_format: str | None = None,
    ):
        self.label = label
        self.date_order = date_order  # month or day first, when a column's own dates cannot tell
        self.date_format = date_format  # a mapping's strptime format for every date column
        self.notes: list[str] = []  # what the import summary says about how cells were read
        self.frame = frame
        self.n = len(frame)
        self.rows = frame.index.to_numpy() + 2  # spreadsheet row: header is row 1
        self.today = pd.Timestamp(today)
        self.found: list[pd.DataFrame] = []
        self._distinct: dict[str, tuple[np.ndarray, pd.Series]] = {}

    def distinct(self, name: str) -> tuple[np.ndarray, pd.Series]:
        """(code of each row, distinct values) of a column; an absent column is blank everywhere."""
        if name not in self._distinct:
            if name in self.frame.columns:
                codes, uniques = pd.factorize(self.frame[name], use_na_sentinel=False)
                values = pd.Series(np.asarray(uniques, dtype=object), dtype="str").fillna("")
            else:
                codes, values = np.zeros(self.n, dtype=np.intp), pd.Series([""], dtype="str")
            self._distinct[name] = (codes, values)
        return self._distinct[name]

    def given(self, name: str) -> np.ndarray:
        """Per row: the cell is not blank."""
        codes, values = self.distinct(name)
        return (values != "").to_numpy(dtype=bool)[codes]

    def _record(self, mask: np.ndarray, column: str, values: str | list[str], reasons: str | np.ndarray) -> None:
        self.found.append(
            pd.DataFrame(
                {
                    "file": self.label,
                    "row": self.rows[mask],
                    "column": column,
                    "value": values,
                    "reason": reasons,
                }
            )
        )

    def flag(self, mask: np.ndarray, column: str, values: str | pd.Series, reason: str | np.ndarray) -> None:
        """A problem for every row where mask is true; values: one per row, or one for all; reason likewise."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        if not isinstance(values, str):
            values = [shown_value(str(v)) for v in np.asarray(values, dtype=object)[mask]]
        if isinstance(reason, np.ndarray):
            reason = reason[mask]
        self._record(mask, column, values, reason)

    def flag_distinct(self, name: str, bad: np.ndarray, reason: str | np.ndarray, *, hide_value: bool = False) -> None:
        """A problem for every row whose value is bad; bad (and reason, if an array) run over distinct values."""
        codes, values = self.distinct(name)
        bad = np.asarray(bad, dtype=bool)
        if not bad.any():
            return
        mask = bad[codes]
        picked = codes[mask]
        shown = "(hidden)" if hide_value else [shown_value(v) for v in values.to_numpy(dtype=object)[picked]]
        self._record(mask, name, shown, reason[picked] if isinstance(reason, np.ndarray) else reason)

    def required(self, name: str) -> None:
        codes, values = self.distinct(name)
        self.flag_distinct(name, (values == "").to_numpy(dtype=bool), f"is blank; {name} is required on every row.")

    def spread(self, name: str, per_value: pd.Series | np.ndarray) -> pd.Series:
        """Text per distinct value (NaN for none) spread to the rows, kept in Arrow (no Python objects)."""
        codes, _ = self.distinct(name)
        per_value = pd.Series(per_value, dtype="str")
        return pd.Series(per_value.array.take(codes), dtype="str")

    def pseudonym(self, name: str, required: bool) -> pd.Series:
        if required:
            self.required(name)
        codes, values = self.distinct(name)
        blank = (values == "").to_numpy(dtype=bool)
        bad = ~blank & ~matches(values, PSEUDONYM, whole=True)
        self.flag_distinct(
            name,
            bad,
            "is not a valid pseudonym: use 1-64 letters, digits, '_', '.' or '-' (no spaces, names or symbols).",
        )
        return self.spread(name, values.where(~(blank | bad)))

    def dates(self, name: str) -> np.ndarray:
        """datetime64 per row; NaT where blank or invalid."""
        self.required(name)
        codes, values = self.distinct(name)
        day = first_group(values, _ISO_DATE)
        parsed = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
        not_iso = (values != "").to_numpy(dtype=bool) & day.isna().to_numpy(dtype=bool)
        written, impossible_reason = self._other_dates(name, values.where(not_iso))
        read = written.notna().to_numpy(dtype=bool)
        parsed = parsed.where(~read, written)
        self.flag_distinct(name, not_iso & ~read & ~self._slashed(values), NOT_A_DATE)
        impossible = (day.notna().to_numpy(dtype=bool) | (not_iso & self._slashed(values))) & parsed.isna().to_numpy(
            dtype=bool
        )
        self.flag_distinct(name, impossible, f"is not a real calendar date{impossible_reason}.")
        future = (parsed > self.today).to_numpy(dtype=bool)
        self.flag_distinct(name, future, f"is in the future (today is {self.today.date()}).")
        early = (parsed < EARLIEST_DATE).to_numpy(dtype=bool)
        self.flag_distinct(name, early, "is before 1990; check the year.")
        parsed = parsed.where(~(future | early))
        return parsed.to_numpy(dtype="datetime64[us]")[codes]

    def _slashed(self, values: pd.Series) -> np.ndarray:
        if self.date_format:
            return (values != "").to_numpy(dtype=bool) & ~first_group(values, _ISO_DATE).notna().to_numpy(dtype=bool)
        return matches(values, _SLASH_DATE, whole=True)

    def _other_dates(self, name: str, values: pd.Series) -> tuple[pd.Series, str]:
        """Dates not written ISO (NaN elsewhere): by the mapping's format, else MM/DD or DD/MM told by the column.

        A first field above 12 means day first, a second above 12 month first; when no value tells,
        the clinic's date_order setting decides. The import summary says which order was used.
        """
        if self.date_format:
            if values.notna().any():
                header = self.frame.attrs.get("headers", {}).get(name, name)
                self.notes.append(f"{header} read as {self.date_format} (the mapping's date format).")
            return pd.to_datetime(values, format=self.date_format, errors="coerce"), (
                f" in the mapping's date format {self.date_format}"
            )
        parts = values.str.extract(_SLASH_DATE)
        slashed = parts[0].notna()
        if not slashed.any():
            return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), ""
        first = pd.to_numeric(parts[0], errors="coerce")
        second = pd.to_numeric(parts[1], errors="coerce")
        day_first = values[slashed & (first > 12)]
        month_first = values[slashed & (second > 12)]
        if len(day_first) and not len(month_first):
            order, why = "day", f"told by dates such as {day_first.iloc[0]}"
        elif len(month_first) and not len(day_first):
            order, why = "month", f"told by dates such as {month_first.iloc[0]}"
        else:
            order = self.date_order
            why = "the clinic's date_order setting" + (
                "; the column mixes both orders" if len(day_first) and len(month_first) else ""
            )
        month, day = (first, second) if order == "month" else (second, first)
        year = pd.to_numeric(parts[2], errors="coerce")
        short = parts[2].str.len() == 2
        # Two-digit years: this century unless that lies in the future.
        century = np.where(2000 + year <= self.today.year, 2000, 1900)
        year = year.where(~short, year + century)
        iso = pd.Series(
            [
                f"{int(y):04d}-{int(m):02d}-{int(d):02d}" if ok else None
                for y, m, d, ok in zip(year, month, day, slashed, strict=True)
            ],
            index=values.index,
            dtype=object,
        )
        header = self.frame.attrs.get("headers", {}).get(name, name)
        self.notes.append(f"{header} read as {DATE_ORDERS[order]} ({why}).")
        return pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce"), f" when read as {DATE_ORDERS[order]} ({why})"

    def mapped(
        self, name: str, mapping: Callable[[str], str | None] | dict[str, str], reason: str, *, required: bool
    ) -> pd.Series:
        """The canonical value per row (NaN when blank or unknown)."""
        if required:
            self.required(name)
        codes, values = self.distinct(name)
        if isinstance(mapping, dict):
            result = alias_keys(values).map(mapping).to_numpy(dtype=object)
        else:
            result = np.array([mapping(v) for v in values.to_numpy(dtype=object)], dtype=object)
        blank = (values == "").to_numpy(dtype=bool)
        unknown = ~blank & pd.isna(result)
        self.flag_distinct(name, unknown, reason)
        return self.spread(name, np.where(blank | unknown, None, result))

    def _numbers(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(codes, number per distinct value (NaN when not a number), given per distinct value)."""
        codes, values = self.distinct(name)
        text = replaced(values, _DECIMAL_COMMA, r"\1.\2")
        given = (values != "").to_numpy(dtype=bool)
        numbers = pd.to_numeric(text.where(given), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return codes, numbers, given

    def integers(self, name: str, low: int, high: int, what: str) -> np.ndarray:
        """Whole numbers in [low, high] per row; -1 marks a blank or invalid cell."""
        if name not in self.frame.columns:
            return np.full(self.n, -1, dtype=np.int64)
        codes, numbers, given = self._numbers(name)
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(numbers) & (numbers == np.round(numbers)) & (numbers >= low) & (numbers <= high)
        self.flag_distinct(name, given & ~valid, f"is not a valid {what} (a whole number from {low} to {high}).")
        return np.where(valid, np.nan_to_num(numbers), -1).astype(np.int64)[codes]

    def integers_in(self, name: str, low: np.ndarray, high: np.ndarray, what: np.ndarray) -> np.ndarray:
        """Whole numbers within each row's own [low, high] (an instrument's item or total range); -1 marks a
        blank or invalid cell. `what` names each row's value ('PHQ-9 total'), and the problem its range."""
        if name not in self.frame.columns:
            return np.full(self.n, -1, dtype=np.int64)
        codes, numbers, given = self._numbers(name)
        numbers, given = numbers[codes], given[codes]
        with np.errstate(invalid="ignore"):
            valid = np.isfinite(numbers) & (numbers == np.round(numbers)) & (numbers >= low) & (numbers <= high)
        bad = given & ~valid
        if bad.any():
            reasons = np.full(self.n, "", dtype=object)
            reasons[bad] = [
                f"is not a valid {word} (a whole number from {lo} to {hi})."
                for word, lo, hi in zip(what[bad], low[bad], high[bad])
            ]
            self.flag(bad, name, self.frame[name], reasons)
        return np.where(valid, np.nan_to_num(numbers), -1).astype(np.int64)

    def dose(self, name: str) -> np.ndarray:
        codes, numbers, given = self._numbers(name)
        not_number = given & np.isnan(numbers)
        self.flag_distinct(name, not_number, "is not a number of milligrams.")
        with np.errstate(invalid="ignore"):
            not_positive = numbers <= 0
            too_high = numbers > MAX_DOSE_MG
        self.flag_distinct(name, not_positive, "is not a valid dose: it must be more than 0 mg.")
        self.flag_distinct(name, too_high, f"is above {MAX_DOSE_MG} mg; check the units (milligrams).")
        return np.where(given & ~not_number & ~not_positive & ~too_high, numbers, np.nan)[codes]

    def identifying_values(self) -> None:
        """Values that look like emails, phone numbers or SSNs, in any column (never repeated back)."""
        for column in self.frame.columns:
            codes, values = self.distinct(column)
            for what, pattern in IDENTIFYING_VALUES:
                hits = matches(values, pattern.pattern)
                self.flag_distinct(
                    column, hits, f"looks like {what}; the store holds pseudonyms only, remove it.", hide_value=True
                )
            if column in PSEUDONYM_COLUMNS:
                digits = matches(values, _BARE_PHONE_OR_SSN, whole=True)
                self.flag_distinct(
                    column,
                    digits,
                    "looks like a phone number or Social Security number written "
                    "without separators; use the clinic's pseudonym instead.",
                    hide_value=True,
                )
                date_like = matches(values, _DATE_LIKE, whole=True)
                self.flag_distinct(
                    column,
                    date_like,
                    "looks like a date (a date of birth?); use the clinic's pseudonym instead.",
                    hide_value=True,
                )

    def problems(self) -> pd.DataFrame:
        if not self.found:
            return empty_problems()
        return pd.concat(self.found, ignore_index=True)
