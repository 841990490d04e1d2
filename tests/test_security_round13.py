"""A thirteenth attack (session 24), each reproduced first and failing before its fix: the masking a
role without phones relies on, fed the ways Chinese input methods and DMS exports write a number's
separators, and the other promises of the README's security sections."""

from __future__ import annotations

import re

import pytest

from analytics.core import auth

# --------------------------------------------------------------------------- masking


@pytest.mark.parametrize(
    "text",
    [
        "138／1234／5678",  # slashes as a Chinese input method types them in full-width mode
        "138＼1234＼5678",
        "138＿1234＿5678",
        "138﹣1234﹣5678",  # the small hyphen-minus, a dash NFKC reads as "-"
        "138⸺1234⸺5678",  # dashes of other kinds (Unicode's dash punctuation)
        "138〜1234〜5678",
        "138～1234～5678",  # the full-width tilde a range is typed with
        "138﹒1234﹒5678",  # the small full stop
        "138・1234・5678",  # middle dots of other kinds: katakana, hyphenation point, bullet
        "138‧1234‧5678",
        "138•1234•5678",
        "车主电话：1 3 8／1 2 3 4／5 6 7 8",
    ],
)
def test_a_mobile_set_apart_by_full_width_slashes_other_dashes_or_dots_is_masked(text):
    """README: groups set apart by "dots, dashes, slashes, asterisks" are masked; the full-width slash
    (／) a Chinese input method types, the small and other dashes (﹣ ⸺ 〜) and the other middle dots
    (・ ‧ •) left 138／1234／5678 shown in full to the manager and the viewer."""
    masked = str(auth.mask_text(text))
    digits = "".join(ch for ch in masked if ch.isdigit())
    assert "138" in masked and digits.endswith("5678") and "1234" not in digits, masked


def test_ordinary_text_with_the_new_separators_stays_as_written():
    """Dates, ranges and short numbers written with the same signs are no phone numbers."""
    for text in (
        "2026／10／31",
        "保养间隔5000～7500公里",
        "工时费 120—180 元",
        "第13・14项",
        "A／B 店 2026〜2027",
    ):
        assert auth.mask_text(text) == text


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize("window", ["²", "¹²", "①②"])
def test_a_link_whose_window_is_written_in_other_digits_opens_the_page_without_a_fault(window):
    """``?window=²`` passed ``str.isdigit`` and broke ``int()``: whoever sent the link made the
    first page of the session a fault box instead of the dashboard. A window the sidebar does not
    offer is dropped, as a month outside the data is."""
    from streamlit.testing.v1 import AppTest

    def page():
        import streamlit as st

        from ui.state import restore_from_link

        restore_from_link()
        st.write(repr(st.session_state.get("window")))

    at = AppTest.from_function(page, default_timeout=60)
    at.query_params["window"] = window
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.markdown[0].value == "None"


