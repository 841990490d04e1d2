"""Issue 14: a "second vendor's" exports (built here) land whole: every sheet, units, stars, dashed
phones, title rows, unknown headers guessed from their values, exact money; bounds before parsing."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from analytics.core.config import settings
from analytics.core.errors import ImportRefused
from analytics.ingest import import_file, plan_import, read_table, rejected_rows
from analytics.store import db

SERVICE_HEADERS = [
    "序号",
    "委托书号",
    "VIN码",
    "客户名称",
    "客户电话",
    "入厂日期",
    "实收金额",
    "业务类型",
    "备注栏",
]


def _service_row(year: int, n: int) -> list[object]:
    phones = ["138-0013-8000", "+86 138 0013 8001", "１３８００１３８００２", "13800138003"]
    money = ["¥1,234.50", "1234.50元", "880", "￥12,000.05"]
    return [
        n,
        f"WO{year}{n:04d}",
        f"LSVAU2A37N{year % 100:02d}{n:05d}",
        f"客户{n}",
        phones[n % 4],
        f"{year}年{(n % 12) + 1}月{(n % 27) + 1}日",
        money[n % 4],
        "定期保养",
        "",
    ]


def vendor_workbook(path: Path) -> Path:
    """Three year sheets (title rows, blank rows, one bad date), a summary sheet and a callback sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for year, count in ((2022, 5), (2023, 7), (2024, 9)):
        sheet = book.create_sheet(f"{year}年")
        sheet.append([f"XX汽车 维修委托书导出 {year}年度"])
        sheet.append([])
        # The 2024 sheet puts two columns in another order: they are matched by name.
        headers = list(SERVICE_HEADERS)
        if year == 2024:
            headers[4], headers[3] = headers[3], headers[4]
        sheet.append(headers)
        for n in range(1, count + 1):
            row = _service_row(year, n)
            if year == 2024:
                row[4], row[3] = row[3], row[4]
            sheet.append(row)
            if year == 2023 and n == 3:
                sheet.append([])  # a blank row inside the table
        if year == 2024:
            bad = _service_row(year, 99)
            bad[5] = "2024年2月30日"
            bad[4], bad[3] = bad[3], bad[4]
            sheet.append(bad)
    summary = book.create_sheet("汇总")
    summary.append(["月份", "台次", "产值"])
    summary.append(["2024-01", 12, 34567])
    calls = book.create_sheet("回访")
    calls.append(["回访单号", "委托书号", "回访时间", "回访结果"])
    calls.append(["R1", "WO20220001", "2022-02-03 10:00", "接通"])
    book.save(path)
    return path


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "vendor.duckdb")
    yield connection
    connection.close()


def test_every_sheet_of_the_same_table_lands_and_the_others_are_named(con, tmp_path):
    result = import_file(con, vendor_workbook(tmp_path / "工单导出.xlsx"))
    assert (result.rows_read, result.inserted, result.rejected) == (22, 21, 1)
    assert result.sheets == [
        {"sheet": "2022年", "rows": 5, "landed": 5, "rejected": 0, "skipped": 0, "reason": ""},
        {
            "sheet": "2023年",
            "rows": 7,
            "landed": 7,
            "rejected": 0,
            "skipped": 0,
            "reason": "1 blank rows not counted",
        },
        {"sheet": "2024年", "rows": 10, "landed": 9, "rejected": 1, "skipped": 0, "reason": ""},
        {
            "sheet": "汇总",
            "rows": 1,
            "landed": 0,
            "rejected": 0,
            "skipped": 1,
            "reason": "it has no columns of the same table as service orders",
        },
        {
            "sheet": "回访",
            "rows": 1,
            "landed": 0,
            "rejected": 0,
            "skipped": 1,
            "reason": "it holds callback records, not service orders; import it as a file of its own",
        },
    ]
    for sheet in result.sheets:
        assert sheet["landed"] + sheet["rejected"] + sheet["skipped"] == sheet["rows"]
    rejects = rejected_rows(con, result.import_id)
    assert rejects[["sheet", "source_row", "column_name", "reason"]].values.tolist() == [
        ["2024年", 13, "入厂日期", "unreadable date"]
    ]
    assert result.unmapped == ["序号", "备注栏"]
    by_phone = dict(
        con.execute("SELECT phone, count(*) FROM service_orders GROUP BY phone ORDER BY phone").fetchall()
    )
    assert by_phone == {"13800138000": 4, "13800138001": 7, "13800138002": 5, "13800138003": 5}
    # 2024 swapped two columns: names and phones still land in their own fields.
    assert con.execute(
        "SELECT customer_name, phone FROM service_orders WHERE order_id = 'WO20240002'"
    ).fetchall() == [("客户2", "13800138002")]


