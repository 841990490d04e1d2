"""Overview: the month at a glance for the morning meeting: KPI tiles, what changed, red flags."""

import streamlit as st

from analytics import kpi, satisfaction
from ui.data import load
from ui.formatting import LOWER_IS_BETTER, kpi_delta, kpi_value, metric_params, target_band
from ui.i18n import t
from ui.state import filters
from ui.widgets import download_buttons, red_flag_table

f = filters()
if f.month is None:
    st.title(t("nav.overview"))
    st.info(t("app.empty_db"))
    st.stop()

st.title(t("overview.title", month=f.month))
report = load(kpi.report, f.month, f.stores)
series = load(kpi.monthly_series, f.stores, 12, f.month)

TILE_ROWS = (
    ("visits", "revenue", "appointment_rate", "due_maintenance_return_rate"),
    ("coverage_3dc", "reach_rate", "satisfaction_rate", "nps"),
    ("complaints", "complaint_timeliness", "lost", "at_risk"),
)
for row in TILE_ROWS:
    for column, name in zip(st.columns(len(row)), row, strict=True):
        entry = report["kpis"][name]
        spark = series.loc[series["kpi"] == name, "value"].tolist()
        band = target_band(name, entry["target"])
        yoy = kpi_delta(name, entry["value"], entry["prev_year"])
        lines = [t("overview.n", n=f"{entry['n']:,}")]
        if yoy:
            lines.append(t("overview.yoy", delta=yoy))
        if band:
            lines.append(t("overview.target", band=band))
        column.metric(
            t(f"metric.{name}"),
            kpi_value(name, entry["value"]),
            delta=kpi_delta(name, entry["value"], entry["prev_month"]),
            delta_color="inverse" if name in LOWER_IS_BETTER else "normal",
            help=t(f"metric_def.{name}", **metric_params()),
            border=True,
            chart_data=[v for v in spark if v is not None] or None,
            chart_type="line",
        )
        column.caption(" · ".join(lines))
st.caption(t("overview.tiles_caption", month=f.month))

left, right = st.columns([3, 2])
with left:
    st.subheader(t("overview.what_changed"))
    changes = load(satisfaction.what_changed, f.month, f.stores)
    if not changes:
        st.write(t("overview.nothing_changed"))
    for change in changes:
        st.markdown("- " + t(f"change.{change['key']}", **change["params"]))
with right:
    st.subheader(t("overview.red_flags"))
    flags = load(satisfaction.red_flags, f.month, f.stores)
    for name, frame in flags.items():
        st.markdown(f"**{t(f'flag.{name}', n=len(frame))}**")
        if len(frame):
            red_flag_table(frame, key=f"flag_{name}")
            download_buttons(frame, f"overview_{name}_{f.month}", key=f"dl_flag_{name}")
