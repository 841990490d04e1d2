import io

import openpyxl
import pandas as pd

from analytics.reports import export


def _frame():
    return pd.DataFrame(
        {
            "name": ["张三", '=HYPERLINK("x")', "+86 138", "-1+2", "@SUM(A1)", "\tx", "ok"],
            "amount": [1.5, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        }
    )


def test_csv_has_bom_and_neutralises_formulas_but_not_numbers():
    data = export.csv_bytes(_frame())
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig").splitlines()
    assert text[0] == "name,amount"
    assert text[1] == "张三,1.5"
    assert text[2] == '"\'=HYPERLINK(""x"")",-2.0'
    assert [line.split(",")[0] for line in text[3:7]] == ["'+86 138", "'-1+2", "'@SUM(A1)", "'\tx"]


def test_a_carriage_return_inside_a_csv_cell_starts_no_row_that_excel_would_run_as_a_formula():
    """A comment `服务很好\r=cmd|...` was written unquoted: Excel, like Python's reader, ends a record
    at a bare CR, so the DDE payload began the next row as a formula."""
    import csv

    hostile = "服务很好\r=cmd|' /C calc'!A0"
    frame = pd.DataFrame({"comment": [hostile, "\r@SUM(A1)"], "n": [1, 2]})
    text = export.csv_bytes(frame).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["comment", "n"], [hostile, "1"], ["'\r@SUM(A1)", "2"]]


def test_xlsx_neutralises_formulas_and_uses_given_headers():
    data = export.xlsx_bytes(_frame(), {"name": "客户姓名", "amount": "金额"})
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("客户姓名", "金额")
    assert rows[1] == ("张三", 1.5)
    assert rows[2] == ('\'=HYPERLINK("x")', -2.0)
    assert all(not str(r[0]).startswith(("=", "+", "-", "@")) for r in rows[1:])


def test_has_phone_needs_a_phone_column_with_a_value():
    assert export.has_phone(pd.DataFrame({"phone": [None, "13800000000"], "vin": ["a", "b"]}))
    assert not export.has_phone(pd.DataFrame({"phone": [None, None]}))
    assert not export.has_phone(pd.DataFrame({"vin": ["a"], "telephone_note": ["x"]}))


def test_downloads_are_recorded_newest_first(tmp_path):
    from datetime import datetime

    from analytics.store import db

    con = db.connect(tmp_path / "audit.duckdb")
    first = export.record_download(
        con, "churn_list_2026-09-30.csv", "csv", 50, True, at=datetime(2026, 9, 30, 9)
    )
    second = export.record_download(
        con, "unsatisfied_2026-09.xlsx", "xlsx", 7, True, who="lead", at=datetime(2026, 9, 30, 10)
    )
    assert second == first + 1
    rows = export.downloads(con).to_dict("records")
    assert rows == [
        {
            "downloaded_at": datetime(2026, 9, 30, 10),
            "who": "lead",
            "what": "unsatisfied_2026-09.xlsx",
            "file_format": "xlsx",
            "row_count": 7,
            "has_phone": True,
        },
        {
            "downloaded_at": datetime(2026, 9, 30, 9),
            "who": "local",
            "what": "churn_list_2026-09-30.csv",
            "file_format": "csv",
            "row_count": 50,
            "has_phone": True,
        },
    ]
    con.close()


def test_a_version_1_database_gains_the_audit_log_once(tmp_path):
    import duckdb

    from analytics.store import db

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    for statement in db.MIGRATIONS[1]:
        con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1'), ('data_version', '4')")
    con.close()
    con = db.connect(path)
    assert db.schema_version(con) == db.SCHEMA_VERSION >= 2
    assert db.data_version(con) == 4
    assert db.migrate(con) == db.SCHEMA_VERSION
    assert export.downloads(con).empty
    con.close()


def test_downloads_recorded_under_schema_2_move_into_the_audit_log(tmp_path):
    from datetime import datetime

    import duckdb

    from analytics.store import db

    path = tmp_path / "v2.duckdb"
    con = duckdb.connect(str(path))
    for version in (1, 2):
        for statement in db.MIGRATIONS[version]:
            con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', '2'), ('data_version', '1')")
    con.execute(
        "INSERT INTO downloads (downloaded_at, who, what, file_format, row_count, has_phone) VALUES "
        "('2026-09-30 09:00', 'local', 'calls.csv', 'csv', 50, true), "
        "('2026-09-30 10:00', 'local', 'vins.xlsx', 'xlsx', 3, false)"
    )
    con.close()
    con = db.connect(path)
    assert db.schema_version(con) == db.SCHEMA_VERSION
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "downloads" not in tables and "audit_log" in tables
    assert export.downloads(con).to_dict("records") == [
        {
            "downloaded_at": datetime(2026, 9, 30, 10),
            "who": "local",
            "what": "vins.xlsx",
            "file_format": "xlsx",
            "row_count": 3,
            "has_phone": False,
        },
        {
            "downloaded_at": datetime(2026, 9, 30, 9),
            "who": "local",
            "what": "calls.csv",
            "file_format": "csv",
            "row_count": 50,
            "has_phone": True,
        },
    ]
    assert set(con.execute("SELECT role FROM audit_log").fetchall()) == {("cs_lead",)}
    con.close()


