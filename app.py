"""Entrypoint: page config, shared sidebar, router. Run with ``streamlit run app.py``."""

from __future__ import annotations

import streamlit as st

from analytics import facts
from ui.data import load
from ui.i18n import t
from ui.state import draw_sidebar

st.set_page_config(
    page_title="售后客服看板 · After-sales CS", page_icon=":material/support_agent:", layout="wide"
)

filters = draw_sidebar()
st.session_state["_filters"] = filters

PAGES = {
    t("nav.section_dashboards"): [
        st.Page(
            "pages/maintenance.py",
            title=t("nav.maintenance"),
            icon=":material/build:",
            url_path="maintenance",
        ),
    ],
    t("nav.section_admin"): [
        st.Page(
            "pages/data.py", title=t("nav.data"), icon=":material/database:", url_path="data", default=True
        ),
        st.Page("pages/about.py", title=t("nav.about"), icon=":material/help:", url_path="about"),
    ],
}

page = st.navigation(PAGES)

with st.sidebar:
    summary = load(facts.data_summary)
    st.caption(
        t(
            "sidebar.data_line",
            orders=f"{summary['orders']:,}",
            callbacks=f"{summary['callbacks']:,}",
            vehicles=f"{summary['vehicles']:,}",
        )
    )

page.run()
