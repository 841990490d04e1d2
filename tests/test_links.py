"""Links: every page has its own URL, and a link carries the language, month, window and stores."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"


def _open(params: dict[str, object], page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=240)
    at.query_params.update(params)
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_every_page_has_its_own_url_path_and_none_is_the_root():
    text = APP.read_text(encoding="utf-8")
    paths = re.findall(r'url_path="([a-z_]+)"', text)
    assert paths == ["overview", "home", "satisfaction", "themes", "churn", "maintenance", "data", "about"]
    # Streamlit serves its default page at "/" only: the overview must not be it, or /overview
    # would say "Page not found". The default is a hidden page that moves on to /overview.
    overview = text[text.index("OVERVIEW = st.Page(") : text.index(")", text.index("OVERVIEW = st.Page("))]
    assert "default=True" not in overview
    assert re.search(r'st\.Page\(_home,[^\n]*default=True[^\n]*visibility="hidden"', text)


def test_a_link_opens_the_view_it_names(demo_env):
    at = _open({"lang": "en", "month": "2025-03", "window": "24"})
    # The root moved on to the overview, in English, for the month in the link.
    assert at.title[0].value.endswith("2025-03")
    assert at.session_state["lang"] == "en"
    assert at.sidebar.selectbox(key="_w_month").value == "2025-03"
    assert at.sidebar.selectbox(key="_w_window").value == "last 24 months"
    assert at.query_params == {"lang": "en", "month": "2025-03", "window": "24"}


def test_choices_are_written_back_to_the_link_and_survive_a_page_switch(demo_env):
    at = _open({}, "pages/about.py")
    months = at.sidebar.selectbox(key="_w_month").options
    at.sidebar.selectbox(key="_w_month").set_value(months[3]).run()
    at.button_group(key="_lang_widget").set_value("en").run()
    assert at.query_params["month"] == months[3]
    assert at.query_params["lang"] == "en"
    link = dict(at.query_params)
    # A colleague opens the link in a fresh session, on another page: same view.
    again = _open(link, "pages/satisfaction.py")
    assert again.session_state["lang"] == "en"
    assert again.sidebar.selectbox(key="_w_month").value == months[3]
    assert again.query_params == link


def test_a_link_with_values_the_data_does_not_have_falls_back_to_the_defaults(demo_env):
    default = _open({}).sidebar.selectbox(key="_w_month").value
    at = _open({"lang": "xx", "month": "1999-01", "window": "7", "stores": "no such store"})
    assert at.session_state["lang"] == "zh"
    assert at.sidebar.selectbox(key="_w_month").value == default
    assert at.session_state["window"] == 12
    assert at.query_params == {"lang": "zh", "month": default, "window": "12"}


def test_a_link_carries_the_stores_chosen(tmp_path_factory, monkeypatch):
    from analytics.devtools import demo

    path = tmp_path_factory.mktemp("links") / "two_stores.duckdb"
    demo.build_demo(path, demo.DemoConfig(stores=2, scale=0.03), files_dir=path.parent / "files")
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    at = _open({"lang": "en"}, "pages/about.py")
    stores = at.sidebar.multiselect(key="_w_stores").options
    at.sidebar.multiselect(key="_w_stores").set_value([stores[1]]).run()
    assert at.query_params["stores"] == stores[1]
    both = _open({"lang": "en", "stores": list(stores)}, "pages/about.py")
    assert both.sidebar.multiselect(key="_w_stores").value == list(stores)
    assert both.query_params["stores"] == list(stores)
    # A hand-written link may list them with a comma.
    comma = _open({"stores": ",".join(stores)}, "pages/about.py")
    assert comma.sidebar.multiselect(key="_w_stores").value == list(stores)
