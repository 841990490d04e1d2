"""Exports for spreadsheets: CSV with a BOM for Chinese Excel, XLSX, formula injection neutralised;
and the audit of downloaded lists (``export`` events in the audit log)."""

from __future__ import annotations

import io
import json
import numbers
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from analytics import audit, db
from analytics.auth import LOCAL_ROLE, LOCAL_USER, PHONE_COLUMNS

# A cell starting with one of these is run as a formula by Excel, WPS or LibreOffice.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(value: str) -> str:
    """Return ``value`` with a ``'`` in front when a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


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


def csv_bytes(frame: pd.DataFrame, headers: Mapping[str, str] | None = None) -> bytes:
    """Return the frame as UTF-8 CSV with a BOM (so Chinese Excel opens it), formula-safe."""
    return _labelled(frame, headers).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, headers: Mapping[str, str] | None = None, sheet: str = "data") -> bytes:
    """Return the frame as an XLSX workbook, formula-safe, with readable column widths."""
    buffer = io.BytesIO()
    labelled = _labelled(frame, headers)
    for column in labelled.columns:
        # openpyxl cannot write timezone-aware datetimes; Excel has no time zones anyway.
        if isinstance(labelled[column].dtype, pd.DatetimeTZDtype):
            labelled[column] = labelled[column].dt.tz_localize(None)
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        labelled.to_excel(writer, index=False, sheet_name=sheet[:31])
        sheet_obj = writer.sheets[sheet[:31]]
        for idx, column in enumerate(labelled.columns, start=1):
            width = max([len(str(column))] + [len(str(v)) for v in labelled[column].head(200)]) + 2
            sheet_obj.column_dimensions[sheet_obj.cell(row=1, column=idx).column_letter].width = min(
                width * 1.6, 60
            )
    return buffer.getvalue()


def write_table(frame: pd.DataFrame, path: str | Path, headers: Mapping[str, str] | None = None) -> Path:
    """Write the frame to ``path`` as CSV (BOM) or XLSX by its extension; return the path."""
    target = Path(path)
    data = xlsx_bytes(frame, headers) if target.suffix.lower() == ".xlsx" else csv_bytes(frame, headers)
    target.write_bytes(data)
    return target


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