def test_a_mobile_written_in_the_vin_column_is_masked_for_roles_without_phones():
    """An agent who had no VIN typed the customer's mobile into 车架号 (as into the plate column,
    which the README names): the data-quality tab's invalid VINs, open to the manager and the viewer,
    showed 13812345678 in full, because the VIN column was never searched. A VIN's own digits never
    read as a number (its tenth character is the model year's letter since 2010), so real VINs stay."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "order_id": ["WO1", "WO2", "13912345678"],
            "vin": ["13812345678", "LSVAU2A37N2800001", "LFV2A21K7G3012345"],
            "problem": ["length", "check digit", "check digit"],
        }
    )
    shown = auth.mask_frame(frame)
    assert shown["vin"].tolist() == ["138****5678", "LSVAU2A37N2800001", "LFV2A21K7G3012345"]
    # An order number is the key the manager quotes back to the DMS: kept as it is.
    assert shown["order_id"].tolist() == frame["order_id"].tolist()


@pytest.mark.parametrize(
    "text",
    [
        "身份证11010119900307123Ｘ",
        "身份证号：１１０１０１１９９００３０７１２３Ｘ",
        "证件 110101 19900307 123ｘ",
    ],
)
def test_an_id_card_whose_check_character_is_a_full_width_x_is_masked(text):
    """One ID card in eleven ends in X, and typed in an input method's full-width mode it is Ｘ: the
    digits were read in any width, the X only in ASCII, so 11010119900307123Ｘ was shown whole."""
    masked = str(auth.mask_text(text))
    assert "19900307" not in masked and "１９９００３０７" not in masked, masked
    assert "*" * 11 in masked, masked


def test_the_invalid_vin_finding_shows_a_mobile_typed_for_a_vin_masked_for_roles_without_phones(tmp_path):
    """The same, end to end: a work order whose 车架号 holds the owner's mobile is imported as written
    and listed among the invalid VINs, the table the Data page shows every role."""
    from analytics import cli
    from analytics.domain import quality
    from analytics.store import db

    source = tmp_path / "orders.csv"
    source.write_text(
        "工单号,进厂日期,车架号,联系电话,结算金额\n"
        "WO1,2026-08-01,13812345678,13812345678,100\n"
        "WO2,2026-08-02,LSVAU2A37N2800001,13912345678,200\n",
        encoding="utf-8",
    )
    database = tmp_path / "db.duckdb"
    assert cli.main(["import", str(source), "--no-marts", "--db", str(database)]) == 0
    con = db.connect(database, read_only=True)
    try:
        found = quality.finding(con, "invalid_vins")
    finally:
        con.close()
    assert "13812345678" in found["vin"].tolist()
    shown = auth.mask_frame(found)
    assert not shown.astype(str).apply(lambda c: c.str.contains("12345678")).any().any()


# --------------------------------------------------------------------------- customer data and git


def test_every_file_written_beside_the_default_database_stays_out_of_git():
    """Only ``data/*.duckdb``, its WAL and its kept results were ignored: the backups the dashboard
    makes after every import (``data/dashboard.duckdb.backups/``), the file a restore replaced
    (``.replaced-<time>``) and the copy a restore makes showed as new files to add, each a whole
    copy of the customers' phone numbers, one ``git add -A`` away from the repository."""
    import subprocess

    from analytics.core.config import DEFAULT_DB, ROOT
    from analytics.store import db

    data = DEFAULT_DB.relative_to(ROOT)
    backups = db.backup_dir(DEFAULT_DB).relative_to(ROOT)
    side = [
        backups / f"{DEFAULT_DB.stem}-20261205-083000-000001.duckdb",
        backups / f"{DEFAULT_DB.stem}-20261205-083000-000001.duckdb.partial",
        data.with_name(f"{data.name}.replaced-20261205-083000"),
        data.with_name(f"{data.name}.replaced-20261205-083000.wal"),
        data.with_name(f"{data.name}.restoring"),
        data.with_name(f"{data.name}.write-wanted"),
        data.with_name(f"{data.name}.wal"),
    ]
    shown = [
        str(path)
        for path in side
        if subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT, check=False).returncode != 0
    ]
    assert not shown, shown


# --------------------------------------------------------------------------- the page's link

PHONE_STORE = "滨江店（店长13897531246）"


@pytest.fixture
def two_stores_env(demo_db, demo_model_dir, tmp_path, monkeypatch):
    """A private demo whose vehicles are split between its store and one named with a mobile."""
    import shutil

    from analytics.store import db

    path = tmp_path / "stores.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        with db.write_transaction(con) as cur:
            for table in ("service_orders", "vehicles"):
                cur.execute(
                    f"UPDATE {table} SET store = $s WHERE hash(vin) % 2 = 0",  # noqa: S608 - fixed names
                    {"s": PHONE_STORE},
                )
            db.bump_data_version(cur)
    finally:
        con.close()
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(demo_model_dir))
    return path


def test_a_store_named_with_a_mobile_is_masked_in_the_pages_link_for_the_manager(
    two_stores_env, with_accounts
):
    """The sidebar showed the manager 滨江店（店长138****1246）, but the page's link (the address bar,
    the browser's history, every link copied to a colleague) carried the store as it is written,
    13897531246 in full. The link now names it as the role sees it, and such a link still opens
    the store it names."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ACCOUNTS
    from tests.signing_in import APP, sign_in, submit

    at = sign_in("wangqiang")
    at.session_state["stores"] = [PHONE_STORE]
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    link = at.query_params["stores"]
    assert "13897531246" not in str(link), link
    assert at.session_state["stores"] == [PHONE_STORE]
    # The manager's link, opened again (by the manager or the CS lead), chooses the same store.
    again = AppTest.from_file(str(APP), default_timeout=240)
    again.query_params["stores"] = link
    again.session_state["lang"] = "en"
    again.run()
    submit(again, "zhangli", ACCOUNTS["zhangli"][2])
    assert again.session_state["stores"] == [PHONE_STORE]


# --------------------------------------------------------------------------- exports


def test_a_cell_longer_than_excel_holds_is_cut_so_the_workbook_opens_without_repair():
    """Excel holds at most 32,767 characters in a cell and offers to "repair" a workbook with a
    longer one (removing the sheet's text): one comment pasted 40,000 characters long (a CSV cell
    has no bound) made the whole follow-up list's XLSX open as damaged. The cell is cut, and says so."""
    import io

    import openpyxl
    import pandas as pd

    from analytics.reports import export

    long = "等待时间太长" * 7_000 + "13812345678"
    wide = "😀" * 20_000  # outside the BMP: two UTF-16 units each, as Excel counts them
    frame = pd.DataFrame({"comment": [long, wide, "=1+1"]})
    workbook = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(frame)))
    cells = [row[0] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert all(len(c.encode("utf-16-le")) // 2 <= 32_767 for c in cells)
    assert cells[0].startswith("等待时间太长") and cells[0].endswith("…")
    assert cells[1].startswith("😀") and cells[1].endswith("…")
    assert cells[2] == "'=1+1"


def test_full_width_letters_around_an_id_card_number_are_read_as_before():
    """Only the Ｘ is read as ASCII: read so, any full-width letter right after an ID number (ＡＢ) would
    make it part of a code, as an ASCII letter there does, and leave it whole."""
    assert auth.mask_text("ＩＤ110101199003071234") == "ＩＤ110***********1234"
    assert auth.mask_text("身份证110101199003071234ＡＢ") == "身份证110***********1234ＡＢ"


@pytest.mark.parametrize(
    "text",
    [
        "身份证sfz110101199003071234",
        "证件ID110101199003071234",
        "卡号NO6222021234567890128",
        "卡号No6222 0212 3456 7890 128",
    ],
)
def test_an_id_or_bank_card_number_written_right_after_letters_is_masked(text):
    """A mobile after letters is masked (微信wx137…); an ID card after the pinyin SFZ or ID, or a bank
    card after NO, was shown whole: the ID and card patterns took a letter before them for a code's."""
    masked = str(auth.mask_text(text))
    assert "*" * 11 in masked and "19900307" not in masked and "02123456" not in masked.replace(" ", "")


# --------------------------------------------------------------------------- the churn page's reasons

CATEGORY = "[领奖](http://evil.example) 店长13897531246"


def test_a_complaint_category_in_a_vehicles_reasons_is_text_and_masked_for_the_manager(
    demo_db, demo_model_dir, tmp_path, monkeypatch, with_accounts
):
    """Under the churn list, the chosen vehicle's reasons quote its last visit's complaint category as
    the file gave it, and ``st.write`` drew them as Markdown, unmasked: a category written
    ``[领奖](http://…)`` became a link, and a mobile in it reached the manager in full."""
    import shutil

    from analytics.store import db
    from tests.signing_in import sign_in

    path = tmp_path / "reasons.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    try:
        with db.write_transaction(con) as cur:
            cur.execute("UPDATE callbacks SET is_complaint = true, complaint_category = $c", {"c": CATEGORY})
            db.bump_data_version(cur)
    finally:
        con.close()
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(demo_model_dir))
    at = sign_in("wangqiang", page="pages/churn.py")
    listed = at.dataframe[0].value
    reasons = [c for c in listed.columns if listed[c].astype(str).str.contains("领奖").any()]
    assert reasons, list(listed.columns)
    row = int(listed[reasons[0]].astype(str).str.contains("领奖").to_numpy().argmax())
    at.session_state["churn_list"] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    said = [m.value for m in at.markdown if "领奖" in m.value]
    assert said, [m.value for m in at.markdown]
    # Escaped for Markdown (\\[领奖\\](http\\://…): a bracket drawn as a bracket, no link.
    assert all("13897531246" not in s and not re.search(r"(?<!\\)\]\(", s) for s in said), said
