"""Turn uploaded bytes (CSV or .xlsx) into tables of text cells, or one sentence saying why not."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

MAX_FILE_BYTES = 200 * 1024 * 1024
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# Files people pick by mistake, told by their first bytes: (prefix, what it is).
_NOT_A_TABLE = (
    (b"%PDF", "a PDF document"),
    (b"{", "a JSON file (for example a FHIR resource)"),
    (b"[", "a JSON file (for example a FHIR resource)"),
    (b"<?xml", "an XML file (for example a FHIR or CDA document)"),
    (b"<html", "a web page (HTML)"),
    (b"<!doctype", "a web page (HTML)"),
    (b"\x1f\x8b", "a gzip archive"),
)
_CSV_SHAPE_ERROR = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_MAX_WIDTH_RETRIES = 20
_EXCEL_SEPARATOR_HINT = re.compile(r"sep=(.)")
_ALL_TEXT = {f"f{k}": pa.string() for k in range(1024)}  # every cell read as text: "007" stays "007"


class ReadError(ValueError):
    """A file that cannot be read at all; the message is one sentence for the user."""


@dataclass
class RawTable:
    """One table as read: every cell is text ('' when blank); row k is spreadsheet row k + 2."""

    label: str  # file name, or "file.xlsx [sheet]"
    frame: pd.DataFrame


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV export would have held."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        # An Excel date cell: keep the date; a time of day on a session or assessment is noise.
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _column_letter(position: int) -> str:
    """0 -> A, 27 -> AB: how a spreadsheet names a column."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _table(label: str, cells: pd.DataFrame) -> RawTable | None:
    """Find the header (the first non-blank row) in a grid of stripped text cells.

    `cells` is indexed by spreadsheet row number. Returns None for a grid with no header.
    Columns without a header are dropped when blank and refused when they hold values
    (a stray delimiter or a value with an unquoted comma has shifted the row).
    """
    filled = (cells != "").to_numpy()
    non_blank_rows = np.flatnonzero(filled.any(axis=1))
    if len(non_blank_rows) == 0:
        return None
    header_at = non_blank_rows[0]
    header = [str(h) for h in cells.iloc[header_at]]
    body = cells.iloc[header_at + 1 :]
    body_filled = filled[header_at + 1 :]
    keep = []
    for position, name in enumerate(header):
        if name:
            keep.append(position)
            continue
        with_value = np.flatnonzero(body_filled[:, position])
        if len(with_value):
            row = body.index[with_value[0]]
            raise ReadError(
                f"{label}: row {row} has a value in column {_column_letter(position)}, which has no header; "
                "name the column, or check that row for a stray delimiter or an unquoted comma."
            )
    seen: dict[str, int] = {}
    for position in keep:
        name = header[position]
        if name in seen:
            raise ReadError(
                f"{label}: the column {name!r} appears twice (columns {_column_letter(seen[name])} and "
                f"{_column_letter(position)}); keep one of them."
            )
        seen[name] = position
    frame = body.iloc[:, keep]
    frame.columns = [header[p] for p in keep]
    # Contract: row k of the frame is spreadsheet row k + 2 (the header is row 1 when nothing is above it).
    frame.index = body.index - 2
    return RawTable(label, frame)


def _read_xlsx(name: str, data: bytes) -> list[RawTable]:
    import openpyxl

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it skips; the user can do nothing with that.
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, EOFError, KeyError, OSError) as error:
        raise ReadError(
            f"{name} looks like an Excel workbook but could not be opened ({type(error).__name__}); "
            "it may be truncated or damaged: export it again."
        ) from None
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise ReadError(
            f"{name} could not be read as an Excel workbook ({str(error).splitlines()[0][:120] if str(error) else type(error).__name__}); "
            "export it again as .xlsx or CSV."
        ) from None
    tables = []
    try:
        for sheet in workbook.worksheets:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rows = [tuple(_cell_text(value) for value in row) for row in sheet.iter_rows(values_only=True)]
            width = max((len(row) for row in rows), default=0)
            if width == 0:
                continue  # an empty sheet
            grid = pd.DataFrame(
                [row + ("",) * (width - len(row)) for row in rows], dtype=str, index=range(1, len(rows) + 1)
            )
            table = _table(f"{name} [{sheet.title}]", grid)
            if table is not None:
                tables.append(table)
    except ReadError:
        raise
    except Exception as error:  # a sheet damaged past the zip directory
        raise ReadError(
            f"{name} could not be read to the end ({type(error).__name__}); it may be truncated or damaged: export it again."
        ) from None
    finally:
        workbook.close()
    if not tables:
        raise ReadError(f"{name} has no sheet with a header row; nothing to import.")
    return tables


