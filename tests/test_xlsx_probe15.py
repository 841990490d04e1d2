"""The fifteenth import probe: workbooks and files as a tester outside the team made them. Each test
failed before its fix:
- a one-row UTF-16LE text export without a byte-order mark was refused as "no columns recognised"
  (the test for zero bytes allowed fewer than none on the wrong side of a file under 200 bytes);
- a zipped export was refused as "not an Excel workbook that can be opened; open it in Excel and save
  it as .xlsx", which Excel cannot do with a ZIP archive;
- one stray value far below a two-row table (GR1048576) took 42 s and 4.8 GB, then the workbook was
  said to be one that "cannot be read; open it in Excel and save it as .xlsx"; one at row 200,000
  took 5.8 s and 711 MB: every empty row above the stray value was held as a row of cells;
- number formats were not read: work-order numbers kept as numbers shown 001234 or WO001235 (formats
  000000, "WO"000000) landed as 1234 and 1235, so the same month saved as CSV made every visit twice;
  satisfaction scores kept as 0.9 shown 90% (format 0%) were read on the 1-5 scale (100% landed as
  2 of 10, the others blank), where the CSV's 90% lands 9;
- a workbook's sheet lines did not add up to its rows read: a header-only sheet counted its header as
  a row, and blank rows (199,997 of them above a stray value) were counted as rows of the sheet.
"""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
import zipfile

import duckdb
import openpyxl
import pytest

from analytics import cli
from analytics.core.errors import ImportRefused
from analytics.ingest import import_file, number_formats, read, read_table
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


ORDER_HEADER = ["工单号", "车架号", "进厂日期", "结算金额"]


def _workbook(path, *sheets: tuple[str, list[list]], stray: dict[str, str] | None = None) -> bytes:
    """Return the bytes of a workbook of the sheets (title, rows), with a value "x" in the cell each
    ``stray`` entry names (sheet title: cell)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    for title, cell in (stray or {}).items():
        book[title][cell] = "x"
    book.save(path)
    return path.read_bytes()


def _peak_traced_mb(call) -> float:
    """Return the peak of the memory Python and numpy allocated while ``call`` ran, in MB."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


ONE_ORDER = [ORDER_HEADER, ["WO1", "LSVAU2A37N2000001", dt.date(2024, 1, 3), 350]]


def test_a_stray_value_in_the_last_row_costs_one_row_not_a_million(con, tmp_path):
    """Seen before: a two-row table with "x" at GR1048576 held 1,048,576 rows of 200 cells (42 s, 4.8
    GB), then was refused as a workbook that "cannot be read; open it in Excel and save it as .xlsx"
    (it is one) when memory ran out. The stray value is a row of its own, rejected with its number."""
    data = _workbook(tmp_path / "stray.xlsx", ("Sheet1", ONE_ORDER), stray={"Sheet1": "GR1048576"})
    assert _peak_traced_mb(lambda: read_table(data, "stray.xlsx")) < 50
    result = import_file(con, data, file_name="stray.xlsx")
    assert (result.rows_read, result.inserted, result.rejected) == (2, 1, 1)
    assert result.unmapped == ["column GR"]
    assert _rows(con, "SELECT order_id, amount::VARCHAR FROM service_orders") == [("WO1", "350.00")]
    assert _rows(con, "SELECT DISTINCT source_row FROM rejected_rows") == [(1_048_576,)]
    raw = read_table(data, "stray.xlsx")
    assert [(s.rows, s.blank) for s in raw.sheets] == [(2, 1_048_573)]


def test_a_stray_value_at_row_200000_does_not_hold_the_empty_rows_above_it(tmp_path):
    """Seen before: calamine held all 200,000 rows of 50 cells for a two-row table (5.8 s, 711 MB)."""
    data = _workbook(tmp_path / "stray.xlsx", ("Sheet1", ONE_ORDER), stray={"Sheet1": "AX200000"})
    assert _peak_traced_mb(lambda: read_table(data, "stray.xlsx")) < 50
    raw = read_table(data, "stray.xlsx")
    assert raw.rows[read.SOURCE_ROW].tolist() == [2, 200_000]
    assert [(s.rows, s.blank) for s in raw.sheets] == [(2, 199_997)]
    assert read._check_xlsx_size(data, "stray.xlsx").streamed == {"Sheet1"}