def test_money_is_exact_and_the_same_for_two_imports(tmp_path):
    path = vendor_workbook(tmp_path / "工单导出.xlsx")
    sums = []
    for name in ("one", "two"):
        con = db.connect(tmp_path / f"{name}.duckdb")
        import_file(con, path)
        sums.append(con.execute("SELECT sum(amount), typeof(sum(amount)) FROM service_orders").fetchall()[0])
        con.close()
    # Amounts as _service_row writes them (n % 4 picks ¥1,234.50, 1234.50元, 880, ￥12,000.05).
    money = (Decimal("1234.50"), Decimal("1234.50"), Decimal("880"), Decimal("12000.05"))
    expected = sum((money[n % 4] for count in (5, 7, 9) for n in range(1, count + 1)), Decimal("0"))
    assert sums[0] == sums[1] == (expected, "DECIMAL(38,2)")


def test_a_schema_6_database_upgrades_money_in_place(tmp_path):
    path = tmp_path / "old.duckdb"
    raw = duckdb.connect(str(path))
    for version in range(1, 7):
        for statement in db.MIGRATIONS[version]:
            raw.execute(statement.replace("DECIMAL(18, 2)", "DOUBLE"))
    raw.execute("INSERT INTO meta VALUES ('schema_version', '6'), ('data_version', '1')")
    assert raw.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'service_orders' "
        "AND column_name = 'amount'"
    ).fetchall() == [("DOUBLE",)]
    raw.execute(
        "INSERT INTO service_orders (order_id, visit_date, service_type, amount, import_id) "
        "VALUES ('A', DATE '2024-01-01', 'other', 0.1, 1), ('B', DATE '2024-01-01', 'other', 0.2, 1)"
    )
    raw.close()
    con = db.connect(path)
    assert db.schema_version(con) == db.SCHEMA_VERSION
    assert con.execute("SELECT sum(amount) FROM service_orders").fetchall() == [(Decimal("0.30"),)]
    assert con.execute(
        "SELECT data_type FROM information_schema.columns WHERE table_name = 'service_orders' "
        "AND column_name = 'amount'"
    ).fetchall() == [("DECIMAL(18,2)",)]
    con.close()


CALLBACK_CSV = """回访单号,委托书号,回访时间,客户状态,总体评价,推荐指数,服务态度,客户原话
R1,WO1,2024/05/02 10:00,成功,4分,9分,★★★★☆,师傅很专业
R2,WO2,2024/05/02 11:00,失败,,,,
R3,WO3,2024/05/03 09:00,成功,5分,10分,很好,等太久了
R4,WO4,2024/05/03 09:30,成功,5分,8分,★★★☆☆,
"""


def test_unknown_header_is_guessed_from_its_values_and_units_are_read(con):
    data = CALLBACK_CSV.encode("gb18030")
    raw = read_table(data, "回访.csv")
    plan = plan_import(con, raw)
    assert plan.guessed == {"reached": "客户状态", "overall_score": "总体评价", "recommend_score": "推荐指数"}
    assert plan.unmapped == ("客户原话",)
    result = import_file(con, data, file_name="回访.csv")
    assert (result.rows_read, result.inserted, result.rejected, result.blanked) == (4, 4, 0, 1)
    assert result.notes == ["score not readable on the 1-5 scale, left blank"]
    rows = con.execute(
        "SELECT callback_id, reached, overall_score, recommend_score, attitude_score FROM callbacks ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("R1", True, 8.0, 9.0, 8.0),
        ("R2", False, None, None, None),
        ("R3", True, 10.0, 10.0, None),
        ("R4", True, 10.0, 8.0, 6.0),
    ]


def test_no_guess_leaves_the_unknown_columns_unmapped(con):
    raw = read_table(CALLBACK_CSV.encode("utf-8"), "回访.csv")
    plan = plan_import(con, raw, guess=False)
    assert plan.guessed == {}
    assert plan.unmapped == ("客户状态", "总体评价", "推荐指数", "客户原话")