def _decode(name: str, data: bytes) -> str:
    if data.startswith(_UTF16_BOMS):
        # Excel's "Unicode Text" export.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ReadError(f"{name} is damaged UTF-16 text; save it from your spreadsheet as 'CSV UTF-8'.") from None
    if b"\x00" in data[:8192]:
        raise ReadError(f"{name} is a binary file, not a CSV or .xlsx export; export the data as CSV or .xlsx.")
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


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _first_line(text: str) -> str:
    """The first line holding anything (the header), without splitting the whole file."""
    start = 0
    while True:
        end = text.find("\n", start)
        line = text[start:] if end < 0 else text[start:end]
        if line.strip() or end < 0:
            return line
        start = end + 1


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _parse_csv_fast(utf8: bytes, delimiter: str) -> pd.DataFrame | None:
    """Every record as stripped text cells with Arrow's multi-threaded reader; None when the file is
    not a clean rectangle (the careful reader below then says where and why)."""
    try:
        table = pa_csv.read_csv(
            io.BytesIO(utf8),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=_ALL_TEXT, strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if table.num_columns > len(_ALL_TEXT) or any(not pa.types.is_string(t) for t in table.schema.types):
        return None
    columns = [pc.utf8_trim_whitespace(column) for column in table.columns]
    return pa.table(columns, names=[str(k) for k in range(len(columns))]).to_pandas()


def _parse_csv(name: str, text: str, delimiter: str) -> pd.DataFrame:
    """Every record of the file as text cells, header included; ragged rows are padded."""
    width = None
    for _ in range(_MAX_WIDTH_RETRIES):
        try:
            return pd.read_csv(
                io.StringIO(text),
                header=None,
                names=None if width is None else range(width),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                sep=delimiter,
                quoting=csv.QUOTE_MINIMAL,
                engine="c",
                index_col=False,
            )
        except pd.errors.EmptyDataError:
            raise ReadError(f"{name} is empty; export the data again with a header row.") from None
        except pd.errors.ParserError as error:
            message = str(error)
            shape = _CSV_SHAPE_ERROR.search(message)
            if shape and (width is None or int(shape[3]) > width):
                # A row wider than the header: read again as wide, then look at what the extra cells hold.
                width = int(shape[3])
                continue
            detail = message.strip().splitlines()[-1] if message.strip() else type(error).__name__
            raise ReadError(f"{name} is not a well-formed CSV file ({detail}); check for stray quotes.") from None
    raise ReadError(f"{name} has rows of many different lengths; check it for stray delimiters.")


def _read_csv(name: str, data: bytes) -> list[RawTable]:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:16].lower()
    for prefix, what in _NOT_A_TABLE:
        if head.startswith(prefix):
            raise ReadError(
                f"{name} is {what}, not a CSV or .xlsx table; export the data as a layout A or B table "
                "(see data/templates)."
            )
    text = _decode(name, data)
    if not text.strip():
        raise ReadError(f"{name} is empty; export the data again with a header row.")
    # Blank lines above the header still count as spreadsheet rows.
    body = text.lstrip(" \t\r\n")
    blank_lines_above = text[: len(text) - len(body)].count("\n")
    first_line = _first_line(body)
    excel_hint = _EXCEL_SEPARATOR_HINT.fullmatch(first_line.strip())
    if excel_hint:
        # Excel's "sep=;" line names the delimiter; Excel does not show it as a row.
        delimiter = excel_hint[1]
        body = body[len(first_line) :].lstrip("\r\n")
    else:
        delimiter = _delimiter(first_line)
    if blank_lines_above == 0 and not excel_hint and _is_utf8(data):
        utf8 = data.removeprefix(b"\xef\xbb\xbf")
    else:
        utf8 = body.encode("utf-8")
    cells = _parse_csv_fast(utf8, delimiter)
    if cells is None:
        cells = _parse_csv(name, body, delimiter)
        cells = cells.fillna("").astype(str)
        cells = cells.apply(lambda column: column.str.strip())
    cells.index = range(blank_lines_above + 1, blank_lines_above + len(cells) + 1)  # record k is spreadsheet row k
    table = _table(name, cells)
    if table is None:
        raise ReadError(f"{name} is empty; export the data again with a header row.")
    return [table]


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