def test_only_the_sheet_with_a_stray_value_is_streamed(tmp_path, monkeypatch):
    """Seen before: a sheet whose grid was too large for calamine sent every sheet of the workbook to
    openpyxl, which leaves a name merged down over an order's item rows blank in the other sheets.
    (The bound is lowered here so that a stray cell at Z5000 is beyond it.)"""
    monkeypatch.setattr(read, "MAX_GRID_CELLS", 100_000)
    path = tmp_path / "two.xlsx"
    _workbook(
        path,
        (
            "一月",
            [
                ["工单号", "车架号", "客户姓名", "进厂日期"],
                ["WO1", "LSVAU2A37N2000001", "张三", "2024-01-03"],
                ["WO2", "LSVAU2A37N2000002", None, "2024-01-04"],
            ],
        ),
        (
            "二月",
            [
                ["工单号", "车架号", "客户姓名", "进厂日期"],
                ["WO3", "LSVAU2A37N2000003", "李四", "2024-02-03"],
            ],
        ),
        stray={"二月": "Z5000"},
    )
    book = openpyxl.load_workbook(path)
    book["一月"].merge_cells("C2:C3")
    book.save(path)
    data = path.read_bytes()
    raw = read_table(data, "two.xlsx")
    assert raw.rows["客户姓名"].fillna("-").tolist() == ["张三", "张三", "李四", "-"]
    assert raw.rows[read.SOURCE_ROW].tolist() == [2, 3, 2, 5000]
    scan = read._check_xlsx_size(data, "two.xlsx")
    assert (scan.calamine, scan.streamed) == (True, {"二月"})


def test_a_hidden_sheet_streamed_by_openpyxl_is_named_and_skipped(tmp_path, monkeypatch):
    """Seen before: a workbook read by openpyxl (prefixed tags, cells without references) read a hidden
    sheet (an old copy) as records, where calamine's reading names it and skips it."""
    monkeypatch.setattr(read, "_check_xlsx_size", lambda data, name: read._WorkbookScan(calamine=False))
    path = tmp_path / "hidden.xlsx"
    _workbook(path, ("新", ONE_ORDER), ("旧", [ORDER_HEADER, ["WO1", "LSVAU2A37N2000001", "2023-01-03", 1]]))
    book = openpyxl.load_workbook(path)
    book["旧"].sheet_state = "hidden"
    book.save(path)
    raw = read_table(path.read_bytes(), "hidden.xlsx")
    assert raw.rows["结算金额"].tolist() == ["350"]
    assert [(s.name, s.imported, s.reason) for s in raw.sheets] == [
        ("新", True, ""),
        ("旧", False, "the sheet is hidden in the workbook; unhide it in Excel to import it"),
    ]


def test_running_out_of_memory_is_not_said_to_be_an_unreadable_workbook(tmp_path, monkeypatch):
    """Seen before: memory running out while the sheets were read gave "is an Excel workbook whose
    sheets cannot be read; open it in Excel and save it as .xlsx", for a workbook that is one."""
    data = _workbook(tmp_path / "big.xlsx", ("Sheet1", ONE_ORDER))

    def no_memory(cells):
        raise MemoryError

    monkeypatch.setattr(read, "_text_grid", no_memory)
    refusal = _refusal(data, "big.xlsx")
    assert str(refusal) == (
        "big.xlsx needs more memory to read than this computer has free; close other programs and import it "
        "again, or split the export into smaller files (by month or year)."
    )
    assert refusal.words("zh") == (
        "big.xlsx 读取时所需的内存超过了这台电脑的可用内存；请关闭其他程序后重新导入，或把导出文件按月或按年拆成几个较小的文件。"
    )


