"""Shared widgets: tables, column-mapping editor, list download buttons, progress bars, flag tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from analytics import ingest
from analytics.core import auth
from analytics.core.config import settings
from analytics.core.i18n import catalog
from analytics.ingest import RawTable
from analytics.reports import export
from analytics.store import db
from ui.auth import can, current_user, protect
from ui.charts import scope_note
from ui.data import audit_lender
from ui.i18n import lang, t

# What a table shows for a missing value: Streamlit's own is "None", in English in either language.
MISSING = "—"


def _grouped(series: pd.Series) -> bool:
    # Counts, kilometres and yuan read with thousands separators (14,394): every whole-number
    # column, and a decimal one that reaches a thousand.
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return False
    if pd.api.types.is_integer_dtype(series):
        return True
    biggest = series.abs().max()
    return bool(pd.notna(biggest) and biggest >= 1000)


def _date_only(series: pd.Series) -> bool:
    if not pd.api.types.is_datetime64_any_dtype(series):
        return False
    days = series.dropna()
    return bool(len(days)) and bool((days == days.dt.normalize()).all())


def number_config(frame: pd.DataFrame, column_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return ``column_config`` with a thousands-separated number format for each numeric column of
    ``frame`` the page gave no type or format (a column given only its label keeps the label), and a
    date format for each date-and-time column whose times are all midnight."""
    config: dict[str, Any] = dict(column_config or {})
    for column in frame.columns:
        name = str(column)
        given = config.get(name, "")
        if given is None or (isinstance(given, dict) and given.get("type_config")):
            continue  # hidden, or typed by the page
        if _date_only(frame[column]):
            # Dates without a time of day read as dates (2024-03-01, not 2024-03-01 00:00:00).
            label = given if isinstance(given, str) else (given or {}).get("label")
            config[name] = st.column_config.DatetimeColumn(label or None, format="YYYY-MM-DD")
            continue
        if not _grouped(frame[column]):
            continue
        label = given if isinstance(given, str) else (given or {}).get("label")
        extra = {k: v for k, v in given.items() if k != "label"} if isinstance(given, dict) else {}
        # Whole numbers stay whole; a decimal one (yuan) shows its two decimals: 28,431.40.
        step = 1 if pd.api.types.is_integer_dtype(frame[column]) else 0.01
        config[name] = {
            **st.column_config.NumberColumn(label or None, format="localized", step=step),
            **extra,
        }
    return config


