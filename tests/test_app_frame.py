"""The frame: every page is registered, runs with the shared sidebar, in both languages."""

import ast
import re
import tomllib
from pathlib import Path

import pytest

from tests.signing_in import start

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
REGISTERED = re.findall(r'st\.Page\(\s*"(pages/[a-z_]+\.py)"', APP.read_text(encoding="utf-8"))


def _run(page=None, lang="zh"):
    return start(lang=lang, page=page)


def test_every_page_file_is_registered_in_app_py():
    files = sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))
    assert REGISTERED and sorted(REGISTERED) == files


def test_no_page_relies_on_streamlit_magic_which_is_off():
    # .streamlit/config.toml turns magic off (a page view recompiles without rewriting the syntax
    # tree); a bare expression that magic would have written must then not exist.
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["magicEnabled"] is False
    bare = []
    for path in [APP, *sorted((ROOT / "pages").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0])
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and ast.get_docstring(node)
        }
        bare += [
            f"{path.name}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr)
            and not isinstance(node.value, ast.Call | ast.Await | ast.Yield)
            and id(node) not in docstrings
        ]
    assert bare == []


@pytest.fixture
def empty_db(tmp_path, monkeypatch):
    path = tmp_path / "empty.duckdb"
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_empty_database_says_so_and_the_data_page_offers_the_demo(empty_db, lang):
    at = _run(lang=lang)
    assert at.info[0].value == t_expected("app.empty_db", lang)
    at = _run("pages/data.py", lang)
    assert [b.label for b in at.button] == ([t_expected("data.demo_button", lang)])


def t_expected(key, lang):
    from analytics.core.i18n import text

    return text(key, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", REGISTERED)
def test_every_registered_page_runs_on_the_demo_with_the_sidebar(demo_env, page, lang):
    at = _run(page, lang)
    assert at.sidebar.selectbox(key="_w_month").value is not None
    assert at.title and at.title[0].value
    # Real content, not just a title: text, tables, metrics or charts.
    assert len(at.markdown) + len(at.dataframe) + len(at.metric) + len(at.get("vega_lite_chart")) >= 3


def test_sidebar_choices_persist_across_pages_and_a_language_switch(demo_env):
    at = _run()
    months = at.sidebar.selectbox(key="_w_month").options
    chosen = months[5]
    at.sidebar.selectbox(key="_w_month").set_value(chosen).run()
    at.sidebar.selectbox(key="_w_window").set_value("近 24 个月").run()
    at.switch_page("pages/about.py")
    at.run()
    at.button_group(key="_lang_widget").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Metrics and how to read this dashboard"
    assert at.sidebar.selectbox(key="_w_month").value == chosen
    assert at.sidebar.selectbox(key="_w_window").value == "last 24 months"
    assert at.session_state["window"] == 24
    assert at.session_state["lang"] == "en"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_overview_tiles_follow_the_month_filter(demo_env, lang):
    at = _run("pages/overview.py", lang)
    first = [m.value for m in at.metric]
    assert len(first) == 12
    at.sidebar.selectbox(key="_w_month").set_value("2025-03").run()
    assert not at.exception
    assert at.title[0].value.endswith("2025-03")
    assert [m.value for m in at.metric] != first
    # "What changed" says which movements it lists (beyond chance), for the month shown.
    rule = t_expected("overview.what_changed_rule", lang).format(month="2025-03")
    assert rule in [c.value for c in at.caption]


def test_about_page_lists_every_kpi_definition(demo_env):
    at = _run("pages/about.py", "en")
    table = at.table[0].value  # a static table: every definition is shown whole, wrapped, not cut off
    assert len(table) == 12
    assert table.iloc[:, 1].str.len().min() > 20


@pytest.fixture(scope="module")
def two_store_db(tmp_path_factory):
    from analytics.devtools import demo

    path = tmp_path_factory.mktemp("stores") / "two_stores.duckdb"
    demo.build_demo(path, demo.DemoConfig(stores=2, scale=0.05), files_dir=path.parent / "files")
    return path


def test_store_filter_changes_the_figures_and_persists_across_pages(two_store_db, monkeypatch):
    monkeypatch.setenv("ANALYTICS_DB", str(two_store_db))
    at = _run("pages/overview.py", "en")
    all_visits = at.metric[0].value
    stores = at.sidebar.multiselect(key="_w_stores").options
    assert len(stores) == 2
    at.sidebar.multiselect(key="_w_stores").set_value([stores[0]]).run()
    assert not at.exception
    one_store_visits = at.metric[0].value
    assert int(one_store_visits.replace(",", "")) < int(all_visits.replace(",", ""))
    for page in REGISTERED:
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert at.sidebar.multiselect(key="_w_stores").value == [stores[0]], page