def test_a_mapping_with_an_empty_header_refuses_a_guess(con):
    raw = read_table(CALLBACK_CSV.encode("utf-8"), "回访.csv")
    plan = plan_import(con, raw, mapping={"columns": {"reached": ""}})
    assert "reached" not in plan.guessed
    assert "客户状态" in plan.unmapped


@pytest.mark.parametrize(
    "header", ["回访结果", "接通状态", "是否成功", "回访状态", "通话状态", "通话结果", "联系结果"]
)
def test_common_vendor_headers_for_reached_are_known(con, header):
    text = f"回访单号,工单号,回访日期,{header}\nR1,WO1,2024-05-02,接通\nR2,WO2,2024-05-02,关机\n"
    plan = plan_import(con, read_table(text.encode("utf-8"), "c.csv"))
    assert plan.mapping["reached"] == header
    assert plan.staged.sort_values("callback_id")["reached"].tolist() == [True, False]


def _bomb(rows: int) -> bytes:
    """Return a minimal XLSX whose one sheet holds ``rows`` rows of one cell: small on disk, huge inside."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="s" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b"<sheetData>"
            )
            block = b"<row><c><v>1</v></c></row>" * 10000
            for _ in range(rows // 10000):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def test_a_small_workbook_expanding_to_a_million_rows_is_refused_quickly():
    bomb = _bomb(1_000_000)
    assert len(bomb) < 1_000_000
    clock = time.perf_counter()
    with pytest.raises(ImportRefused, match=r"more than 500,000 rows.*max_rows in the \[import\] section"):
        read_table(bomb, "bomb.xlsx")
    assert time.perf_counter() - clock < 10


def test_the_bounds_come_from_the_settings(monkeypatch):
    monkeypatch.setattr(settings().import_, "max_rows", 3)
    monkeypatch.setattr(settings().import_, "max_expanded_mb", 1)
    text = "工单号,进厂日期\n" + "".join(f"W{i},2024-01-01\n" for i in range(40))
    with pytest.raises(ImportRefused, match=r"has 41 lines, more than the 3 rows an import reads"):
        read_table(text.encode("utf-8"), "big.csv")
    with pytest.raises(ImportRefused, match=r"is 2 MB, more than the 1 MB an import reads"):
        read_table(b"a,b\n" + b"x" * 2_000_000, "wide.csv")
    assert read_table("工单号,进厂日期\nW1,2024-01-01\n".encode(), "ok.csv").rows.shape[0] == 1


def merged_header_workbook(path: Path) -> Path:
    """A work-order sheet whose header spans two merged rows, as Excel reports print it: single
    columns merged down both rows, groups (车辆信息, 费用) merged across their sub-columns."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["维修工单明细表"])
    sheet.append(["工单号", "车辆信息", None, None, "进厂日期", "行驶里程", "费用", None, "服务顾问"])
    sheet.append([None, "车架号", "车牌号", "车型", None, None, "工时费", "结算金额", None])
    for cells in ("A2:A3", "B2:D2", "E2:E3", "F2:F3", "G2:H2", "I2:I3"):
        sheet.merge_cells(cells)
    sheet.append(
        ["WO1", "LSVAU2A37N2000001", "浙A·12345", "朗逸", "2024-03-05", "12,345", 200, "1,234.50", "张"]
    )
    sheet.append(["WO2", "LSVAU2A37N2000002", "浙B12345", "途观", "2024-03-06", "8800", 0, "500", "李"])
    book.save(path)
    return path


def test_a_header_merged_over_two_rows_maps_the_columns_of_both(con, tmp_path):
    result = import_file(con, merged_header_workbook(tmp_path / "工单.xlsx"))
    assert (result.rows_read, result.inserted, result.rejected) == (2, 2, 0)
    assert result.unmapped == ["工时费"]
    assert con.execute(
        "SELECT order_id, vin, plate, model, visit_date::VARCHAR, mileage_km, amount::VARCHAR, advisor "
        "FROM service_orders ORDER BY order_id"
    ).fetchall() == [
        ("WO1", "LSVAU2A37N2000001", "浙A12345", "朗逸", "2024-03-05", 12345, "1234.50", "张"),
        ("WO2", "LSVAU2A37N2000002", "浙B12345", "途观", "2024-03-06", 8800, "500.00", "李"),
    ]


