"""Old .xls, HTML tables saved as .xls and Excel 2003 XML Spreadsheets import like XLSX and CSV.

The golden work orders and callbacks (tests/data/make_golden.py, plates from Zhejiang) are written
in every format (dates as date cells and amounts as numbers where the format has types) and each
file lands exactly the rows and values the same table as CSV and as XLSX lands.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from analytics.core.errors import ImportRefused
from analytics.ingest import import_file, read_table
from analytics.ingest.read import SOURCE_ROW
from analytics.store import db
from tests.excel_formats import html_bytes, spreadsheetml_bytes, typed, xls_bytes, xlsx_bytes

DATA = Path(__file__).resolve().parent / "data"
_spec = importlib.util.spec_from_file_location("make_golden", DATA / "make_golden.py")
assert _spec is not None and _spec.loader is not None
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


def _zhejiang(rows: list[list[str]]) -> list[list[str]]:
    return [[cell.replace("沪", "浙") for cell in row] for row in rows]


TABLES = {
    "service": [golden.SERVICE_HEADER, *_zhejiang(golden.SERVICE_ROWS)],
    "callback": [golden.CALLBACK_HEADER, *_zhejiang(golden.CALLBACK_ROWS)],
}


def _csv(rows: list[list[str]]) -> bytes:
    return golden._csv(rows).encode("gbk")


def _typed_rows(rows: list[list[str]]) -> list[list[object]]:
    return [rows[0], *([typed(cell) for cell in row] for row in rows[1:])]


WRITERS = {
    "csv": _csv,
    "xlsx": lambda rows: xlsx_bytes({"工单": _typed_rows(rows)}),
    "xls": lambda rows: xls_bytes({"工单": _typed_rows(rows)}),
    "html": html_bytes,
    "html_utf8": lambda rows: html_bytes(rows, encoding="utf-8"),
    "xml": lambda rows: spreadsheetml_bytes({"工单": _typed_rows(rows)}),
}
QUERIES = {
    "service": "SELECT * EXCLUDE (import_id) FROM service_orders ORDER BY order_id",
    "callback": "SELECT * EXCLUDE (import_id) FROM callbacks ORDER BY callback_id",
}


def _landed(tmp_path: Path, kind: str, fmt: str) -> tuple[object, list[tuple[object, ...]], list[object]]:
    """Import the table written as ``fmt`` into a new database; return (result, rows, rejected rows)."""
    data = WRITERS[fmt](TABLES[kind])
    con = db.connect(tmp_path / f"{kind}-{fmt}.duckdb")
    try:
        result = import_file(con, data, file_name=f"导出.{fmt}", kind=kind)
        rows = con.execute(QUERIES[kind]).fetchall()
        rejected = con.execute(
            "SELECT source_row, column_name, reason FROM rejected_rows ORDER BY ALL"
        ).fetchall()
        again = import_file(con, data, file_name=f"导出.{fmt}", kind=kind)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, result.inserted)
        return result, rows, rejected
    finally:
        con.close()


@pytest.mark.parametrize("kind", ["service", "callback"])
@pytest.mark.parametrize("fmt", ["xls", "html", "html_utf8", "xml"])
def test_each_excel_format_lands_the_same_rows_as_csv_and_xlsx(tmp_path, kind, fmt):
    csv_result, csv_rows, csv_rejected = _landed(tmp_path, kind, "csv")
    xlsx_result, xlsx_rows, _ = _landed(tmp_path, kind, "xlsx")
    result, rows, rejected = _landed(tmp_path, kind, fmt)
    assert (result.rows_read, result.inserted, result.rejected) == (
        csv_result.rows_read,
        csv_result.inserted,
        csv_result.rejected,
    )
    assert rows == csv_rows == xlsx_rows
    assert len(rows) == len(TABLES[kind]) - 1
    # The HTML title row sits above the header: the rows are numbered one further down.
    assert len(rejected) == len(csv_rejected)


def test_an_xls_keeps_date_cells_numbers_plates_and_comments():
    raw = read_table(WRITERS["xls"](TABLES["callback"]), "回访.xls")
    assert raw.format == "xls"
    assert raw.headers == golden.CALLBACK_HEADER
    first = raw.rows.iloc[0]
    assert first["回访日期"] == "2024-03-02 10:15:00"
    assert first["客户意见"] == "服务态度很好，洗车干净"
    assert first["服务态度"] == "5"
    service = read_table(WRITERS["xls"](TABLES["service"]), "工单.xls")
    row = service.rows.iloc[1]
    assert (row["车牌号"], row["进厂日期"], row["结算金额"], row["进厂里程"]) == (
        "浙B66K88",
        "2024-03-01",
        "1280",
        "23410",
    )
    assert service.rows[SOURCE_ROW].tolist() == list(range(2, 10))
    assert service.sheets[0].name == "工单"


def test_a_gbk_html_table_is_read_from_its_bytes_below_its_title_row():
    data = WRITERS["html"](TABLES["service"])
    assert b"charset=gbk" in data
    raw = read_table(data, "工单.xls")
    assert (raw.format, raw.encoding, raw.header_row) == ("html", "gb18030", 2)
    assert raw.headers == golden.SERVICE_HEADER
    assert raw.rows["客户姓名"].tolist()[:2] == ["张伟", "李娜"]
    assert raw.rows["车牌号"].iloc[0] == "浙A12345"


def test_the_html_table_holding_the_header_is_chosen_and_spans_fill_blank_cells():
    page = (
        "<html><body><table><tr><td>门店</td><td>城东店</td></tr></table>"
        "<table><tr><th>工单号</th><th colspan='2'>进厂日期</th><th>结算金额</th></tr>"
        "<tr><td>WO1</td><td colspan=2>2024-03-05</td><td>1,280.00</td></tr>"
        "<tr><td>WO2 <b>加急</b></td><td>2024-03-06</td><td>x</td><td>99</td></tr></table>"
        "<table><tr><td>a</td></tr><tr><td>b</td></tr><tr><td>c</td></tr><tr><td>d</td></tr></table>"
        "</body></html>"
    )
    raw = read_table(page.encode("utf-8"), "web.xls")
    assert raw.headers == ["工单号", "进厂日期", "column C", "结算金额"]
    assert raw.rows.drop(columns=SOURCE_ROW).fillna("").values.tolist() == [
        ["WO1", "2024-03-05", "", "1,280.00"],
        ["WO2 加急", "2024-03-06", "x", "99"],
    ]


def test_a_line_break_in_an_html_cell_stays_a_line_break():
    # A web DMS writes a comment's lines with <br>; Excel and a browser show them on lines of their own.
    page = (
        "<table><tr><th>回访单号</th><th>工单号</th><th>回访日期</th><th>客户意见</th></tr>"
        "<tr><td>H1</td><td>WO1</td><td>2024-03-06</td><td>刹车异响<br>洗车不干净<BR/> 再看看 </td></tr>"
        "<tr><td>H2</td><td>WO2</td><td>2024-03-07</td><td>很好 <b>满意</b>\n 下次再来</td></tr></table>"
    )
    raw = read_table(page.encode("utf-8"), "web.xls")
    assert raw.rows["客户意见"].tolist() == ["刹车异响\n洗车不干净\n再看看", "很好 满意 下次再来"]


def test_spreadsheetml_reads_every_worksheet_with_index_gaps_and_typed_cells():
    sheets = {
        "2023年": _typed_rows(
            [["工单号", "进厂日期", "结算金额", "备注"], ["WO1", "2023/5/1", "1,280.50", "=1+2"]]
        ),
        "2024年": _typed_rows([["工单号", "进厂日期", "结算金额"], ["WO2", "2024/5/1 09:30", "", ""]]),
    }
    raw = read_table(spreadsheetml_bytes(sheets), "workbook.xml")
    assert raw.format == "xml"
    assert [s.name for s in raw.sheets] == ["2023年", "2024年"]
    assert raw.rows.drop(columns=SOURCE_ROW).fillna("").values.tolist() == [
        ["WO1", "2023-05-01", "1280.5", "=1+2", "2023年"],
        ["WO2", "2024-05-01 09:30:00", "", "", "2024年"],
    ]


def test_the_format_is_told_by_content_whatever_the_name():
    for fmt in ("xls", "html", "xml"):
        raw = read_table(WRITERS[fmt](TABLES["service"]), "orders.csv")
        assert raw.format == fmt.split("_")[0]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"<html><body><p>no table here</p></body></html>", "is a web page (HTML) without a table"),
        (
            b"<?xml version='1.0'?><Workbook xmlns='urn:schemas-microsoft-com:office:spreadsheet'>",
            "not well-formed",
        ),
        (
            b"<?xml version='1.0'?><Workbook xmlns='urn:schemas-microsoft-com:office:spreadsheet'/>",
            "without a worksheet",
        ),
        (b"<?xml version='1.0'?><rss><channel/></rss>", "is an XML document, not a table file"),
    ],
)
def test_markup_that_is_not_a_table_is_refused_in_one_sentence(data, fragment):
    with pytest.raises(ImportRefused) as refused:
        read_table(data, "upload.xls")
    message = str(refused.value)
    assert message.startswith("upload.xls ") and fragment in message and message.endswith(".")


def test_a_20000_row_xls_reads_in_about_the_time_of_the_same_xlsx():
    header = golden.SERVICE_HEADER
    rows = [header] + [
        [typed(cell) for cell in golden.SERVICE_ROWS[i % 8][:1]]
        + [f"WO{i:07d}"]
        + [typed(cell) for cell in golden.SERVICE_ROWS[i % 8][2:]]
        for i in range(20_000)
    ]
    timings = {}
    for fmt, data in (("xlsx", xlsx_bytes({"工单": rows})), ("xls", xls_bytes({"工单": rows}))):
        best = float("inf")
        for _ in range(2):
            clock = time.perf_counter()
            raw = read_table(data, f"big.{fmt}")
            best = min(best, time.perf_counter() - clock)
        assert len(raw.rows) == 20_000
        timings[fmt] = best
    # Not a benchmark: a guard against a reader that is an order of magnitude slower.
    assert timings["xls"] < 5 * timings["xlsx"] + 1.0, timings


# ---- rowspan: merged cells over rows, as grouped DMS reports write them -----------------------


def _merged_html(rows: list[list[str]], *, two_row_header: bool = False) -> bytes:
    """Return the table as an HTML "xls" in which every run of equal values down a column of the
    data rows is one cell with a rowspan (the store, the date, the advisor of a group), under a
    title row spanning the table; ``two_row_header`` groups the header's columns 3-6 under one
    cell (colspan) with the others spanning both header rows (rowspan)."""
    header, data = rows[0], rows[1:]
    width = len(header)
    lines = ['<html><head><meta charset="utf-8"></head><body><table border=1>',
             f'<tr><td colspan="{width}"><b>工单导出</b></td></tr>']  # fmt: skip
    if two_row_header:
        first = "".join(
            '<th colspan="4">车辆与客户</th>' if i == 2 else "" if 2 < i < 6 else f'<th rowspan="2">{h}</th>'
            for i, h in enumerate(header)
        )
        lines += [
            f"<thead><tr>{first}</tr>",
            "<tr>" + "".join(f"<th>{h}</th>" for h in header[2:6]) + "</tr></thead>",
        ]
    else:
        lines.append("<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>")
    runs = [[1] * len(data) for _ in range(width)]  # runs[c][r]: rows the cell at r spans, 0 if covered
    for c in range(width):
        start = 0
        for r in range(1, len(data) + 1):
            if r == len(data) or data[r][c] != data[start][c]:
                runs[c][start] = r - start
                for covered in range(start + 1, r):
                    runs[c][covered] = 0
                start = r
    lines.append("<tbody>")
    for r, row in enumerate(data):
        cells = "".join(
            (f'<td rowspan="{runs[c][r]}">' if runs[c][r] > 1 else "<td>") + f"{cell}</td>"
            for c, cell in enumerate(row)
            if runs[c][r]
        )
        lines.append(f"<tr>{cells}</tr>")
    lines.append("</tbody></table></body></html>")
    return "\n".join(lines).encode("utf-8")


@pytest.mark.parametrize("kind", ["service", "callback"])
@pytest.mark.parametrize("two_row_header", [False, True])
def test_an_html_table_with_cells_merged_over_rows_lands_the_same_rows_as_csv(tmp_path, kind, two_row_header):
    data = _merged_html(TABLES[kind], two_row_header=two_row_header)
    assert data.count(b"<td rowspan") >= 3  # the file does merge data rows
    raw = read_table(data, "分组.xls")
    assert raw.headers == TABLES[kind][0]
    assert raw.rows.drop(columns=SOURCE_ROW).fillna("").values.tolist() == [
        [cell.strip() for cell in row] for row in TABLES[kind][1:]
    ]
    csv_result, csv_rows, _ = _landed(tmp_path, kind, "csv")
    con = db.connect(tmp_path / "merged.duckdb")
    try:
        result = import_file(con, data, file_name="分组.xls", kind=kind)
        assert (result.inserted, result.rejected) == (csv_result.inserted, csv_result.rejected)
        assert con.execute(QUERIES[kind]).fetchall() == csv_rows
    finally:
        con.close()


def _grid(page: str) -> list[list[str]]:
    raw = read_table(page.encode("utf-8"), "web.xls")
    return [raw.headers, *raw.rows.drop(columns=SOURCE_ROW).fillna("").values.tolist()]


def test_a_rowspan_stands_in_its_column_below_as_a_browser_lays_it_out():
    page = (
        "<table><tr><th>门店</th><th>进厂日期</th><th>工单号</th><th>结算金额</th></tr>"
        # Two spans side by side, one reaching past the next row's own cells, one 0 (to the group's end).
        "<tr><td rowspan=3>城东店</td><td rowspan='2 '>2024-03-05</td><td>WO1</td><td rowspan=0>9</td></tr>"
        "<tr><td>WO2</td></tr>"
        "<tr><td>2024-03-06</td><td>WO3</td></tr>"
        # A cell overlapping a span from above (a malformed table) keeps its columns, as in a browser.
        "<tr><td>西湖店</td><td rowspan=2>2024-03-07</td><td>WO4</td></tr>"
        "<tr><td colspan=3>WO5</td></tr></table>"
    )
    assert _grid(page) == [
        ["门店", "进厂日期", "工单号", "结算金额"],
        ["城东店", "2024-03-05", "WO1", "9"],
        ["城东店", "2024-03-05", "WO2", "9"],
        ["城东店", "2024-03-06", "WO3", "9"],
        ["西湖店", "2024-03-07", "WO4", "9"],
        ["WO5", "", "", "9"],
    ]
    # A span does not cross into the next row group (tbody), as in a browser.
    grouped = (
        "<table><thead><tr><th>门店</th><th>工单号</th></tr></thead>"
        "<tbody><tr><td rowspan=5>城东店</td><td>WO1</td></tr></tbody>"
        "<tbody><tr><td>西湖店</td><td>WO2</td></tr></tbody></table>"
    )
    assert _grid(grouped) == [["门店", "工单号"], ["城东店", "WO1"], ["西湖店", "WO2"]]


@pytest.mark.parametrize(
    "span",
    ['rowspan="100000000"', 'rowspan="99999999999999999999999999"', 'rowspan="0"', 'rowspan="-3"',
     'rowspan="x"', 'colspan="100000000" rowspan="100000000"'],
)  # fmt: skip
def test_a_huge_or_odd_span_is_clamped_to_the_rows_there_are_and_read_quickly(span):
    header = "<tr><th>门店</th><th>工单号</th><th>结算金额</th></tr>"
    rows = "".join(f"<tr><td>WO{i}</td><td>{i}</td></tr>" for i in range(2, 5))
    page = f"<table>{header}<tr><td {span}>城东店</td><td>WO1</td><td>1</td></tr>{rows}</table>"
    clock = time.perf_counter()
    if "colspan" in span:  # the store spans 1,000 columns: the rows below are pushed past it, too wide
        with pytest.raises(ImportRefused, match="values in 1,002 columns"):
            _grid(page)
        assert time.perf_counter() - clock < 2.0
        return
    grid = _grid(page)
    assert time.perf_counter() - clock < 2.0
    if span in ('rowspan="-3"', 'rowspan="x"'):  # not a span: the rows below stay as written
        assert grid[2] == ["WO2", "2", ""]
    else:
        assert grid[1:] == [["城东店", f"WO{i}", str(i)] for i in range(1, 5)]


def test_a_page_of_spans_that_would_repeat_millions_of_values_is_refused_quickly():
    # 1,000 cells spanning 65,534 rows each over empty rows: 65 million values from a 600 KB file.
    header = "<tr>" + "".join(f"<th>{h}</th>" for h in golden.SERVICE_HEADER) + "</tr>"
    bomb = "<tr>" + '<td rowspan="65534">x</td>' * 1000 + "</tr>" + "<tr></tr>" * 65_533
    clock = time.perf_counter()
    with pytest.raises(ImportRefused, match=r"merged cells \(rowspan\) would repeat over 100,000 values"):
        read_table(f"<table>{header}{bomb}</table>".encode(), "bomb.xls")
    assert time.perf_counter() - clock < 5.0


def test_random_spans_never_raise_anything_but_a_refusal():
    rng = __import__("random").Random(11)
    header = "<tr>" + "".join(f"<th>{h}</th>" for h in golden.SERVICE_HEADER) + "</tr>"
    values = ["", "x", "城东店", "2024/3/1"]
    read = refused = 0
    for _ in range(300):
        body = []
        for _row in range(rng.randint(0, 12)):
            cells = []
            for _cell in range(rng.randint(0, 16)):
                attrs = ""
                if rng.random() < 0.3:
                    attrs += f' rowspan="{rng.choice(["0", "1", "2", "5", "65535", "-1", "", "abc", "1e9"])}"'
                if rng.random() < 0.15:
                    attrs += f' colspan="{rng.choice(["0", "2", "3", "-2", ""])}"'
                if rng.random() < 0.003:
                    attrs += ' colspan="99999999"'
                cells.append(f"<td{attrs}>{rng.choice(values)}</td>")
            body.append(("<tbody>" if rng.random() < 0.1 else "") + "<tr>" + "".join(cells) + "</tr>")
        page = f"<table>{header}{''.join(body)}</table>"
        try:
            raw = read_table(page.encode("utf-8"), "fuzz.xls")
        except ImportRefused as refusal:
            assert str(refusal).startswith("fuzz.xls ") and str(refusal).endswith(".")
            refused += 1
            continue
        read += 1
        assert raw.headers[: len(golden.SERVICE_HEADER)] == golden.SERVICE_HEADER
        assert len(raw.headers) <= 1000
        cells = raw.rows.drop(columns=SOURCE_ROW).fillna("")
        assert set(cells.to_numpy().ravel()) <= set(values)
    assert read > 100 and refused > 10, (read, refused)
