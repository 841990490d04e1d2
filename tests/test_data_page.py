"""The Data page driven through the entrypoint: upload a golden file, check the mapping and the
validation report, import it, see it in the history, roll it back."""

import re
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
    assert at.selectbox(key="rollback_id").options == [f"{import_id} · {GOLDEN.name}"]  # which file it undoes
    at.checkbox(key="rollback_ok").check().run()
    at.button(key="rollback_go").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert _count(fresh_db, "SELECT count(*) FROM service_orders") == 0
    statuses = {r[0]: r[1] for r in _rows("SELECT import_id, status FROM imports")}
    assert statuses[import_id] == "rolled_back"


def test_the_validation_report_speaks_the_interface_language(fresh_db):
    """After an upload the preview and the rejected rows showed source_row, sheet and raw_values as
    their headers, and "unreadable date" as the reason in the Chinese interface."""
    text = GOLDEN.read_bytes().decode("gbk").replace("2024/3/2,", "三月二号,", 1)
    at = _data_page("zh")
    at.file_uploader(key="uploads").set_value((GOLDEN.name, text.encode("gbk"), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    headers = [str(c) for frame in at.dataframe for c in frame.value.columns]
    assert "文件中的行号" in headers and "读到的原始值" in headers
    assert not [h for h in headers if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", h)]
    assert "sheet" not in headers and "工作表" not in headers  # a CSV has no sheets
    rejects = next(frame.value for frame in at.dataframe if "原因" in frame.value.columns)
    assert rejects["原因"].tolist() == ["无法识别的日期"]


def test_every_reason_a_row_is_rejected_for_has_chinese_words():
    from analytics.ingest import stage

    for reason in stage._REASON_KEYS:
        assert re.search(r"[\u4e00-\u9fff]", stage.reason_words(reason, "zh")), reason
        assert stage.reason_words(reason, "en") == reason  # English as the import writes it
    assert stage.reason_words("text longer than 4,000 characters", "zh") == "文本超过 4,000 个字符"
    assert stage.reason_words("score not readable on the 1-5 scale, left blank", "zh").startswith(
        "按 1-5 分制"
    )
    assert stage.reason_words("number outside 0 to 2,000,000", "zh") == "数值超出 0 至 2,000,000 的范围"
    assert stage.reason_words("something new", "zh") == "something new"


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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_import_tab_says_what_is_stored_and_what_an_upload_does(fresh_db, lang):
    """Before any file is chosen, the tab names what the database holds (counts, visit dates, files),
    the last import, and what an upload does; an empty database shows no such line."""
    at = _data_page(lang)
    empty = " ".join(c.value for c in at.caption)
    assert t_("data.upload_what", lang) not in empty
    at.file_uploader(key="uploads").set_value((GOLDEN.name, GOLDEN.read_bytes(), "text/csv")).run()
    at.button(key="import_0").click().run()
    assert not at.exception, [e.message for e in at.exception]
    at.file_uploader(key="uploads").set_value([]).run()
    text = " ".join(c.value for c in at.caption)
    first, last = _rows("SELECT min(visit_date)::VARCHAR, max(visit_date)::VARCHAR FROM service_orders")[0]
    assert (
        t_("data.stored_now", lang).format(orders="8", callbacks="0", first=first, last=last, imports="1")
        in text
    )
    from ui.formatting import plain

    assert plain(GOLDEN.name) in text and t_("import_kind.service", lang) in text
    assert t_("data.upload_what", lang) in text


LOW_SURVEY = (
    "回访编号,车架号,回访类型,回访日期,是否接通,总体满意度,推荐意愿\n"
    "HFK29,LTESTA20000000000,3DC,2025-05-11 10:00,接通,0,5\n"
    "HFK30,LTESTA20000000000,3DC,2025-05-12 10:00,接通,3,3\n"
    "HFK31,LTESTA20000000000,3DC,2025-05-13 10:00,接通,5,8\n"
)


def test_a_zero_read_as_not_rated_is_said_and_the_scale_can_be_chosen(fresh_db):
    """Session 43: a 0-10 file whose answers all fell within 0-5 read as 1-5, and its 0 landed blank
    (3 as 6, 5 as 10) without a word; the page now says so and takes the scale."""
    at = _data_page("en")
    at.file_uploader(key="uploads").set_value(("低分.csv", LOW_SURVEY.encode("utf-8"), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    said = [c.value for c in at.caption if "not rated" in c.value]
    assert said and "总体满意度 (1)" in said[0]
    at.selectbox(key="scale_0_overall_score").set_value("0-10").run()
    assert not at.exception, [e.message for e in at.exception]
    assert not [c.value for c in at.caption if "not rated" in c.value]
    at.button(key="import_0").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert _rows("SELECT callback_id, overall_score FROM callbacks ORDER BY 1") == [
        ("HFK29", 0.0),
        ("HFK30", 3.0),
        ("HFK31", 5.0),
    ]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_quality_count_says_what_it_is_a_share_of(fresh_db, lang):
    # "392 invalid VINs" said nothing of how much of the data that is: each count names the records
    # its check read and its share of them.
    from analytics.domain import quality
    from ui.data import reading

    at = _data_page(lang)
    at.file_uploader(key="uploads").set_value((GOLDEN.name, GOLDEN.read_bytes(), "text/csv")).run()
    at.button(key="import_0").click().run()
    at.file_uploader(key="uploads").set_value([]).run()
    assert not at.exception, [e.message for e in at.exception]
    with_vin = _rows("SELECT count(*) FROM service_orders WHERE vin IS NOT NULL")[0][0]
    with reading() as cur:
        counts, checked = quality.summary(cur), quality.checked(cur)
    assert checked["invalid_vins"] == with_vin > 0
    captions = [c.value for c in at.caption]
    # No callbacks: the callbacks' check read nothing, and says no share of nothing.
    assert checked["unlinked_callbacks"] == 0
    named = t_("quality.checked.unlinked_callbacks", lang).split("{n}")[1].split("{share}")[0].strip()
    assert named and not [c for c in captions if named in c]
    for check in quality.CHECKS[:-1]:
        share = counts[check] / checked[check]
        shown = f"{share:.1%}" if share >= 0.001 or not counts[check] else "<0.1%"
        assert (
            t_(f"quality.checked.{check}", lang).format(share=shown, n=f"{checked[check]:,}") in captions
        ), check
