"""The Data page driven through the entrypoint: upload a golden file, check the mapping and the
validation report, import it, see it in the history, roll it back."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "service_orders_gbk.csv"


@pytest.fixture
def fresh_db(tmp_path, monkeypatch):
    path = tmp_path / "data_page.duckdb"
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    return path


def _data_page(lang):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception
    return at


def t_(key, lang):
    from analytics.core.i18n import text

    return text(key, lang)


def _rows(sql):
    from ui.data import reading

    with reading() as cur:
        return cur.execute(sql).fetchall()


def _count(path, sql):
    from ui.data import reading

    # The page's own handles (same process) see its committed writes.
    del path
    with reading() as cur:
        return cur.execute(sql).fetchone()[0]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_upload_map_import_and_roll_back_a_golden_file(fresh_db, lang):
    at = _data_page(lang)
    at.file_uploader(key="uploads").set_value((GOLDEN.name, GOLDEN.read_bytes(), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    # Kind detected from the headers; the mapping shows the file's own Chinese headers.
    assert at.radio(key="kind_0").value == t_("data.kind_service", lang)
    mapping = at.data_editor(key="mapping_0").value
    by_field = dict(zip(mapping["field"], mapping["source"], strict=True))
    assert by_field["order_id"] == "工单号"
    assert by_field["visit_date"] == "进厂日期"
    assert by_field["amount"] == "结算金额"
    report = at.info[0].value
    assert ("8 to insert" in report) if lang == "en" else ("新增 8 行" in report)

    at.button(key="import_0").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.success, "no import confirmation"
    assert _count(fresh_db, "SELECT count(*) FROM service_orders") == 8
    assert _count(fresh_db, "SELECT sum(amount) FROM service_orders") == 15901.0

    import_id = _count(fresh_db, "SELECT max(import_id) FROM imports")
    assert at.selectbox(key="rollback_id").value == import_id
    at.checkbox(key="rollback_ok").check().run()
    at.button(key="rollback_go").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert _count(fresh_db, "SELECT count(*) FROM service_orders") == 0
    statuses = {r[0]: r[1] for r in _rows("SELECT import_id, status FROM imports")}
    assert statuses[import_id] == "rolled_back"


def test_a_file_that_is_not_a_table_gets_a_sentence_not_a_traceback(fresh_db):
    at = _data_page("en")
    at.file_uploader(key="uploads").set_value(
        ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(200), "text/csv")
    ).run()
    assert not at.exception
    assert at.error and at.error[0].value.startswith("photo.csv: ")
    assert "Traceback" not in at.error[0].value
    assert _count(fresh_db, "SELECT count(*) FROM imports") == 0


def test_upload_is_parsed_once_and_shows_guesses_and_unmapped_columns(fresh_db, monkeypatch):
    """Issue 14 and issue 19 item 14: a column with an unknown header is guessed from its values and
    shown for confirmation, unmapped columns are listed, and a rerun does not read the file again."""
    from analytics import ingest
    from tests.test_ingest_vendors import CALLBACK_CSV

    reads = []
    original = ingest.read_table

    def counting(source, file_name=None, kind=None):
        reads.append(file_name)
        return original(source, file_name, kind)

    monkeypatch.setattr(ingest, "read_table", counting)
    at = _data_page("en")
    at.file_uploader(key="uploads").set_value(("回访.csv", CALLBACK_CSV.encode("utf-8"), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    mapping = at.data_editor(key="mapping_0").value
    by_field = dict(zip(mapping["field"], mapping["source"], strict=True))
    assert (by_field["reached"], by_field["overall_score"]) == ("客户状态", "总体评价")
    assert any("客户状态 → " in w.value for w in at.warning)
    assert any(c.value == "Columns not imported: 客户原话" for c in at.caption)
    at.run()
    at.run()
    assert reads == ["回访.csv"]
    at.button(key="import_0").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert _rows("SELECT callback_id, reached FROM callbacks ORDER BY 1") == [
        ("R1", True),
        ("R2", False),
        ("R3", True),
        ("R4", True),
    ]