def _formatted_workbook(
    path, header: list[str], rows: list[list], formats: dict[int, str], stray: str | None = None
):
    """Write a one-sheet workbook whose cells in the columns of ``formats`` (0-based) carry that number
    format, as a DMS or a clerk leaves them; return its bytes."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for i, row in enumerate(rows, start=2):
        sheet.append(row)
        for column, code in formats.items():
            sheet.cell(i, column + 1).number_format = code
    if stray:
        sheet[stray] = "x"
    book.save(path)
    return path.read_bytes()


def test_work_order_numbers_shown_with_zeros_or_a_prefix_are_read_as_shown(con, tmp_path):
    """Seen before: 工单号 kept as numbers formatted 000000 (shown 001234) and "WO"000000 (WO001235)
    landed as 1234 and 1235; the same sheet saved as CSV (001234, WO001235) then added both visits
    again: 4 orders for 2."""
    data = _formatted_workbook(
        tmp_path / "工单.xlsx",
        ORDER_HEADER,
        [
            [1234, "LSVAU2A37N2000000", dt.date(2024, 1, 3), 350],
            [1235, "LSVAU2A37N2000001", dt.date(2024, 1, 3), 350],
        ],
        {0: "000000"},
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    book.active["A3"].number_format = '"WO"000000'
    buffer = io.BytesIO()
    book.save(buffer)
    first = import_file(con, buffer.getvalue(), file_name="工单.xlsx")
    assert (first.rows_read, first.inserted) == (2, 2)
    assert _rows(con, "SELECT order_id FROM service_orders ORDER BY 1") == [("001234",), ("WO001235",)]
    csv = (
        "工单号,车架号,进厂日期,结算金额\r\n"
        "001234,LSVAU2A37N2000000,2024-01-03,350\r\nWO001235,LSVAU2A37N2000001,2024-01-03,350\r\n"
    )
    again = import_file(con, csv.encode("gbk"), file_name="工单.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert _rows(con, "SELECT count(*), sum(amount)::VARCHAR FROM service_orders") == [(2, "700.00")]


def test_scores_shown_as_percentages_are_read_as_the_percentages(con, tmp_path):
    """Seen before: 满意度得分 kept as 0.9, 1, 0.8, 0.6 formatted 0% (shown 90%, 100%, 80%, 60%) was read
    as a 1-5 column: 100% landed as 2 of 10 and the others blank ("not readable on the 1-5 scale"); the
    CSV of the same sheet (90% ...) lands 9, 10, 8, 6."""
    data = _formatted_workbook(
        tmp_path / "回访.xlsx",
        ["回访编号", "工单号", "回访日期", "是否接通", "满意度得分"],
        [[f"C{i}", f"WO{i}", dt.date(2024, 1, 5), "是", v] for i, v in enumerate([0.9, 1, 0.8, 0.6], 1)],
        {4: "0%"},
    )
    result = import_file(con, data, file_name="回访.xlsx")
    assert (result.rows_read, result.inserted, result.rejected) == (4, 4, 0)
    assert _rows(con, "SELECT callback_id, overall_score FROM callbacks ORDER BY 1") == [
        ("C1", 9.0),
        ("C2", 10.0),
        ("C3", 8.0),
        ("C4", 6.0),
    ]


def test_dates_text_and_plain_numbers_keep_their_reading_beside_shaped_cells(tmp_path):
    """Only formats that change what a number says are applied: a date in a Chinese date format stays
    a date, a text cell in a 000000 column stays as written, amounts in #,##0.00 stay numbers, a
    formula's saved value is shown as its format says, and a number formatted as text (@) is the
    number."""
    path = tmp_path / "mixed.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["工单号", "进厂日期", "结算金额", "里程", "备注"])
    sheet.append([12, dt.datetime(2024, 3, 5), 1234.5, 12000, 7])
    sheet.append(["WO-77", dt.datetime(2024, 3, 6, 14, 30), 0, 15000, 8])
    sheet.append(["=A2+1", dt.datetime(2024, 3, 7), 99, 16000, 9])
    for row in (2, 3, 4):
        sheet.cell(row, 1).number_format = "000000"
        sheet.cell(row, 2).number_format = 'yyyy"年"m"月"d"日"'
        sheet.cell(row, 3).number_format = "#,##0.00"
        sheet.cell(row, 4).number_format = '#,##0" km"'
        sheet.cell(row, 5).number_format = "@"
    book.save(path)
    # The formula's saved value, as Excel leaves it after a save (openpyxl writes none).
    data = _with_sheet_xml(path.read_bytes(), b"<f>A2+1</f><v></v>", b"<f>A2+1</f><v>13</v>")
    raw = read_table(data, "mixed.xlsx")
    assert raw.rows[raw.headers].values.tolist() == [
        ["000012", "2024-03-05", "1234.5", "12,000 km", "7"],
        ["WO-77", "2024-03-06 14:30:00", "0", "15,000 km", "8"],
        ["000013", "2024-03-07", "99", "16,000 km", "9"],
    ]


def _with_sheet_xml(data: bytes, old: bytes, new: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert old in part
                part = part.replace(old, new)
            archive.writestr(item, part)
    return out.getvalue()


def test_a_streamed_sheet_reads_number_formats_too(tmp_path):
    """The sheet streamed by openpyxl (a stray value far below) shows 000000 as calamine's reading does."""
    data = _formatted_workbook(
        tmp_path / "stray.xlsx",
        ORDER_HEADER,
        [[1234, "LSVAU2A37N2000000", dt.date(2024, 1, 3), 350]],
        {0: "000000"},
        stray="AX200000",
    )
    raw = read_table(data, "stray.xlsx")
    assert raw.rows["工单号"].fillna("-").tolist() == ["001234", "-"]


