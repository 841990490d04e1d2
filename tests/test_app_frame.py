"""The frame through the entrypoint: every registered page runs, in both languages."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "app.py"


def _run(db_file, page=None, lang="zh"):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["lang"] = lang
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture
def empty_db(tmp_path, monkeypatch):
    path = tmp_path / "empty.duckdb"
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_empty_database_offers_the_demo_on_the_data_page(empty_db, lang):
    at = _run(empty_db, lang=lang)
    assert [b.label for b in at.button] == (["生成演示数据"] if lang == "zh" else ["Build demo data"])
    assert at.sidebar.info[0].value == ("尚未导入数据。" if lang == "zh" else "No data loaded yet.")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_about_page_lists_every_kpi_definition(empty_db, lang):
    at = _run(empty_db, "pages/about.py", lang)
    table = at.dataframe[0].value
    assert len(table) == 12
    assert at.title[0].value == (
        "指标口径与使用说明" if lang == "zh" else "Metrics and how to read this dashboard"
    )