def show_table(data: Any, *, column_config: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
    """Draw a table (``st.dataframe``, without its index, as wide as the page unless told) as a
    person reads it: a dash for a missing value, and counts, kilometres and yuan with thousands
    separators where the page set no format. Returns what ``st.dataframe`` returns (the selection).

    A pandas Styler writes its own display values: it formats its numbers itself.
    """
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    frame = data if isinstance(data, pd.DataFrame) else None
    config = number_config(frame, column_config) if frame is not None else dict(column_config or {})
    return st.dataframe(data, column_config=config or None, placeholder=MISSING, **kwargs)


def field_label(field: str) -> str:
    """Return the readable name of a canonical field in the session's language."""
    try:
        return t(f"field.{field}")
    except KeyError:
        return field


def people_table(frame: pd.DataFrame, codes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Return a table as a person reads it in the session's language: coded values in words
    (``codes``: column -> the catalogue table of its codes), yes/no, blanks for missing values,
    and column names in words."""
    words: dict[str, dict[Any, str]] = {}
    for column, table in (codes or {}).items():
        if column in frame.columns:
            words[column] = {}
            for code in frame[column].dropna().unique():
                try:
                    words[column][code] = t(f"{table}.{code}")
                except KeyError:
                    words[column][code] = str(code)
    out = export.for_people(frame, lang(), words)
    return out.rename(columns={c: field_label(str(c)) for c in out.columns})


def mapping_editor(raw: RawTable, kind: str, *, key: str) -> dict[str, str]:
    """Show the automatic column mapping with sample values, let the user correct it, return it."""
    automatic = ingest.suggested_mapping(raw, kind)[0]
    missing = t("data.not_mapped")
    fields = list(db.SERVICE_COLUMNS if kind == "service" else db.CALLBACK_COLUMNS)
    samples = {
        h: " | ".join(str(v) for v in raw.rows[h].dropna().head(3)) for h in raw.headers if h in raw.rows
    }
    table = pd.DataFrame(
        {
            "field": fields,
            "label": [field_label(f) for f in fields],
            "source": [automatic.get(f, missing) for f in fields],
        }
    )
    table["samples"] = table["source"].map(lambda h: samples.get(h, ""))
    edited = st.data_editor(
        table,
        key=key,
        hide_index=True,
        width="stretch",
        disabled=["field", "label", "samples"],
        column_config={
            "field": None,
            "label": st.column_config.TextColumn(t("data.field")),
            "source": st.column_config.SelectboxColumn(
                t("data.source_column"), options=[missing, *raw.headers]
            ),
            "samples": st.column_config.TextColumn(t("data.samples")),
        },
    )
    # A field set to "not mapped" is sent as an empty header, which keeps it out of the import.
    return {
        f: ("" if not s or s == missing else s)
        for f, s in zip(edited["field"], edited["source"], strict=True)
    }


def progress_bar(text: str) -> Callable[[float, str], None]:
    """Draw a progress bar and return a ``progress(fraction, message)`` callback that moves it."""
    return progress_bar_in(st, text)


def progress_bar_in(place: Any, text: str) -> Callable[[float, str], None]:
    """Draw a progress bar in ``place`` (a container or ``st.empty()``) and return its callback."""
    bar = place.progress(0.0, text=text)

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=message or text)

    return report


def audited_file(
    build: Callable[[], bytes], name: str, file_format: str, rows: int, phone: bool = True
) -> Callable[[], bytes]:
    """Return what a download button is given for ``name.file_format`` (``rows`` rows): a callable
    that builds the file, records the download in the audit log, then hands the file over.

    Streamlit calls it when the browser asks for the file, on a thread of its own outside any
    script run, and that request is the download: a client that sends it without the button's
    click (which reruns nothing, ``on_click="ignore"``) is still recorded, once. Who downloads, and
    in which role, is read now, while this run knows the session; the row is written through the
    database file's lender, which draws nothing (a file not recorded is not handed over).
    """
    # Lists leave the building in someone's hands, those with phone numbers above all: keep who
    # took which list.
    user = current_user()
    lender = audit_lender()

    def audited() -> bytes:
        content = build()
        with lender.writing() as cur:
            export.record_download(
                cur,
                f"{name}.{file_format}",
                file_format,
                rows,
                phone=phone,
                who=user.username,
                role=user.role,
            )
        return content

    return audited


def list_top(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Return the first rows of a long list that a page shows (``[display] max_list_rows``) and the
    sentence to add to its caption when rows are left out ("" when it is all of them).

    A group's lists run to hundreds of thousands of rows: the page shows the top, the download
    (written when the browser asks for it) has every row.
    """
    top = frame.head(settings().display.max_list_rows)
    if len(top) == len(frame):
        return top, ""
    return top, " " + t("churn.list_top", shown=f"{len(top):,}", n=f"{len(frame):,}")


def download_buttons(
    frame: pd.DataFrame,
    name: str,
    *,
    key: str,
    headers: dict[str, str] | None = None,
    aggregate: bool = False,
    build: Callable[[], pd.DataFrame] | None = None,
    rows: int | None = None,
) -> None:
    """Offer a list as CSV (UTF-8 with BOM) and XLSX, formula-safe, with the language's column headers.

    Both files read as a call centre expects (``export.for_people``): coded values in words, yes/no,
    blanks, whole days, dates as dates, a rank instead of a priority score; the XLSX has a title
    line (list, stores, as-of date), a bold frozen header with a filter and a sheet named in the
    user's language (``export.xlsx_bytes``).

    Without ``headers`` the canonical columns get their catalogue labels. Lists (of customers,
    vehicles, comments) are offered only to roles that may export lists, and say so to the
    others; ``aggregate=True`` marks a table of figures about no one in particular, which every
    role may save like a chart. Phone numbers are masked for roles that do not see them, and
    every download is recorded in the audit log. A long list passes ``build`` (returns the
    whole list, called only when the file is asked for) and its length as ``rows``; ``frame`` is then a sample
    with the same columns.
    """
    if not aggregate and not can().export_lists:
        st.caption(t("export.role_cannot", role=t(f"auth.role.{current_user().role}")))
        return
    frame = protect(frame)
    labels = headers if headers is not None else {c: field_label(str(c)) for c in frame.columns}
    phone = export.has_phone(frame)
    # The role is read now: the files are written later, outside this script run.
    masked = not can().sees_phone

    def whole() -> pd.DataFrame:
        if build is None:
            return frame
        full = build()
        return auth.mask_frame(full) if masked else full

    count = len(frame) if rows is None else rows
    language = lang()
    codes = export.coded_values(language)
    labels = {**labels, "rank": t("export.rank")}
    list_name = list_label(name)
    title = t("export.title", list=list_name, scope=scope_note())
    left, right = st.columns(2)
    # The files are written when the browser asks for one, not on every run: an XLSX of a group's
    # churn list takes seconds to write, and most runs download nothing.
    for column, fmt, label, data, mime in (
        (
            left,
            "csv",
            t("common.download_csv"),
            lambda: export.csv_bytes(export.for_people(whole(), language, codes), labels),
            "text/csv",
        ),
        (
            right,
            "xlsx",
            t("common.download_xlsx"),
            lambda: export.xlsx_bytes(
                export.for_people(whole(), language, codes), labels, list_name, title=title
            ),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ):
        column.download_button(
            label,
            audited_file(data, name, fmt, count, phone),
            file_name=f"{name}.{fmt}",
            mime=mime,
            key=f"{key}_{fmt}",
            on_click="ignore",
            help=t("export.audited") if phone else t("export.recorded"),
        )


def list_label(name: str) -> str:
    """Return the list's name in the session's language from its file stem ("churn_list_2026-10-31")."""
    parts = name.split("_")
    for n in (2, 1):
        key = "export.list_" + "_".join(parts[:n])
        if key in catalog():
            return t(key)
    return t("export.list_other")


# Who and how to reach them first: on a phone they fit without scrolling sideways.
FLAG_COLUMNS = (
    "customer_name",
    "phone",
    "callback_date",
    "plate",
    "advisor",
    "service_type",
    "overall_score",
    "comment",
    "complaint_category",
    "complaint_level",
    "hours_overdue",
)


def call_controls(section: str, key: str, capacity: int, suppress_days: int) -> tuple[int, int, bool]:
    """Draw a call list's three controls in a row (how many calls, skip those called within N
    days, skip open complaints), labelled from ``section`` of the texts, widget keys ``{key}_capacity`` ...; return their values."""
    controls = st.columns(3)
    calls = controls[0].number_input(
        t(f"{section}.capacity"), min_value=0, max_value=5000, value=capacity, step=10, key=f"{key}_capacity"
    )
    days = controls[1].number_input(
        t(f"{section}.suppress_days"),
        min_value=0,
        max_value=365,
        value=suppress_days,
        key=f"{key}_suppress_days",
    )
    skip = controls[2].checkbox(t(f"{section}.skip_complaints"), value=True, key=f"{key}_skip_complaints")
    return int(calls), int(days), bool(skip)


def flag_table(frame: pd.DataFrame, *, key: str) -> None:
    """Show follow-up rows compactly: who, when, what they said, how late (phones as the role may see them)."""
    shown = [c for c in FLAG_COLUMNS if c in frame.columns and frame[c].notna().any()]
    show_table(people_table(protect(frame[shown]), {"service_type": "service_type"}), key=key)
