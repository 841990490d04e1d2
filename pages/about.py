"""Metrics & help: every KPI's definition and target, what each page is for, how to import."""

import streamlit as st

from analytics.domain import kpi
from ui.formatting import metric_params, target_band
from ui.i18n import t
from ui.state import filters

filters()
st.title(t("about.title"))
st.write(t("about.intro"))

params = metric_params()
targets = kpi.targets()
names = kpi.KPI_NAMES
rows = []
for name in names:
    band = targets.get(name)
    target = target_band(name, band) or t("about.no_target")
    rows.append(
        {
            t("about.metric_header"): t(f"metric.{name}"),
            t("about.definition_header"): t(f"metric_def.{name}", **params),
            t("about.target_header"): target,
        }
    )
# A static table: each definition is read whole, wrapped in its cell (a data grid cut them off
# at the column's width, readable only on hover).
st.table(rows, hide_index=True, border="horizontal")

st.subheader(t("about.pages_title"))
st.markdown(t("about.pages_body"))
st.subheader(t("about.roles_title"))
st.markdown(t("about.roles_body"))
st.subheader(t("about.import_title"))
st.markdown(t("about.import_body"))