SETTLEMENT_CSV = """结算单号,底盘号,开单时间,表显里程,结算金额
JS01,LSVAU2A37N2000001,2024-03-05 09:00:00,"12,000km",100
JS02,LSVAU2A37N2000002,2024-03-06 10:30:00,1.2万公里,200
"""


def test_a_settlement_export_names_its_key_date_and_odometer_in_its_own_words(con):
    data = SETTLEMENT_CSV.encode("gb18030")
    plan = plan_import(con, read_table(data, "结算单.csv"))
    assert (plan.kind, plan.guessed) == ("service", {})
    result = import_file(con, data, file_name="结算单.csv")
    assert (result.inserted, result.rejected) == (2, 0)
    assert con.execute(
        "SELECT order_id, visit_date::VARCHAR, mileage_km FROM service_orders ORDER BY order_id"
    ).fetchall() == [("JS01", "2024-03-05", 12000), ("JS02", "2024-03-06", 12000)]


@pytest.mark.parametrize(
    ("first_time", "second_day", "second_time"),
    [
        (dt.time(10, 15, 30), "2024年3月8日", "14:00"),
        (dt.datetime(2024, 3, 7, 10, 15, 30), "2024-03-08", "2024-03-08 14:00"),
    ],
    ids=["time of day", "date and time of the same day"],
)
def test_a_callback_time_in_a_column_of_its_own_completes_the_callback_date(
    con, tmp_path, first_time, second_day, second_time
):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["回访单号", "工单号", "回访日期", "回访时间", "是否接通"])
    sheet.append(["R1", "WO1", dt.date(2024, 3, 7), first_time, "已接通"])
    sheet.append(["R2", "WO2", second_day, second_time, "未接通"])
    sheet.append(["R3", "WO3", "2024-03-09", None, "空号"])
    book.save(tmp_path / "回访.xlsx")
    result = import_file(con, tmp_path / "回访.xlsx")
    assert (result.inserted, result.rejected, result.unmapped) == (3, 0, [])
    assert con.execute("SELECT callback_id, callback_date::VARCHAR FROM callbacks ORDER BY 1").fetchall() == [
        ("R1", "2024-03-07 10:15:30"),
        ("R2", "2024-03-08 14:00:00"),
        ("R3", "2024-03-09 00:00:00"),
    ]


def test_a_file_without_callback_ids_imported_before_its_time_column_was_read_updates_its_calls(con):
    """Callbacks without an id get one made from their content, the callback date included. A
    store that imported such a file before 回访时间 was read (midnight dates) and imports it again
    now must have its calls updated with their times, not added a second time."""
    header = "工单号,车架号,回访类型,回访日期,回访时间,回访人,是否接通\n"
    lines = [
        "WO1,LSVAA1234567890A1,3DC,2024-03-07,10:15,李娜,接通\n",
        "WO2,LSVAA1234567890A2,3DC,2024-03-07,11:00,李娜,未接通\n",
        # two calls of one work order on one day, told apart by their time alone
        "WO2,LSVAA1234567890A2,3DC,2024-03-07,15:30,李娜,接通\n",
    ]
    # As a file read then: without its time column every date was midnight (the two calls of WO2
    # were told apart by their order in the file).
    before = "".join(
        ",".join(v for i, v in enumerate(line.split(",")) if i != 4) for line in [header, *lines]
    )
    first = import_file(con, before.encode("gb18030"), file_name="回访_旧.csv", kind="callback")
    assert (first.inserted, first.duplicates_in_file) == (3, 0)
    again = import_file(
        con, (header + "".join(lines)).encode("gb18030"), file_name="回访.csv", kind="callback"
    )
    # the stored calls take their times, under the ids they had
    assert (again.inserted, again.updated) == (0, 3)
    assert con.execute("SELECT order_id, callback_date::VARCHAR FROM callbacks ORDER BY 2").fetchall() == [
        ("WO1", "2024-03-07 10:15:00"),
        ("WO2", "2024-03-07 11:00:00"),
        ("WO2", "2024-03-07 15:30:00"),
    ]
    third = import_file(
        con, (header + "".join(lines)).encode("gb18030"), file_name="回访.csv", kind="callback"
    )
    assert (third.inserted, third.updated, third.unchanged) == (0, 0, 3)


