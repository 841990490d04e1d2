"""read_table: format, encoding, delimiter and header row told from the bytes."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.core.errors import ImportRefused
from analytics.ingest import RawTable, read_table
from analytics.ingest.read import (
    SOURCE_ROW,
    _cell_text,
    _check_xlsx_size,
    _chinese_text,
    _has_utf8_line,
    _text_grid,
)

DATA = Path(__file__).resolve().parent / "data"
SERVICE_HEADER = [
    "门店", "工单号", "车架号", "车牌号", "客户姓名", "联系电话", "车型", "购车日期",
    "进厂日期", "进厂里程", "维修类型", "结算金额", "服务顾问", "是否预约",
]  # fmt: skip


def test_gbk_csv_is_decoded_from_its_bytes_with_header_on_the_first_row():
    raw = read_table(DATA / "service_orders_gbk.csv")
    assert raw.file_name == "service_orders_gbk.csv"
    assert raw.format == "csv"
    assert raw.encoding == "gb18030"
    assert raw.delimiter == ","
    assert raw.header_row == 1
    assert raw.headers == SERVICE_HEADER
    assert raw.rows[SOURCE_ROW].tolist() == [2, 3, 4, 5, 6, 7, 8, 9]
    assert raw.rows["结算金额"].tolist()[:3] == ["0.00", "1,280.00", "3,456.50"]
    assert raw.rows["客户姓名"].iloc[4] == "孙丽"


def test_utf8_bom_is_dropped_from_the_first_header():
    raw = read_table(DATA / "callbacks_bom.csv")
    assert raw.encoding == "utf-8-sig"
    assert raw.headers[0] == "工单号"
    assert raw.rows["回访日期"].iloc[4] == "2024年3月4日 11:00"


@pytest.mark.parametrize(
    "bom",
    [b"\x84\x31\x95\x33", b"\xef\xbb\xbf"],
    ids=["gb18030 BOM", "utf-8 BOM before GBK text"],
)
def test_a_bom_before_gbk_text_is_dropped_from_the_first_header(bom):
    raw = read_table(bom + "工单号,进厂日期\r\nWO1,2024/3/5\r\n".encode("gb18030"), "export.csv")
    assert raw.encoding == "gb18030"
    assert raw.headers == ["工单号", "进厂日期"]
    assert raw.rows["工单号"].tolist() == ["WO1"]


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_header_is_found_below_title_lines_and_blank_rows(delimiter):
    lines = [
        "XX店维修工单导出 2024年",
        "",
        delimiter.join(["工单号", "进厂日期", "结算金额"]),
        delimiter.join(["WO1", "2024/3/5", "88"]),
        "",
        delimiter.join(["WO2", "2024/3/6", "99"]),
    ]
    raw = read_table("\r\n".join(lines).encode("gb18030"), "export.txt")
    assert raw.delimiter == delimiter
    assert raw.header_row == 3
    assert raw.headers == ["工单号", "进厂日期", "结算金额"]
    assert raw.rows[SOURCE_ROW].tolist() == [4, 6]
    assert raw.rows["工单号"].tolist() == ["WO1", "WO2"]


def test_xlsx_title_row_blank_rows_and_date_cells():
    raw = read_table(DATA / "service_orders_titled.xlsx")
    assert raw.format == "xlsx"
    assert raw.encoding is None
    assert raw.header_row == 3
    assert raw.headers[:3] == ["店名", "委托书号", "VIN"]
    assert raw.rows[SOURCE_ROW].tolist() == [4, 5, 6, 8]
    first = raw.rows.iloc[0]
    assert first["开票日期"] == "2023-04-01"
    assert first["进站日期"] == "2024-04-01 09:30:00"
    assert first["手机"] == "13300005555"
    second = raw.rows.iloc[1]
    assert second["开票日期"] == "45000"
    assert second["行驶里程"] == "25678"
    assert second["总金额"] == "2350.75"
    assert raw.rows["预约"].isna().tolist() == [False, False, False, True]


def test_format_is_told_by_content_not_by_the_file_name():
    xlsx = read_table((DATA / "service_orders_titled.xlsx").read_bytes(), "orders.csv")
    assert xlsx.format == "xlsx"
    csv = read_table((DATA / "service_orders_gbk.csv").read_bytes(), "orders.xlsx")
    assert csv.format == "csv"
    assert csv.encoding == "gb18030"


def test_ragged_rows_are_padded_and_keep_their_row_numbers():
    text = "工单号,进厂日期,结算金额\nWO1,2024-03-05\n\nWO2,2024-03-06,10,extra\nWO3,2024-03-07,11\n"
    raw = read_table(text.encode("utf-8"), "ragged.csv")
    assert raw.headers == ["工单号", "进厂日期", "结算金额", "column D"]
    assert raw.rows[SOURCE_ROW].tolist() == [2, 4, 5]
    assert raw.rows["结算金额"].isna().tolist() == [True, False, False]
    assert raw.rows["column D"].tolist()[1] == "extra"


def test_a_quoted_line_break_stays_inside_one_row():
    text = '工单号,进厂日期,备注\nWO1,2024-03-05,"第一行\n第二行"\nWO2,2024-03-06,ok\n'
    raw = read_table(text.encode("utf-8"), "notes.csv")
    assert raw.rows[SOURCE_ROW].tolist() == [2, 3]
    assert raw.rows["备注"].tolist() == ["第一行\n第二行", "ok"]


def _unquoted_callbacks(comments: dict[int, str]) -> bytes:
    lines = ["回访编号,工单号,回访日期,满意度,客户意见"]
    for i in range(10):
        lines.append(f"CB{i:05d},WO{i:06d},2024-04-{10 + i:02d} 10:00,满意,{comments.get(i, f'意见{i}')}")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def test_a_quote_opening_a_cell_of_a_file_that_quotes_nothing_is_refused_before_it_swallows_records():
    """Session 42: a comment typed with a quote before it ("师傅很专业) in a DMS file that quotes
    nothing opened a cell that the next quote (说"不错") closed four records down: 6 of 10 records
    landed, the other four inside one comment, and nothing said so. The check for an open quote only
    looked at the last row and at cells of 50 lines or more."""
    data = _unquoted_callbacks({2: '"师傅很专业', 6: '说"不错"挺好'})
    with pytest.raises(
        ImportRefused,
        match=r"at the start of a cell in row 4 \(column 客户意见\) that would join the 4 lines",
    ):
        read_table(data, "回访.csv")


def test_quotes_inside_cells_of_a_file_that_quotes_nothing_and_a_comment_over_two_lines_still_read():
    raw = read_table(_unquoted_callbacks({2: '说"不错"挺好', 5: '宝来 17"轮毂'}), "回访.csv")
    assert len(raw.rows) == 10
    assert raw.rows["客户意见"].tolist()[2] == '说"不错"挺好'
    # A quoted comment over two lines, whose second line has a comma of its own, stays one cell.
    text = '回访编号,工单号,回访日期,满意度,客户意见\nCB1,WO1,2024-04-10,满意,"好\n就是贵,等得久"\nCB2,WO2,2024-04-11,满意,ok\n'
    raw = read_table(text.encode("utf-8"), "two_lines.csv")
    assert raw.rows["客户意见"].tolist() == ["好\n就是贵,等得久", "ok"]


def test_duplicate_and_empty_headers_get_unique_names():
    raw = read_table("工单号,进厂日期,,工单号\nWO1,2024-03-05,x,y\n".encode(), "dup.csv")
    assert raw.headers == ["工单号", "进厂日期", "column C", "工单号 (2)"]


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbf \r\n\r\n", "is empty"),
        (b",,,\r\n,,,\r\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image"),
        (b"%PDF-1.7\n%\xe2\xe3", "PDF document"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "web page"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel 97-2003"),
        (_zip_without_workbook(), "not an Excel workbook"),
        (b"\x00\x01\x02\x03binary\x00\x00\x04\x05" * 20, "binary"),
        ("工单号,进厂日期\r\n".encode("gbk"), "no data rows"),
    ],
)
def test_unusable_files_are_refused_with_one_sentence(data, fragment):
    with pytest.raises(ImportRefused) as refused:
        read_table(data, "upload.csv")
    message = str(refused.value)
    assert fragment in message
    assert message.startswith("upload.csv ")
    assert "\n" not in message
    assert message.endswith(".")


def test_a_missing_path_is_refused_not_raised(tmp_path):
    with pytest.raises(ImportRefused, match="does not exist"):
        read_table(tmp_path / "nowhere.csv")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=400),
        st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
        # An OLE2 header followed by anything, and markup that opens like the exports DMSs name .xls.
        st.binary(max_size=2000).map(lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b),
        st.text(max_size=300).map(lambda t: ("<html><table><tr><td>" + t).encode("utf-8")),
        st.text(max_size=300).map(
            lambda t: (
                '<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">' + t
            ).encode()
        ),
        st.text(max_size=300).map(lambda t: t.encode("utf-8")),
        st.lists(
            st.lists(st.sampled_from(["工单号", "进厂日期", "1,2", '"', "", "\n", "x"]), max_size=5),
            max_size=6,
        ).map(lambda rows: "\n".join(",".join(r) for r in rows).encode("gb18030")),
    )
)
def test_arbitrary_bytes_give_a_table_or_a_refusal(data):
    try:
        raw = read_table(data, "fuzz.bin")
    except ImportRefused as refused:
        assert str(refused)
    else:
        assert isinstance(raw, RawTable)
        assert len(raw.rows) >= 1
        assert list(raw.rows.columns) == [*raw.headers, SOURCE_ROW]


def test_a_wide_record_far_below_the_sample_keeps_its_extra_cell():
    lines = ["导出", "工单号,进厂日期,结算金额"] + [f"WO{i},2024-03-05,{i}" for i in range(300)]
    lines[250] += ",late extra"
    raw = read_table("\n".join(lines).encode("utf-8"), "wide.csv")
    assert raw.headers == ["工单号", "进厂日期", "结算金额", "column D"]
    assert len(raw.rows) == 300
    assert raw.rows.loc[raw.rows[SOURCE_ROW] == 251, "column D"].tolist() == ["late extra"]


def test_excel_unicode_text_export_in_utf16_is_read():
    text = "工单号\t进厂日期\t结算金额\r\nWO1\t2024/3/5\t1,280.00\r\n"
    raw = read_table(text.encode("utf-16"), "unicode.txt")
    assert (raw.encoding, raw.delimiter) == ("utf-16", "\t")
    assert raw.rows.drop(columns=SOURCE_ROW).values.tolist() == [["WO1", "2024/3/5", "1,280.00"]]


def test_the_golden_files_are_what_make_golden_writes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_golden", DATA / "make_golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    # Other modules keep their own test data here too (e.g. the themes evaluation sets).
    assert set(written) <= {p.relative_to(DATA) for p in DATA.rglob("*") if p.is_file()}
    for relative in written:
        assert (tmp_path / relative).read_bytes() == (DATA / relative).read_bytes(), relative


def _workbook_with_sheet_xml(edit) -> bytes:
    """Return a two-row workbook whose sheet XML is passed through ``edit``."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["工单号", "进厂日期"])
    sheet.append(["WO1", "2024-03-01"])
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = edit(data)
            archive.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("edit", "calamine"),
    [
        (lambda xml: xml, True),
        (lambda xml: xml.replace(b'<c r="B2"', b'<c r="XFD2"'), True),
        # calamine would hold every cell from A1 to the farthest one: these go to openpyxl.
        (lambda xml: xml.replace(b'<c r="B2"', b'<c r="XFD1048576"'), False),
        (lambda xml: xml.replace(b'<c r="B2"', b'<c r="ZZ100000"'), False),
        (lambda xml: xml.replace(b'<c r="B2"', b'<c r="B1048576"'), False),
        (lambda xml: xml.replace(b'<c r="B2"', b'<c r="b1048576"'), False),
        (lambda xml: xml.replace(b'<c r="B2"', b'<c\tr="XFD2"'), False),
        (lambda xml: xml.replace(b'<c r="B2"', b"<c r='XFD2'"), False),
        (lambda xml: xml.replace(b'<c r="B2"', b"<c"), False),
        (lambda xml: xml.replace(b'<row r="2"', b'<row r="2000000"'), False),
        (lambda xml: xml.replace(b'<row r="2"', b"<row"), False),
        # Row numbers of up to five digits cannot make a grid of 26 columns too big.
        (lambda xml: xml.replace(b'<c r="B2"', b'<c r="Z99999"'), True),
        # A second row at row 99,999 fits too, but the grid would hold 99,997 empty rows: streamed.
        (lambda xml: xml.replace(b'<row r="2"', b'<row r="99999"').replace(b'2" t=', b'99999" t='), False),
        (lambda xml: xml.replace(b'<row r="2"', b'<row r="30000"').replace(b'2" t=', b'30000" t='), True),
    ],
)
def test_calamine_reads_only_workbooks_whose_cells_span_a_bounded_grid(edit, calamine):
    scan = _check_xlsx_size(_workbook_with_sheet_xml(edit), "book.xlsx")
    # Held as calamine's grid: calamine opens the workbook and does not leave the sheet to openpyxl.
    assert (scan.calamine and "Sheet" not in scan.streamed) is calamine


