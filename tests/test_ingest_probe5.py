"""A fifth probe of real-style exports: Excel workbooks as staff and DMSs save them (group labels
over sub-columns, formulas, a cover sheet, a table away from A1, hidden rows, Mac dates). Each
test builds the workbook with openpyxl; those naming a fix failed before it."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import duckdb
import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from analytics.core.errors import ImportRefused
from analytics.ingest import import_file
from analytics.store import db
from tests.db_state import imported_twice

HEADER = ["工单号", "车架号", "车牌号", "客户姓名", "联系电话", "进厂日期", "结算金额"]
ORDERS = [
    ["WO1", "LSVAU2A37N2000001", "浙A12345", "张三", 13800138000, dt.date(2024, 3, 5), 1234.5],
    ["WO2", "LSVAU2A37N2000002", "浙B12345", "李四", 13800138001, dt.date(2024, 3, 6), 500],
]
LANDED = [
    ("WO1", "LSVAU2A37N2000001", "浙A12345", "张三", "13800138000", "2024-03-05", "1234.50"),
    ("WO2", "LSVAU2A37N2000002", "浙B12345", "李四", "13800138001", "2024-03-06", "500.00"),
]
SELECT = (
    "SELECT order_id, vin, plate, customer_name, phone, visit_date::VARCHAR, amount::VARCHAR "
    "FROM service_orders ORDER BY 1"
)


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe5.duckdb")
    yield connection
    connection.close()


def _saved(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _imported_twice(con: duckdb.DuckDBPyConnection, data: bytes, name: str = "工单.xlsx"):
    return imported_twice(con, data, name)


def test_a_sub_column_under_a_group_label_is_named_by_its_group(con):
    # 客户信息 merged over 姓名/电话, 车辆信息 over 车架号/车牌号: 姓名 alone names nobody in
    # particular (it used to be a column not imported, and every customer's name was lost).
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["工单号", "客户信息", None, "车辆信息", None, "进厂日期", "结算金额"])
    sheet.append([None, "姓名", "电话", "车架号", "车牌号", None, None])
    for cells in ("A1:A2", "B1:C1", "D1:E1", "F1:F2", "G1:G2"):
        sheet.merge_cells(cells)
    for order in ORDERS:
        order_id, vin, plate, name, phone, day, amount = order
        sheet.append([order_id, name, phone, vin, plate, day, amount])
    result = _imported_twice(con, _saved(book))
    assert (result.inserted, result.rejected, result.unmapped) == (2, 0, [])
    assert result.mapping["columns"]["customer_name"] == "客户姓名"
    assert con.execute(SELECT).fetchall() == LANDED


def _with_saved_values(data: bytes, values: dict[str, str]) -> bytes:
    """Return the workbook with the formula cells given saved values, as Excel saves them."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                # A formula giving "" is saved as an empty value of type text.
                part = part.replace(b'<c r="J2"><f>', b'<c r="J2" t="str"><f>')
                for cell, value in values.items():
                    part = re.sub(
                        rb'(<c r="%s"[^>]*>\s*<f>[^<]*</f>)\s*(?:<v\s*/>|<v></v>)?' % cell.encode(),
                        rb"\1<v>%s</v>" % value.encode(),
                        part,
                    )
            archive.writestr(info, part)
    return out.getvalue()


def _formula_workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([*HEADER, "工时", "单价"])
    for order, hours in zip(ORDERS, (10, 5), strict=True):
        sheet.append([*order[:-1], None, hours, order[-1] / hours])
    sheet["G2"], sheet["G3"] = "=H2*I2", "=H3*I3"
    sheet["J1"], sheet["J2"] = "备注", '=IF(H2>5,"","加急")'
    return _saved(book)


def test_formulas_a_program_wrote_without_values_refuse_the_workbook_saying_to_save_it(con):
    # Saved by a library and never opened in Excel: the amounts used to land blank, unnoticed.
    with pytest.raises(ImportRefused, match=r"formulas whose values were never saved \(cell G2 and 2 more\)"):
        import_file(con, _formula_workbook(), file_name="工单.xlsx")
    assert con.execute("SELECT count(*) FROM service_orders").fetchone() == (0,)
    # Once Excel has saved it, each formula's value is read.
    saved = _with_saved_values(_formula_workbook(), {"G2": "1234.5", "G3": "500"})
    result = _imported_twice(con, saved)
    assert (result.inserted, result.rejected) == (2, 0)
    assert con.execute(SELECT).fetchall() == LANDED


