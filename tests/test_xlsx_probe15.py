"""The fifteenth import probe: workbooks and files as a tester outside the team made them. Each test
failed before its fix:
- a one-row UTF-16LE text export without a byte-order mark was refused as "no columns recognised"
  (the test for zero bytes allowed fewer than none on the wrong side of a file under 200 bytes);
- a zipped export was refused as "not an Excel workbook that can be opened; open it in Excel and save
  it as .xlsx", which Excel cannot do with a ZIP archive;
"""

from __future__ import annotations

import io
import zipfile

import duckdb
import pytest

from analytics.core.errors import ImportRefused
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


def _zip(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, content in members:
            archive.writestr(member, content)
    return buffer.getvalue()


def _refusal(data: bytes, name: str) -> ImportRefused:
    with pytest.raises(ImportRefused) as refused:
        read_table(data, name)
    return refused.value


def test_a_zipped_export_is_named_as_an_archive_with_what_it_holds():
    """Seen before: "工单导出.zip is a ZIP file but not an Excel workbook that can be opened; open it in
    Excel and save it as .xlsx or CSV" (Excel cannot open a ZIP archive: it has to be unzipped)."""
    csv = "工单号,进厂日期,结算金额\r\nWO1,2024-01-03,350\r\n".encode("gbk")
    refusal = _refusal(_zip(("工单导出.csv", csv)), "工单导出.zip")
    assert str(refusal) == (
        "工单导出.zip is a ZIP archive holding 工单导出.csv, not an Excel workbook; unzip it and import the "
        "files inside."
    )
    assert refusal.words("zh") == (
        "工单导出.zip 是 ZIP 压缩包，其中有 工单导出.csv，不是 Excel 工作簿；请先解压，再导入其中的文件。"
    )
    many = _zip(*((f"导出/{month}月.csv", csv) for month in range(1, 6)))
    refusal = _refusal(many, "全年.zip")
    assert str(refusal).startswith(
        "全年.zip is a ZIP archive holding 导出/1月.csv, 导出/2月.csv, 导出/3月.csv and 2 more files, "
    )
    assert refusal.words("zh").startswith(
        "全年.zip 是 ZIP 压缩包，其中有 导出/1月.csv, 导出/2月.csv, 导出/3月.csv 及另外 2 个文件，不是 Excel 工作簿；"
    )


def test_a_zipped_name_written_in_gbk_reads_as_chinese():
    """Chinese Windows zips a name in GBK without the flag that says UTF-8: named as it was written."""
    placeholder, name = b"abcd.csv", "工单.csv".encode("gbk")
    assert len(placeholder) == len(name)
    data = _zip((placeholder.decode("ascii"), b"x")).replace(placeholder, name)
    assert "holding 工单.csv, not" in str(_refusal(data, "a.zip"))


def test_a_package_that_is_no_workbook_keeps_the_save_as_sentence():
    """A Word file or an OpenDocument sheet is no archive to unzip: Excel opens it, so the sentence to
    save it as .xlsx stands."""
    for member in ("[Content_Types].xml", "mimetype"):
        refusal = _refusal(_zip((member, b"x"), ("content.xml", b"<x/>")), "a.xlsx")
        assert "is a ZIP file but not an Excel workbook that can be opened" in str(refusal)