def _utf8_chinese_line_by_decoding(data: bytes) -> bool:
    """The definition: some line decodes as UTF-8 (a BOM aside) and reads as Chinese text."""
    for line in data.split(b"\n"):
        try:
            text = line.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
        except UnicodeDecodeError:
            continue
        if _chinese_text(text):
            return True
    return False


_LINE_PARTS = st.one_of(
    st.sampled_from(["城东店", "张伟", "朗逸", "首保", "非常满意", "ü", "é", "€", "\ufffd", "\ufeff"]).map(
        lambda text: text.encode("gb18030", errors="ignore")
    ),
    st.sampled_from(["城东店", "张伟", "朗逸，", "非常满意（", "é", "€", "\ufffd", "\ufeff", "𠀋"]).map(
        str.encode
    ),
    st.text(alphabet='0123456789,.-/ \r"AB', max_size=8).map(str.encode),
    st.binary(max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.lists(_LINE_PARTS, max_size=6).map(b"".join), min_size=1, max_size=6))
def test_the_search_for_a_utf8_line_agrees_with_decoding_every_line(lines):
    data = b"\n".join(lines)
    assert _has_utf8_line(data) == _utf8_chinese_line_by_decoding(data)


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(
        st.one_of(
            st.datetimes(),
            st.dates().map(lambda day: dt.datetime(day.year, day.month, day.day)),
            st.text(max_size=3),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_a_workbook_column_of_datetimes_is_written_as_each_cell_would_be(cells):
    grid = _text_grid([[cell] for cell in cells])
    assert list(grid[0]) == [cell if isinstance(cell, str) else _cell_text(cell) for cell in cells]


@pytest.mark.parametrize("where", ["attribute", "cell"])
def test_a_web_page_with_a_value_over_10_mb_is_refused_for_that_not_called_empty(where):
    """lxml stops reading a page at a text or attribute over 10 MB (a picture embedded as a data:
    URI) and returns what it read so far: the page was refused as "empty", pointing at the DMS."""
    big = "x" * 11_000_000
    header = (
        f"<td class='{big}'>工单号</td><td>车架号</td>"
        if where == "attribute"
        else f"<td>工单号</td><td>{big}</td>"
    )
    page = f"<html><body><table><tr>{header}</tr><tr><td>W1</td><td>LSV1</td></tr></table></body></html>"
    with pytest.raises(ImportRefused) as refused:
        read_table(page.encode("utf-8"), "工单.xls")
    assert "over 10 MB" in str(refused.value) and "empty" not in str(refused.value)
