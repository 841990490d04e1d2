"""The fifteenth import probe: workbooks and files as a tester outside the team made them. Each test
failed before its fix:
- a one-row UTF-16LE text export without a byte-order mark was refused as "no columns recognised"
  (the test for zero bytes allowed fewer than none on the wrong side of a file under 200 bytes);
"""

from __future__ import annotations

import duckdb
import pytest

from analytics.ingest import import_file, read_table
from analytics.store import db


@pytest.fixture
def con(tmp_path):
    connection = db.connect(tmp_path / "probe15.duckdb")
    yield connection
    connection.close()


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


ORDERS_HEAD = "工单号\t车架号\t进厂日期\t结算金额\r\n"


def test_a_one_row_utf16_file_without_a_bom_is_read_as_utf16(con):
    """Seen before: 120 bytes of UTF-16LE (a .NET or bcp -w export of one order) decoded as GB18030
    and refused ("no columns recognised as service orders or callbacks"); two rows imported."""
    data = (ORDERS_HEAD + "WO1\tLSVAU2A37N2000001\t2024-01-03\t350.00\r\n").encode("utf-16-le")
    assert len(data) < 200
    raw = read_table(data, "单条工单.txt")
    assert (raw.encoding, raw.delimiter, raw.headers) == (
        "utf-16-le",
        "\t",
        ["工单号", "车架号", "进厂日期", "结算金额"],
    )
    result = import_file(con, data, file_name="单条工单.txt")
    assert (result.rows_read, result.inserted, result.rejected) == (1, 1, 0)
    assert _rows(con, "SELECT order_id, vin, amount::VARCHAR FROM service_orders") == [
        ("WO1", "LSVAU2A37N2000001", "350.00")
    ]