AUDIT_SCRIPT = """
import pandas as pd
import streamlit as st
from analytics.reports import export
from ui.data import reading
from ui.widgets import download_buttons

st.session_state.setdefault("lang", "zh")
download_buttons(pd.DataFrame({"customer_name": ["张三"], "phone": ["13800000000"]}), "calls", key="calls")
download_buttons(pd.DataFrame({"vin": ["LGB1"]}), "vins", key="vins")
with reading() as cur:
    log = export.downloads(cur)
st.dataframe(log, key="log")
"""


def test_every_list_download_lands_in_the_log_and_phone_lists_say_so(writable_demo, fetch_download):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(AUDIT_SCRIPT, default_timeout=30)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["下载 CSV", "下载 Excel"] * 2
    assert ["电话号码" in b.proto.help for b in buttons] == [True, True, False, False]
    assert all("下载将被记录" in b.proto.help for b in buttons)
    assert at.dataframe[0].value.empty
    # A download is the browser's request for the file, recorded once; its click reruns nothing.
    assert fetch_download(buttons[0]).decode("utf-8-sig").startswith("客户姓名")
    fetch_download(at.get("download_button")[3])
    at.run()
    log = at.dataframe[0].value
    assert log[["who", "what", "file_format", "row_count", "has_phone"]].to_dict("records") == [
        {"who": "local", "what": "vins.xlsx", "file_format": "xlsx", "row_count": 1, "has_phone": False},
        {"who": "local", "what": "calls.csv", "file_format": "csv", "row_count": 1, "has_phone": True},
    ]


DECK_SCRIPT = """
import streamlit as st

from analytics.reports import deck, export
from ui.data import reading

deck.build_deck = lambda cur, month, stores, language, progress=None: b"pptx"  # the slides are not the point
from ui.deck_button import deck_button

st.session_state.setdefault("lang", "zh")
deck_button("2026-09", None, "zh")
with reading() as cur:
    log = export.downloads(cur)
st.dataframe(log, key="log")
"""


def test_the_overviews_deck_download_lands_in_the_audit_log_like_the_decks_command(
    writable_demo, fetch_download
):
    """`deck` on the command line is recorded as an export; the same deck (names and comments of the
    red-flag customers) downloaded from the Overview was not."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(DECK_SCRIPT, default_timeout=30)
    at.run()
    at.button(key="deck_build").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.dataframe[0].value.empty
    assert (
        fetch_download(next(b for b in at.get("download_button") if "deck_download" in b.proto.id)) == b"pptx"
    )
    at.run()
    log = at.dataframe[0].value
    assert log[["who", "what", "file_format", "row_count", "has_phone"]].to_dict("records") == [
        {
            "who": "local",
            "what": "deck_2026-09_all_zh.pptx",
            "file_format": "pptx",
            "row_count": 9,
            "has_phone": False,
        }
    ]


def test_formulas_behind_spaces_invisible_characters_or_full_width_signs_are_neutralised_too():
    """LibreOffice (with "trim spaces") and some Excel builds run ` =1+1` from a CSV; Japanese and
    Chinese input methods type `＝` for `=`, which WPS and Excel read as the formula sign."""
    hostile = [
        " =cmd|' /C calc'!A0",
        "\u3000=1+1",
        "\ufeff=1+1",
        "\u200b@SUM(A1)",
        "\n=1+1",
        "\xa0-1+2",
        '＝HYPERLINK("http://x")',
        "＋1+2",
        "－1+2",
        "＠SUM(A1)",
    ]
    assert [export.neutralise_text(v) for v in hostile] == ["'" + v for v in hostile]
    # Text that merely holds such a sign later is left as written.
    assert export.neutralise_text("服务 = 好") == "服务 = 好"
    assert export.neutralise_text("  好评") == "  好评"
    frame = pd.DataFrame({" =A1": hostile, "n": range(len(hostile))})
    book = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(frame))).active
    rows = list(book.iter_rows(values_only=True))
    assert rows[0][0] == "' =A1" and all(str(r[0]).startswith("'") for r in rows[1:])