COMPLAINT_CSV = """回访单号,工单号,回访日期,是否接通,满意度,是否投诉,投诉等级,结案时间
C1,WO1,2024-03-07 10:00,接通,2,√,A,已解决 2024-03-08 09:30
C2,WO2,2024-03-07 11:00,接通,1,有,重大,处理中
C3,WO3,2024-03-07 12:00,接通,5,无,,
"""


def test_a_complaint_level_or_resolution_in_words_keeps_its_call(con):
    # The call, its score and its complaint flag are the archive: a level written as a letter or a
    # resolution still in progress blanks that cell, as an unreadable score does, and the row lands.
    result = import_file(con, COMPLAINT_CSV.encode("gb18030"), file_name="投诉回访.csv")
    assert (result.rows_read, result.inserted, result.rejected, result.blanked) == (3, 3, 0, 2)
    assert result.notes == [
        "complaint level not readable (1-4 expected), left blank",
        "date or time not readable, left blank",
    ]
    assert con.execute(
        "SELECT callback_id, overall_score, is_complaint, complaint_level, resolved_at::VARCHAR "
        "FROM callbacks ORDER BY 1"
    ).fetchall() == [
        ("C1", 4.0, True, None, "2024-03-08 09:30:00"),
        ("C2", 2.0, True, 3, None),
        ("C3", 10.0, False, None, None),
    ]


def test_a_complaint_told_only_by_a_level_in_letters_is_still_a_complaint(con):
    # No 是否投诉 column: a level names a complaint, even one whose letter is not read as 1-4.
    data = (
        "回访单号,工单号,回访日期,投诉等级\nC1,WO1,2024-03-07,A\nC2,WO2,2024-03-07,二级\nC3,WO3,2024-03-07,\n"
    )
    result = import_file(con, data.encode(), file_name="投诉.csv")
    assert (result.inserted, result.rejected, result.blanked) == (3, 0, 1)
    assert con.execute(
        "SELECT callback_id, is_complaint, complaint_level FROM callbacks ORDER BY 1"
    ).fetchall() == [
        ("C1", True, None),
        ("C2", True, 2),
        ("C3", False, None),
    ]


def test_a_callback_date_left_blank_is_taken_from_the_date_and_time_beside_it(con):
    data = (
        "回访单号,工单号,回访日期,回访时间,是否接通\n"
        "R1,WO1,2024/3/6,2024-03-06 10:15,接通\nR2,WO2,,2024-03-07 11:00,接通\nR3,WO3,,,接通\n"
    )
    result = import_file(con, data.encode(), file_name="回访.csv")
    assert (result.inserted, result.rejected, result.reasons, result.unmapped) == (
        2,
        1,
        ["missing callback date"],
        [],
    )
    assert con.execute("SELECT callback_id, callback_date::VARCHAR FROM callbacks ORDER BY 1").fetchall() == [
        ("R1", "2024-03-06 10:15:00"),
        ("R2", "2024-03-07 11:00:00"),
    ]


def test_a_callback_time_column_on_another_day_than_the_callback_date_is_not_taken_for_its_time(con):
    data = "回访单号,工单号,回访日期,回访时间,是否接通\nR1,WO1,2024-03-07,2024-03-09 10:15,接通\n"
    result = import_file(con, data.encode(), file_name="回访.csv")
    assert (result.inserted, result.unmapped) == (1, ["回访时间"])
    assert con.execute("SELECT callback_date::VARCHAR FROM callbacks").fetchall() == [
        ("2024-03-07 00:00:00",)
    ]


def test_the_callback_sheet_of_a_work_order_workbook_imports_when_callbacks_are_asked_for(con, tmp_path):
    path = vendor_workbook(tmp_path / "工单导出.xlsx")
    assert import_file(con, path).inserted == 21
    result = import_file(con, path, kind="callback")
    assert (result.kind, result.rows_read, result.inserted, result.rejected) == ("callback", 1, 1, 0)
    assert con.execute("SELECT callback_id, order_id, reached FROM callbacks").fetchall() == [
        ("R1", "WO20220001", True)
    ]
    assert [(s["sheet"], s["landed"], s["reason"]) for s in result.sheets] == [
        ("2022年", 0, "it holds service orders, not callback records; import it as a file of its own"),
        ("2023年", 0, "it holds service orders, not callback records; import it as a file of its own"),
        ("2024年", 0, "it holds service orders, not callback records; import it as a file of its own"),
        ("汇总", 0, "it has no columns of the same table as callback records"),
        ("回访", 1, ""),
    ]
