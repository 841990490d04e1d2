"""Entrypoint: page config and router. Run with ``streamlit run app.py``.

Every page starts with ``ui.state.filters()``, which draws the shared sidebar (language,
month, trend window, stores); its choices live in session state and persist across pages.
"""

from __future__ import annotations

import duckdb
import streamlit as st

from analytics.core.config import db_path, settings
from analytics.core.errors import UserError
from analytics.store import db
from ui import style
from ui.charts import start_image_browser
from ui.drop_folder import start_drop_folder
from ui.i18n import lang, t
from ui.resources import script_run, start_library_warmup
from ui.state import ENTRYPOINT_RAN, restore_from_link

st.set_page_config(
    page_title="售后客服看板 · After-sales CS", page_icon=":material/support_agent:", layout="wide"
)

st.session_state[ENTRYPOINT_RAN] = True
try:
    settings()  # read and checked once: a defect in the file is a sentence naming the key
except UserError as exc:
    st.error(str(exc))
    st.stop()
# Before any text is drawn: a link's ?lang= decides the language of the navigation too.
restore_from_link()

OVERVIEW = st.Page(
    "pages/overview.py", title=t("nav.overview"), icon=":material/dashboard:", url_path="overview"
)


def _home() -> None:
    # Streamlit serves its default page at the root and nowhere else, so the overview is not the
    # default page (that would make /overview "Page not found"): the root moves on to /overview,
    # keeping the link's query parameters.
    st.switch_page(OVERVIEW, query_params={k: st.query_params.get_all(k) for k in st.query_params})


style.apply(lang())  # the phone layout (below 640 px wide) and the uploader's words
start_drop_folder()  # off unless [watch] server_folder (or $ANALYTICS_WATCH_DIR) names a folder

PAGES = {
    t("nav.section_dashboards"): [
        st.Page(_home, title=t("nav.overview"), url_path="home", default=True, visibility="hidden"),
        OVERVIEW,
        st.Page(
            "pages/satisfaction.py",
            title=t("nav.satisfaction"),
            icon=":material/sentiment_satisfied:",
            url_path="satisfaction",
        ),
        st.Page("pages/themes.py", title=t("nav.themes"), icon=":material/forum:", url_path="themes"),
        st.Page("pages/churn.py", title=t("nav.churn"), icon=":material/person_remove:", url_path="churn"),
        st.Page(
            "pages/maintenance.py",
            title=t("nav.maintenance"),
            icon=":material/build:",
            url_path="maintenance",
        ),
    ],
    t("nav.section_admin"): [
        st.Page("pages/data.py", title=t("nav.data"), icon=":material/database:", url_path="data"),
        st.Page("pages/about.py", title=t("nav.about"), icon=":material/help:", url_path="about"),
    ],
}

try:
    with script_run():  # the background warm-up waits while a page runs
        try:
            st.navigation(PAGES).run()
            start_image_browser()  # once a page with charts has been served: its images then come at once
        finally:
            # scikit-learn imported in the background, not by a visitor's first model; also after a
            # page that stopped early (a sign-in form, a locked or empty database, a rerun).
            start_library_warmup()
except duckdb.Error as exc:
    # A damaged database surfaces on the first read of a damaged block: one sentence saying what
    # to do (restore the latest backup), never a traceback (client.showErrorDetails is "none").
    fault = db.damaged(db_path(), exc)
    if fault is None:
        raise
    st.error(str(fault))
