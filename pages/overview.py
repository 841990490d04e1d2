"""Overview: the month at a glance for the morning meeting: KPI tiles, what changed, red flags."""

import streamlit as st

from analytics import overview, satisfaction
from ui.data import load
from ui.formatting import LOWER_IS_BETTER, kpi_delta, kpi_value, metric_params, plain, target_band
from ui.i18n import t
from ui.state import filters
from ui.widgets import deck_button, download_buttons, flag_table

f = filters()
if f.month is None:
    st.title(t("nav.overview"))
    st.info(t("app.empty_db"))
    st.stop()

st.title(t("overview.title", month=f.month))
deck_button(f.month, f.stores, f.lang)
data = load(overview.overview, f.month, f.stores)
report, series = data["report"], data["series"]

TILE_ROWS = (
    ("visits", "revenue", "appointment_rate", "due_maintenance_return_rate"),
    ("coverage_3dc", "reach_rate", "satisfaction_rate", "nps"),
    ("complaints", "complaint_timeliness", "lost", "at_risk"),
)
for row in TILE_ROWS:
    for column, name in zip(st.columns(len(row)), row, strict=True):
        entry = report["kpis"][name]
        # issue 14: a KPI whose field is missing from the data says why instead of showing 0%.
        missing = data.get("missing", {}).get(name)
        if missing:
            entry = {**entry, "value": None, "prev_month": None, "prev_year": None}
        band = target_band(name, entry["target"])
        yoy = kpi_delta(name, entry["value"], entry["prev_year"])
        notes = [t(missing)] if missing else [t("overview.n", n=f"{entry['n']:,}")]
        if yoy:
            notes.append(t("overview.yoy", delta=yoy))
        if band:
            notes.append(t("overview.target", band=band))
        if entry.get("provisional"):
            notes.append(t("overview.provisional"))
        spark = [v for v in series.loc[series["kpi"] == name, "value"].tolist() if v is not None]
        column.metric(
            t(f"metric.{name}"),
            kpi_value(name, entry["value"]),
            delta=kpi_delta(name, entry["value"], entry["prev_month"]),
            delta_color="inverse" if name in LOWER_IS_BETTER else "normal",
            help=t(f"metric_def.{name}", **metric_params()),
            border=True,
            chart_data=spark or None,
            chart_type="line",
        )
        column.caption(" · ".join(notes))
st.caption(t("overview.tiles_caption", month=f.month))

left, right = st.columns([3, 2])
with left:
    st.subheader(t("overview.what_changed"))
    if not data["changes"]:
        st.write(t("overview.nothing_changed"))
    for change in data["changes"]:
        st.markdown("- " + plain(satisfaction.describe_change(change, f.lang)))
with right:
    st.subheader(t("overview.red_flags"))
    flags = data["red_flags"]
    st.caption(t("overview.red_flags_caption", as_of=str(data["as_of"])))
    for flag in ("no_followup", "complaint_overdue"):
        rows = flags[flags["flag"] == flag]
        st.markdown(f"**{t(f'overview.flag_{flag}', n=len(rows))}**")
        if len(rows):
            flag_table(rows, key=f"flag_{flag}")
            download_buttons(rows, f"overview_{flag}_{f.month}", key=f"dl_{flag}")
