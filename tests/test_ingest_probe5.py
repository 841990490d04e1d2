"""A fifth probe of real-style exports: Excel workbooks as staff and DMSs save them (group labels
over sub-columns, formulas, a cover sheet, a table away from A1, hidden rows, Mac dates). Each
test builds the workbook with openpyxl; those naming a fix failed before it."""

from __future__ import annotations

import datetime as dt
import io

import duckdb
import openpyxl
import pytest

from analytics.ingest import import_file
from analytics.store import db

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
    """Import the workbook, check that every row is accounted for and that a second import
    changes nothing; return the first result."""
    result = import_file(con, data, file_name=name)
    for sheet in result.sheets:
        assert sheet["rows"] == sheet["landed"] + sheet["rejected"] + sheet["skipped"]
    assert result.rows_read == result.inserted + result.updated + result.unchanged + result.rejected
    again = import_file(con, data, file_name=name)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, result.inserted)
    return result


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