def _totalled_workbook(record_formula: str | None = None, formula_row: bool = False) -> bytes:
    """A DMS export as a program writes it: a title with a formula, the date it was made, two blank
    rows, the table from B5 (header on row 5), and a total row of =SUM formulas without values;
    optionally one record's amount as a formula, or a record all of formulas."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "工单明细"
    sheet["B1"] = '="维修工单明细 "&TEXT(TODAY(),"yyyy-mm-dd")'
    sheet["B2"] = "导出人：admin"
    for i, cell in enumerate(HEADER):
        sheet.cell(row=5, column=2 + i, value=cell)
    for r, order in enumerate(ORDERS, start=6):
        for i, cell in enumerate(order):
            sheet.cell(row=r, column=2 + i, value=cell)
    if record_formula is not None:
        sheet["H7"] = record_formula
    last = 7
    if formula_row:
        last = 8
        for i in range(len(HEADER)):
            sheet.cell(row=8, column=2 + i, value=f"={chr(ord('B') + i)}7")
    sheet.cell(row=last + 1, column=2, value="合计")
    sheet.cell(row=last + 1, column=8, value=f"=SUM(H6:H{last})")
    sheet.cell(row=last + 1, column=6, value=f'=COUNTA(B6:B{last})&"条"')
    return _saved(book)


def test_formulas_without_values_only_in_the_total_row_and_the_title_import_the_records(con):
    # A DMS that writes its total row and title as formulas (Apache POI, EPPlus) without computing
    # them: the records hold values, so they import; the total row is set aside as before. The whole
    # workbook used to be refused ("open it in Excel and save it").
    result = _imported_twice(con, _totalled_workbook())
    assert (result.inserted, result.rejected) == (2, 1)
    assert con.execute(SELECT).fetchall() == LANDED
    reasons = con.execute("SELECT DISTINCT source_row, reason FROM rejected_rows").fetchall()
    assert {row for row, _ in reasons} == {8} and (8, "total row, not a record") in reasons


@pytest.mark.parametrize(
    ("record_formula", "formula_row", "cells"),
    [
        ("=100*5", False, "cell H7"),  # one record's amount
        (None, True, "cell B8 and 6 more"),  # a record made of formulas, which reads as a blank row
    ],
)
def test_a_formula_without_its_value_in_a_record_still_refuses_the_workbook(
    con, record_formula, formula_row, cells
):
    data = _totalled_workbook(record_formula, formula_row)
    with pytest.raises(ImportRefused, match=rf"formulas whose values were never saved \({cells}\)"):
        import_file(con, data, file_name="工单.xlsx")
    assert con.execute("SELECT count(*) FROM service_orders").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM imports").fetchone() == (0,)


def test_a_table_at_c5_on_the_sheet_after_a_cover_sheet_lists_no_empty_columns_as_not_imported(con):
    # Columns A and B, left of the table, used to be listed as "column A" and "column B".
    book = openpyxl.Workbook()
    cover = book.active
    cover.title = "说明"
    cover.append(["本表由DMS导出，请勿修改表头"])
    cover.append(["导出时间：2024-03-31"])
    sheet = book.create_sheet("2024年 3月 工单")
    sheet["C1"] = "维修工单明细"
    for r, record in enumerate([HEADER, *ORDERS], start=5):
        for c, value in enumerate(record, start=3):
            sheet.cell(row=r, column=c, value=value)
    book.create_sheet("Sheet3")
    result = _imported_twice(con, _saved(book))
    assert (result.inserted, result.rejected, result.unmapped) == (2, 0, [])
    assert [(s["sheet"], s["landed"], s["skipped"], s["reason"]) for s in result.sheets] == [
        ("说明", 0, 1, "it has no columns of the same table as service orders"),
        ("2024年 3月 工单", 2, 0, ""),
        ("Sheet3", 0, 0, "the sheet is empty"),
    ]
    assert con.execute(SELECT).fetchall() == LANDED


def test_a_hidden_row_a_protected_sheet_rich_text_and_a_link_import_as_the_cells_hold_them(con):
    # A hidden row is still data (Excel counts and sums it), so it lands; a filter and frozen
    # panes change nothing, nor does sheet protection (which is not encryption).
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for order in ORDERS:
        sheet.append(order)
    sheet["D2"] = CellRichText([TextBlock(InlineFont(b=True), "张"), "三"])
    sheet["A3"].hyperlink = "http://dms.example/orders/WO2"
    sheet.row_dimensions[3].hidden = True
    sheet.auto_filter.ref = "A1:G3"
    sheet.freeze_panes = "A2"
    sheet.protection.sheet = True
    sheet.protection.password = "1234"
    result = _imported_twice(con, _saved(book))
    assert (result.inserted, result.rejected) == (2, 0)
    assert con.execute(SELECT).fetchall() == LANDED


def test_dates_of_a_mac_workbook_counting_from_1904_are_the_dates_it_shows(con):
    book = openpyxl.Workbook()
    book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    sheet.append(HEADER)
    for order in ORDERS:
        sheet.append(order)
    data = _saved(book)
    # Excel's serial for 2024-03-05 is 45356 counting from 1900, 43894 from 1904.
    assert b"<v>43894</v>" in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    result = _imported_twice(con, data)
    assert (result.inserted, result.rejected) == (2, 0)
    assert con.execute(SELECT).fetchall() == LANDED