@pytest.mark.parametrize(
    ("code", "value", "shown"),
    [
        ("000000", "1234", "001234"),
        ('"WO"000000', "1235", "WO001235"),
        ("\\W\\O0000", "7", "WO0007"),
        ("0000", "12345", "12345"),
        ("000000", "1234.5", "001235"),
        ("000000", "-12", "-000012"),
        ("000000;(000000)", "-12", "(000012)"),
        ("000-0000-0000", "13800138000", "138-0013-8000"),
        ("0%", "0.9", "90%"),
        ("0%", "1", "100%"),
        ("0%", "0.905", "91%"),
        ("0.00%", "0.905", "90.50%"),
        ("0%", "-0.25", "-25%"),
        ('0"分"', "4", "4分"),
        ('0.0"万"', "12.34", "12.3万"),
        ('#,##0.00"元"', "1234.5", "1,234.50元"),
        ('"WO"General', "12", "WO12"),
        ('000000;-000000;"无"', "0", "无"),
        ('0;"负"0', "-5", "负5"),
        ('0;"负"0', "5", None),
        # Formats that change only how a number looks, and those the import does not write.
        ("General", "1234", None),
        ("0", "1234", None),
        ("0.00", "1.5", None),
        ("#,##0", "1234", None),
        ("[$¥-804]#,##0.00", "5", None),
        ('_ ¥* #,##0.00_ ;_ ¥* -#,##0.00_ ;_ ¥* "-"??_ ;_ @_ ', "0", None),
        ('_ ¥* #,##0.00_ ;_ ¥* -#,##0.00_ ;_ ¥* "-"??_ ;_ @_ ', "12", None),
        ("@", "12", None),
        ('yyyy"年"m"月"d"日"', "45356", None),
        ("[$-F800]dddd, mmmm dd, yyyy", "45356", None),
        ("0.00E+00", "1", None),
        ("# ?/?", "1.5", None),
        ("[>100]0000;00", "5", None),
        ("[DBNum1][$-804]General", "5", None),
    ],
)
def test_a_number_format_gives_the_text_excel_shows_where_it_changes_what_the_number_says(code, value, shown):
    compiled = number_formats.shaping_format(code)
    assert (compiled.text(value) if compiled else None) == shown


def test_the_sheets_rows_add_up_to_the_files_rows_read(con, tmp_path):
    """Seen before: a sheet of a header alone was "1 rows = 0 landed + 0 rejected + 1 skipped", so the
    sheets of a file of 3 rows read added up to 4; a sheet with a stray value at row 200,000 said
    "199,999 rows = 1 landed + 1 rejected + 199,997 skipped" under "2 rows read". Blank rows are
    named, not counted as rows."""
    months = [["工单号", "进厂日期", "结算金额"], ["WO1", dt.date(2024, 1, 3), 1]]
    data = _workbook(
        tmp_path / "三个月.xlsx",
        ("1月", [*months, ["WO2", dt.date(2024, 1, 4), 1]]),
        ("2月", [months[0], ["WO3", dt.date(2024, 2, 3), 1]]),
        ("3月", [months[0]]),
    )
    result = import_file(con, data, file_name="三个月.xlsx")
    assert result.rows_read == 3
    assert [(s["sheet"], s["rows"], s["landed"], s["rejected"], s["skipped"]) for s in result.sheets] == [
        ("1月", 2, 2, 0, 0),
        ("2月", 1, 1, 0, 0),
        ("3月", 0, 0, 0, 0),
    ]
    stray = _workbook(tmp_path / "stray.xlsx", ("Sheet1", months), stray={"Sheet1": "AX200000"})
    result = import_file(con, stray, file_name="stray.xlsx")
    assert result.rows_read == 2
    assert result.sheets == [
        {
            "sheet": "Sheet1",
            "rows": 2,
            "landed": 1,
            "rejected": 1,
            "skipped": 0,
            "reason": "199,997 blank rows not counted",
        }
    ]


def test_the_command_names_the_blank_rows_it_did_not_count(tmp_path, capsys):
    """The single sheet's line is printed when blank rows were left out, so a stray value far below the
    table shows in the import's output (it used to, as 199,997 rows skipped)."""
    months = [["工单号", "进厂日期", "结算金额"], ["WO1", dt.date(2024, 1, 3), 1]]
    path = tmp_path / "stray.xlsx"
    _workbook(path, ("Sheet1", months), stray={"Sheet1": "AX200000"})
    code = cli.main(["import", str(path), "--db", str(tmp_path / "cli.duckdb"), "--no-marts"])
    out = capsys.readouterr().out
    assert code == 0
    assert "\n  2 rows = 1 landed + 1 rejected + 0 skipped (199,997 blank rows not counted)\n" in out + "\n"
