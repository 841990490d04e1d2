"""Exports for spreadsheets: CSV with a BOM for Chinese Excel, XLSX, formula injection neutralised;
and the audit of downloaded lists (``export`` events in the audit log)."""

from __future__ import annotations

import io
import json
import numbers
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.core import private_files
from analytics.core.auth import LOCAL_ROLE, LOCAL_USER, PHONE_COLUMNS
from analytics.core.i18n import catalog, text
from analytics.store import audit, db

# A cell starting with one of these is run as a formula by Excel, WPS or LibreOffice; the
# full-width signs are what Chinese and Japanese input methods type, and WPS and Excel read them so.
# The small forms (﹦﹢﹣﹫) too: NFKC reads them as the plain signs, and so may a spreadsheet.
FORMULA_PREFIXES: tuple[str, ...] = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "＝",
    "＋",
    "－",
    "＠",
    "﹦",
    "﹢",
    "﹣",
    "﹫",
)


# Characters that show nothing before a cell's first sign: format characters (zero-width spaces,
# a BOM), control characters (a NUL some programs drop on reading a CSV), combining marks (the
# grapheme joiner), and the letters drawn blank (Hangul fillers, the Braille blank).
_UNSEEN = frozenset({"Cf", "Cc", "Mn", "Me"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _shows_nothing(ch: str) -> bool:
    return ch.isspace() or ch in _BLANK_LETTERS or unicodedata.category(ch) in _UNSEEN


def neutralise_text(value: str) -> str:
    """Return ``value`` with a ``'`` in front when a spreadsheet would run it as a formula: it starts
    with a formula sign, or has one after leading spaces or characters that show nothing (a
    spreadsheet that trims cells, LibreOffice's "trim spaces", runs `` =1+1`` too); a sign is any
    character NFKC reads as one (the full-width, small, superscript and subscript forms)."""
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    at = 0
    while at < len(value) and _shows_nothing(value[at]):
        at += 1
    if at == len(value):
        return value
    first = value[at]
    if first in FORMULA_PREFIXES or unicodedata.normalize("NFKC", first).startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells and column names that a spreadsheet would run as a formula
    start with ``'``."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue

        def fix(value: object) -> object:
            if isinstance(value, str):
                return neutralise_text(value)
            return value

        if series.dtype == object or pd.api.types.is_string_dtype(series):
            out[column] = series.map(lambda v: v if isinstance(v, numbers.Number) else fix(v)).astype(object)
        elif isinstance(series.dtype, pd.CategoricalDtype):
            out[column] = series.astype(object).map(fix)
    # Column names from data (a pivot by advisor or car model) are cells too.
    out.columns = [neutralise_text(c) if isinstance(c, str) else c for c in out.columns]
    return out


def _labelled(frame: pd.DataFrame, headers: Mapping[str, str] | None) -> pd.DataFrame:
    renamed = frame.rename(columns=dict(headers)) if headers else frame
    return neutralise(renamed)


# Characters an XLSX (or a PPTX: any XML) cannot hold, for which lxml refuses the whole workbook or
# slide: control characters, of which Word's manual line break (\x0b) and a form feed become line
# breaks and the others U+FFFD; the noncharacters U+FFFE and U+FFFF (valid UTF-8 in a CSV, so a
# comment can hold one) and lone surrogates, U+FFFD too.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xlsx_text(value: str) -> str:
    """Return text an XLSX cell or a PPTX text can hold: characters XML cannot carry replaced (see
    ``_XLSX_ILLEGAL``)."""
    return _XLSX_ILLEGAL.sub(lambda m: "\n" if m.group() in "\x0b\x0c" else "\ufffd", value)


# The most characters an Excel cell holds, counted as UTF-16 units (an emoji takes two): Excel offers
# to "repair" a workbook with a longer one, and removes the sheet's text to do so.
EXCEL_CELL_CHARS = 32_767


def excel_cell(value: str) -> str:
    """Return text an Excel cell can hold: characters XML cannot carry replaced (``xlsx_text``) and
    a text longer than ``EXCEL_CELL_CHARS`` cut, ending in "…"."""
    value = xlsx_text(value)
    if len(value) <= EXCEL_CELL_CHARS // 2 or len(value.encode("utf-16-le")) <= 2 * EXCEL_CELL_CHARS:
        return value
    # Cut at a unit boundary; half of a pair cut in two is dropped by "ignore".
    return value.encode("utf-16-le")[: 2 * (EXCEL_CELL_CHARS - 1)].decode("utf-16-le", "ignore") + "…"


def _xlsx_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every text cell and column name as an XLSX can hold it."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            out[column] = series.map(lambda v: excel_cell(v) if isinstance(v, str) else v).astype(object)
    out.columns = [excel_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


# Columns that are identifiers written with digits: Excel must keep them as text (no 1.38E+10,
# no lost leading zero).
TEXT_COLUMNS: frozenset[str] = frozenset({"vin", "plate", *PHONE_COLUMNS})
# Shares and probabilities (0-1): Excel shows them as percentages, as the pages do (96.3%, not
# 0.962963); the cell keeps the exact value.
PERCENT_COLUMNS: frozenset[str] = frozenset(
    {"rate", "wilson_low", "wilson_high", "share", "prior_share", "churn_probability", "p30", "p60", "p90",
     "any30", "any60", "any90"}
)  # fmt: skip
# A score whose size means nothing to a caller; its rank does (1 = call first).
RANK_COLUMNS: tuple[str, ...] = ("priority",)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MISSING_TEXT = frozenset({"None", "none", "nan", "NaN", "NaT", "<NA>"})


def _is_days(column: str) -> bool:
    return "days" in column.lower()


# Columns holding codes, and the catalogue section that words each code.
CODE_SECTIONS = {
    "status": "churn.status",
    "value_tier": "churn.tier",
    "service_type": "service_type",
    "flag": "deck.flag_kind",  # the overview's red flags
    # the data-quality findings
    "table_name": "quality.table",
    "problem": "quality.problem",
    "reason": "quality.reason",
}


def coded_values(lang: str) -> dict[str, dict[str, str]]:
    """Return {column: {code: word}} for the coded columns of lists, in ``lang``."""
    out: dict[str, dict[str, str]] = {}
    for column, section in CODE_SECTIONS.items():
        prefix = section + "."
        out[column] = {
            key[len(prefix) :]: text(key, lang)
            for key in catalog()
            if key.startswith(prefix) and "." not in key[len(prefix) :]
        }
    return out


def for_people(
    frame: pd.DataFrame, lang: str, codes: Mapping[str, Mapping[Any, str]] | None = None
) -> pd.DataFrame:
    """Return the list as a person reads it: coded values in words (``codes``: column -> code ->
    word), yes/no for true/false, blanks for missing values, whole days, ISO dates as dates, and
    a rank (1 = first) in place of a priority score."""
    out = frame.copy()
    yes, no = text("export.yes", lang), text("export.no", lang)
    for column in list(out.columns):
        name = str(column)
        series = out[column]
        if codes and name in codes:
            words = codes[name]
            out[column] = series.map(lambda v, w=words: w.get(v, v) if v is not None else v).astype(object)
            series = out[column]
        if name in RANK_COLUMNS and pd.api.types.is_numeric_dtype(series):
            # Highest score first; equal scores keep the list's order.
            order = (-series.astype(float)).rank(method="first").astype("Int64")
            out[column] = order
            out = out.rename(columns={column: "rank"})
            continue
        if pd.api.types.is_bool_dtype(series) or (
            series.dtype == object
            and len(series.dropna())
            and series.dropna().map(lambda v: isinstance(v, bool)).all()
        ):
            out[column] = series.map(lambda v: "" if v is None or v is pd.NA else (yes if v else no)).astype(
                object
            )
            continue
        if _is_days(name) and pd.api.types.is_float_dtype(series):
            out[column] = series.round().astype("Int64")
            continue
        if name in TEXT_COLUMNS:
            out[column] = series.map(_as_text).astype(object)
            continue
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            values = series.dropna()
            values = values[values.astype(str) != ""]
            if (
                len(values)
                and values.map(
                    lambda v: (
                        isinstance(v, (date, datetime)) or (isinstance(v, str) and bool(_ISO_DATE.match(v)))
                    )
                ).all()
            ):
                out[column] = pd.to_datetime(series.where(series.astype(str) != "", None), errors="coerce")
                continue
            out[column] = series.map(
                lambda v: (
                    ""
                    if v is None
                    or (isinstance(v, str) and v in _MISSING_TEXT)
                    or (isinstance(v, float) and pd.isna(v))
                    else v
                )
            ).astype(object)
    return out


def _as_text(value: object) -> object:
    # A phone number or VIN as the text it is: an integer-looking float loses its ".0".
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _width(value: object) -> int:
    # Display width: a Chinese character takes two columns.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def _sheet_name(name: str) -> str:
    # Excel refuses []:*?/\ in a sheet name, more than 31 characters and an apostrophe at either end.
    cleaned = re.sub(r"\s+", " ", re.sub(r"[\[\]:*?/\\]", " ", name)).strip()
    return cleaned[:31].strip(" '") or "data"


def _moment_format(series: pd.Series) -> str:
    # Days as dates; a time of day (a callback at 09:30) kept, to the second only when it has one.
    moments = series.dropna()
    if (moments == moments.dt.normalize()).all():
        return "%Y-%m-%d"
    return "%Y-%m-%d %H:%M:%S" if (moments.dt.second != 0).any() else "%Y-%m-%d %H:%M"


def csv_bytes(frame: pd.DataFrame, headers: Mapping[str, str] | None = None) -> bytes:
    """Return the frame as UTF-8 CSV with a BOM (so Chinese Excel opens it), formula-safe, dates as
    days and times of day kept. Cells are written as they are: no ``="..."`` guard for digits, so
    no exported cell starts with a formula sign (the Excel download keeps phones and IDs as text)."""
    labelled = _labelled(frame, headers)
    for column in labelled.columns:
        series = labelled[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            labelled[column] = series.dt.strftime(_moment_format(series)).fillna("")
    # CRLF ends a record (as Excel writes CSV), so the writer quotes every cell holding a CR or an
    # LF: a bare CR inside a cell would end the row in Excel and start the next with its text.
    return labelled.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def xlsx_bytes(
    frame: pd.DataFrame,
    headers: Mapping[str, str] | None = None,
    sheet: str = "data",
    *,
    title: str | None = None,
) -> bytes:
    """Return the frame as an XLSX workbook a call centre can work in: ``title`` (store, list,
    as-of) on the first line, a bold frozen header with a filter, widths by content, phone
    numbers and VINs as text, dates as Excel dates; formula-safe."""
    from openpyxl.styles import Font
    from openpyxl.styles.fonts import DEFAULT_FONT

    def bold(size: float) -> Font:
        # The workbook's font (Calibri on the theme's minor scheme, whose Chinese face is 宋体) in
        # bold: a bare Font(bold=True) names neither typeface nor scheme, leaving the title's and
        # header's face, Chinese included, to each program's fallback.
        base = DEFAULT_FONT
        return Font(
            name=base.name, family=base.family, scheme=base.scheme, color=base.color, size=size, bold=True
        )

    buffer = io.BytesIO()
    labelled = _xlsx_cells(_labelled(frame, headers))
    title = excel_cell(neutralise_text(title)) if title else title  # a cell like any other
    text_headers = {headers.get(c, c) if headers else c for c in frame.columns if str(c) in TEXT_COLUMNS}
    percent_headers = {
        headers.get(c, c) if headers else c
        for c in frame.columns
        if str(c) in PERCENT_COLUMNS and pd.api.types.is_numeric_dtype(frame[c])
    }
    for column in labelled.columns:
        # openpyxl cannot write timezone-aware datetimes; Excel has no time zones anyway.
        if isinstance(labelled[column].dtype, pd.DatetimeTZDtype):
            labelled[column] = labelled[column].dt.tz_localize(None)
    name = _sheet_name(sheet)
    top = 1 if title else 0  # rows above the header
    with pd.ExcelWriter(
        buffer, engine="openpyxl", date_format="YYYY-MM-DD", datetime_format="YYYY-MM-DD HH:MM"
    ) as writer:
        labelled.to_excel(writer, index=False, sheet_name=name, startrow=top)
        ws = writer.sheets[name]
        header_row = top + 1
        if title:
            ws.cell(row=1, column=1, value=title).font = bold(13)
        for cell in ws[header_row]:
            cell.font = bold(DEFAULT_FONT.sz)
        last_row = header_row + len(labelled)
        columns = len(labelled.columns)
        if columns:
            last = ws.cell(row=header_row, column=columns).column_letter
            ws.auto_filter.ref = f"A{header_row}:{last}{last_row}"
        ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
        for idx, column in enumerate(labelled.columns, start=1):
            letter = ws.cell(row=header_row, column=idx).column_letter
            series = labelled[column]
            if pd.api.types.is_datetime64_any_dtype(series):
                days_only = bool((series.dropna() == series.dropna().dt.normalize()).all())
                width = 12 if days_only else 17
                shown = "YYYY-MM-DD" if days_only else "YYYY-MM-DD HH:MM"
                for (cell,) in ws.iter_rows(
                    min_row=header_row + 1, max_row=last_row, min_col=idx, max_col=idx
                ):
                    cell.number_format = shown
            else:
                width = max([_width(column) + 2] + [_width(v) for v in series.head(200)])
            ws.column_dimensions[letter].width = min(max(width + 2, 8), 60)
            if column in text_headers or column in percent_headers:
                shown = "@" if column in text_headers else "0.0%"
                for (cell,) in ws.iter_rows(
                    min_row=header_row + 1, max_row=last_row, min_col=idx, max_col=idx
                ):
                    cell.number_format = shown
    return buffer.getvalue()


def write_table(frame: pd.DataFrame, path: str | Path, headers: Mapping[str, str] | None = None) -> Path:
    """Write the frame to ``path`` as CSV (BOM) or XLSX by its extension; return the path."""
    target = Path(path)
    data = xlsx_bytes(frame, headers) if target.suffix.lower() == ".xlsx" else csv_bytes(frame, headers)
    # Lists carry phones and names: owner-only, as the database and its exports to Parquet.
    return private_files.write_owner_only(target, data)


def write_list(frame: pd.DataFrame, path: str | Path, lang: str, section: str) -> Path:
    """Write a list of people or vehicles as the dashboard's download writes it (``for_people``):
    coded values in words, a rank for the priority score, and the column headers of the
    catalogue's ``section`` (``churn.col``, ``maintenance.col``) in ``lang``; return the path.

    A column the section does not name keeps the header the field has everywhere else."""
    labels = {"rank": text("export.rank", lang)}
    for column in frame.columns:
        name = str(column)
        key = f"{section}.{name}"
        field = f"field.{name}"
        if key in catalog():
            labels[name] = text(key, lang)
        elif field in catalog():
            labels[name] = text(field, lang)
    return write_table(for_people(frame, lang, coded_values(lang)), path, labels)


def has_phone(frame: pd.DataFrame) -> bool:
    """Return whether the frame carries phone numbers (a phone column with at least one value)."""
    return any(str(c) in PHONE_COLUMNS and frame[c].notna().any() for c in frame.columns)


def record_download(
    con: duckdb.DuckDBPyConnection,
    what: str,
    file_format: str,
    rows: int,
    phone: bool,
    who: str = LOCAL_USER,
    at: datetime | None = None,
    role: str = LOCAL_ROLE,
) -> int:
    """Record in the audit log that ``who`` downloaded the list ``what`` (``rows`` rows); return the event id."""
    detail = {"what": what, "file_format": file_format, "rows": int(rows), "has_phone": bool(phone)}
    return audit.record(con, who, role, "export", detail, at=at)


def record_cli_export(
    database: str | Path | None, what: str, path: str | Path, rows: int, phone: bool
) -> int:
    """Record in the audit log that the command line wrote the list ``what`` to ``path``; return the event id."""
    con = db.connect(database)
    try:
        detail = {
            "what": what,
            "file": str(path),
            "file_format": Path(path).suffix.lstrip(".").lower(),
            "rows": int(rows),
            "has_phone": bool(phone),
        }
        return audit.record(con, audit.cli_user(), audit.CLI_ROLE, "export", detail)
    finally:
        con.close()


def downloads(con: duckdb.DuckDBPyConnection, limit: int = 200) -> pd.DataFrame:
    """Return the latest recorded downloads, newest first: when, who, what, format, rows, phone."""
    events = audit.entries(con, limit, action="export")
    details = [json.loads(d or "{}") for d in events["detail"]]
    return pd.DataFrame(
        {
            "downloaded_at": events["happened_at"],
            "who": events["who"],
            "what": [d.get("what") for d in details],
            "file_format": [d.get("file_format") for d in details],
            "row_count": pd.Series([d.get("rows") for d in details], dtype="int64"),
            "has_phone": pd.Series([bool(d.get("has_phone")) for d in details], dtype="bool"),
        }
    )
