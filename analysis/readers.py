"""Turn uploaded bytes (CSV or .xlsx) into tables of text cells, or one sentence saying why not."""
from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass

import pandas as pd

MAX_FILE_BYTES = 200 * 1024 * 1024
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls


class ReadError(ValueError):
    """A file that cannot be read at all; the message is one sentence for the user."""


@dataclass
class RawTable:
    """One table as read: every cell is text ('' when blank); row k is spreadsheet row k + 2."""

    label: str  # file name, or "file.xlsx [sheet]"
    frame: pd.DataFrame


def _cell_text(value) -> str:
    """A spreadsheet cell as the text a CSV export would have held."""
    if value is None:
        return ""
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        if pd.isna(value):
            return ""
        # An Excel date cell: keep the date; a time of day on an assessment is noise.
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is pd.NaT:
        return ""
    return str(value).strip()


def _frame_to_text(frame: pd.DataFrame) -> pd.DataFrame:
    text = pd.DataFrame(
        {str(column).strip(): frame[column].map(_cell_text) for column in frame.columns},
        index=range(len(frame)),
    )
    return text.astype(str)


def _read_xlsx(name: str, data: bytes) -> list[RawTable]:
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object, header=0, engine="openpyxl")
    except (zipfile.BadZipFile, EOFError, KeyError, OSError) as error:
        raise ReadError(
            f"{name} looks like an Excel workbook but could not be opened ({type(error).__name__}); "
            "it may be truncated or damaged: export it again."
        ) from None
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise ReadError(
            f"{name} could not be read as an Excel workbook ({str(error).splitlines()[0][:120]}); export it again as .xlsx or CSV."
        ) from None
    tables = []
    for sheet, frame in sheets.items():
        frame = frame.loc[:, [not str(c).startswith("Unnamed:") or frame[c].notna().any() for c in frame.columns]]
        if frame.shape[1] == 0:
            continue
        tables.append(RawTable(f"{name} [{sheet}]", _frame_to_text(frame)))
    if not tables:
        raise ReadError(f"{name} has no sheet with a header row; nothing to import.")
    return tables


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Excel on Windows saves "CSV" in cp1252; accept it when every byte is valid there.
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ReadError(
            f"{name} is not readable text (not UTF-8); save it from your spreadsheet as 'CSV UTF-8'."
        ) from None


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_csv(name: str, data: bytes) -> list[RawTable]:
    if b"\x00" in data[:8192]:
        raise ReadError(f"{name} is a binary file, not a CSV or .xlsx export; export the data as CSV or .xlsx.")
    text = _decode(name, data)
    if not text.strip():
        raise ReadError(f"{name} is empty; export the data again with a header row.")
    first_line = text.lstrip("\r\n").splitlines()[0]
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            sep=_delimiter(first_line),
            quoting=csv.QUOTE_MINIMAL,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise ReadError(f"{name} is empty; export the data again with a header row.") from None
    except pd.errors.ParserError as error:
        detail = str(error).strip().splitlines()[-1]
        raise ReadError(f"{name} is not a well-formed CSV file ({detail}); check for stray commas or quotes.") from None
    frame.columns = [str(column).strip() for column in frame.columns]
    return [RawTable(name, frame.apply(lambda column: column.str.strip()))]


def read_table_bytes(name: str, data: bytes) -> list[RawTable]:
    """Read one uploaded or named file into its tables (a CSV has one, a workbook one per sheet)."""
    if len(data) == 0:
        raise ReadError(f"{name} is empty (0 bytes); export the data again.")
    if len(data) > MAX_FILE_BYTES:
        raise ReadError(
            f"{name} is {len(data) / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 1024 // 1024} MB limit; split it by year and import the parts."
        )
    if data.startswith(_OLE_MAGIC):
        raise ReadError(f"{name} is an old .xls workbook; save it as .xlsx or CSV and import that.")
    if data.startswith(_XLSX_MAGIC) or name.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(name, data)
    return _read_csv(name, data)
