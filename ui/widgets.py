"""Shared widgets: column-mapping editor, list download buttons."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from analytics import db, ingest
from analytics.export import csv_bytes, xlsx_bytes
from analytics.ingest import RawTable
from ui.i18n import t


def field_label(field: str) -> str:
    """Return the readable name of a canonical field in the session's language."""
    try:
        return t(f"field.{field}")
    except KeyError:
        return field


def mapping_editor(raw: RawTable, kind: str, *, key: str) -> dict[str, str]:
    """Show the automatic column mapping with sample values, let the user correct it, return it."""
    automatic = ingest.auto_mapping(raw.headers, kind)
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
    return {f: s for f, s in zip(edited["field"], edited["source"], strict=True) if s and s != missing}


def progress_bar(text: str) -> Callable[[float, str], None]:
    """Draw a progress bar and return a ``progress(fraction, message)`` callback that moves it."""
    bar = st.progress(0.0, text=text)

    def report(fraction: float, message: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=message or text)

    return report


def download_buttons(
    frame: pd.DataFrame, name: str, *, key: str, headers: dict[str, str] | None = None
) -> None:
    """Offer a list as CSV (UTF-8 with BOM) and XLSX, formula-safe."""
    left, right = st.columns(2)
    left.download_button(
        t("common.download_csv"),
        csv_bytes(frame, headers),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"{key}_csv",
    )
    right.download_button(
        t("common.download_xlsx"),
        xlsx_bytes(frame, headers),
        file_name=f"{name}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
    )


FLAG_COLUMNS = (
    "callback_date",
    "customer_name",
    "plate",
    "phone",
    "advisor",
    "service_type",
    "overall_score",
    "comment",
    "complaint_category",
    "complaint_level",
    "hours_overdue",
)


def flag_table(frame: pd.DataFrame, *, key: str) -> None:
    """Show follow-up rows compactly: who, when, what they said, how late."""
    shown = [c for c in FLAG_COLUMNS if c in frame.columns and frame[c].notna().any()]
    st.dataframe(
        frame[shown],
        key=key,
        hide_index=True,
        width="stretch",
        column_config={c: field_label(c) for c in shown},
    )
