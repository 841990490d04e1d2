"""Rendering slides to PPTX with native charts and fonts that Chinese PowerPoint shows."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import xlsxwriter
from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION, XL_MARKER_STYLE
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.util import Emu, Inches, Pt

from analytics.core.auth import mask_text
from analytics.core.config import settings
from analytics.core.i18n import text
from analytics.reports.deck.data import DeckData, Progress, _quiet, deck_data
from analytics.reports.deck.slides import Chart, Number, Slide, deck_slides, scope_label
from analytics.reports.export import neutralise_text, xlsx_text

COLORS = ("1F5FA8", "E07B39", "2A9D8F", "C8553D", "7B6CA8", "8D99AE", "E9C46A", "264653")


INK, MUTED, ACCENT, GOOD, BAD = "222222", "777777", "1F5FA8", "2A9D8F", "C8553D"


SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)


MARGIN = Inches(0.5)


BODY_TOP, BODY_BOTTOM = Inches(1.75), Inches(6.85)


@dataclass(frozen=True)
class Fonts:
    """The deck's typefaces: Latin and East Asian."""

    latin: str
    east_asian: str


def _fonts() -> Fonts:
    cfg = settings().deck
    return Fonts(cfg.latin_font, cfg.east_asian_font)


def _set_typefaces(rpr: Any, fonts: Fonts) -> None:
    """Name the Latin and East Asian typefaces on a run or default run property element."""
    for tag in ("a:latin", "a:ea"):
        old = rpr.find(qn(tag))
        if old is not None:
            rpr.remove(old)
    latin = parse_xml(f'<a:latin {nsdecls("a")} typeface="{fonts.latin}"/>')
    ea = parse_xml(f'<a:ea {nsdecls("a")} typeface="{fonts.east_asian}"/>')
    # Schema order: fills and effects first, then latin, ea, cs, sym, hyperlinks.
    anchor = None
    for tag in ("a:cs", "a:sym", "a:hlinkClick", "a:hlinkMouseOver", "a:rtl", "a:extLst"):
        anchor = rpr.find(qn(tag))
        if anchor is not None:
            break
    if anchor is not None:
        anchor.addprevious(latin)
        anchor.addprevious(ea)
    else:
        rpr.append(latin)
        rpr.append(ea)


def _theme_fonts(deck: Any, fonts: Fonts) -> None:
    """Name the deck's typefaces in the theme: python-pptx's default theme has Calibri and an empty
    East Asian face (宋体 by script), which text typed into the deck later, and chart text without a
    font of its own, would take."""
    theme = deck.slide_master.part.part_related_by(RT.THEME)
    root = etree.fromstring(theme.blob)
    for scheme in root.iterfind(".//" + qn("a:fontScheme") + "/*"):
        scheme.find(qn("a:latin")).set("typeface", fonts.latin)
        scheme.find(qn("a:ea")).set("typeface", fonts.east_asian)
        for script in scheme.iterfind(qn("a:font")):
            if script.get("script") == "Hans":
                script.set("typeface", fonts.east_asian)
    theme.blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _shown(value: object) -> str:
    """Return a text from data as the deck shows it: personal numbers masked (the deck goes to every
    role) and the characters a slide's XML cannot hold (U+FFFE in a comment) replaced."""
    return xlsx_text(str(mask_text(value)))


def _style_run(run: Any, fonts: Fonts, size: float, bold: bool = False, color: str = INK) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.color.rgb = RGBColor.from_string(color)
    _set_typefaces(run._r.get_or_add_rPr(), fonts)


def _text_box(
    slide: Any,
    box: tuple[int, int, int, int],
    paragraphs: Sequence[tuple[str, float, bool, str]],
    fonts: Fonts,
    align: Any = PP_ALIGN.LEFT,
    anchor: Any = MSO_ANCHOR.TOP,
    space_after: float = 4,
) -> Any:
    shape = slide.shapes.add_textbox(*box)
    frame = shape.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    for margin in ("margin_left", "margin_right", "margin_top", "margin_bottom"):
        setattr(frame, margin, Inches(0.05))
    for i, (content, size, bold, color) in enumerate(paragraphs):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.alignment = align
        para.space_after = Pt(space_after)
        run = para.add_run()
        run.text = _shown(content)  # the deck goes to every role: no phone in any text
        _style_run(run, fonts, size, bold, color)
    return shape


def _plain_box(slide: Any, box: tuple[int, int, int, int], color: str) -> Any:
    """Add a filled rectangle without outline or the theme's shadow."""
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, *box)
    style = shape._element.find(qn("p:style"))
    if style is not None:
        shape._element.remove(style)
    shape.fill.solid()
    shape.fill.fore_color.rgb = RGBColor.from_string(color)
    shape.line.fill.background()
    return shape


def _frame(slide: Any, s: Slide, footer: str, page: int, fonts: Fonts) -> None:
    """Draw the template around a content slide: title, rule, takeaway with an accent bar, footer."""
    _text_box(
        slide, (MARGIN, Inches(0.3), SLIDE_W - 2 * MARGIN, Inches(0.65)), [(s.title, 26, True, ACCENT)], fonts
    )
    _plain_box(slide, (MARGIN, Inches(0.98), SLIDE_W - 2 * MARGIN, Emu(12700)), ACCENT)
    _plain_box(slide, (MARGIN, Inches(1.12), Inches(0.07), Inches(0.5)), COLORS[1])
    _text_box(
        slide,
        (MARGIN + Inches(0.15), Inches(1.08), SLIDE_W - 2 * MARGIN - Inches(0.15), Inches(0.6)),
        [(s.takeaway, 15, True, INK)],
        fonts,
        anchor=MSO_ANCHOR.MIDDLE,
    )
    bottom = [(footer + (f"   {s.footnote}" if s.footnote else ""), 9, False, MUTED)]
    _text_box(slide, (MARGIN, Inches(6.95), SLIDE_W - 2 * MARGIN - Inches(0.6), Inches(0.4)), bottom, fonts)
    _text_box(
        slide,
        (SLIDE_W - MARGIN - Inches(0.6), Inches(6.95), Inches(0.6), Inches(0.4)),
        [(str(page), 9, False, MUTED)],
        fonts,
        align=PP_ALIGN.RIGHT,
    )


def _numbers(slide: Any, numbers: Sequence[Number], top: int, fonts: Fonts) -> int:
    """Draw the headline figures in a row of boxes; return where the body continues."""
    gap = Inches(0.2)
    width = int((SLIDE_W - 2 * MARGIN - gap * (len(numbers) - 1)) / len(numbers))
    height = Inches(0.95)
    for i, number in enumerate(numbers):
        left = MARGIN + i * (width + gap)
        _plain_box(slide, (left, top, width, height), "F3F6FA")
        paragraphs = [(number.label, 11, False, MUTED), (number.value, 22, True, ACCENT)]
        if number.note:
            paragraphs.append((number.note, 10, False, MUTED))
        _text_box(
            slide,
            (left + Inches(0.1), top, width - Inches(0.2), height),
            paragraphs,
            fonts,
            anchor=MSO_ANCHOR.MIDDLE,
            space_after=0,
        )
    return int(top + height + Inches(0.2))


KPI_WIDTHS = [3.0, 1.6, 1.1, 1.4, 1.5, 1.5, 1.5]


def _table(slide: Any, s: Slide, box: tuple[int, int, int, int], fonts: Fonts) -> None:
    assert s.table is not None
    rows, marks = s.table, s.marks or [None] * len(s.table)
    left, top, width, height = box
    row_height = min(int(height / len(rows)), int(Inches(0.42)))
    shape = slide.shapes.add_table(len(rows), len(rows[0]), left, top, width, row_height * len(rows))
    table = shape.table
    weights = s.widths or KPI_WIDTHS[: len(rows[0])]
    for i, weight in enumerate(weights):
        table.columns[i].width = int(width * weight / sum(weights))
    numeric = s.key == "kpis"
    size = 12 if numeric else 11
    for r, row in enumerate(rows):
        table.rows[r].height = row_height
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            para = cell.text_frame.paragraphs[0]
            para.alignment = PP_ALIGN.RIGHT if numeric and c > 0 else PP_ALIGN.LEFT
            run = para.add_run()
            run.text = _shown(value)  # customer names and comments may hold a phone
            color, bold = INK, r == 0
            if r == 0:
                color = "FFFFFF"
            elif c == len(row) - 1 and marks[r]:
                color, bold = (GOOD if marks[r] == "good" else BAD), True
            _style_run(run, fonts, size, bold=bold, color=color)
            cell.fill.solid()
            cell.fill.fore_color.rgb = RGBColor.from_string(
                ACCENT if r == 0 else ("F3F6FA" if r % 2 else "FFFFFF")
            )


def _error_bars(
    series_element: Any,
    values: Sequence[float | None],
    low: Sequence[float | None],
    high: Sequence[float | None],
) -> None:
    """Attach an interval to a line series as custom error bars (native, kept in the chart's XML)."""

    def literal(deltas: list[tuple[int, float]]) -> str:
        points = "".join(f'<c:pt idx="{i}"><c:v>{v:.6g}</c:v></c:pt>' for i, v in deltas)
        return f'<c:numLit><c:formatCode>General</c:formatCode><c:ptCount val="{len(values)}"/>{points}</c:numLit>'

    plus, minus = [], []
    for i, (v, lo, hi) in enumerate(zip(values, low, high, strict=True)):
        if v is None or lo is None or hi is None:
            continue
        plus.append((i, max(hi - v, 0.0)))
        minus.append((i, max(v - lo, 0.0)))
    xml = (
        f'<c:errBars {nsdecls("c", "a")}><c:errBarType val="both"/><c:errValType val="cust"/>'
        f'<c:noEndCap val="0"/><c:plus>{literal(plus)}</c:plus><c:minus>{literal(minus)}</c:minus>'
        f'<c:spPr><a:ln w="12700"><a:solidFill><a:srgbClr val="{MUTED}"/></a:solidFill></a:ln></c:spPr>'
        "</c:errBars>"
    )
    series_element.find(qn("c:cat")).addprevious(parse_xml(xml))


def value_range(spec: Chart) -> tuple[float | None, float | None]:
    """Return the value axis bounds: the chart's own, else for interval charts a range holding every bound."""
    if spec.axis_min is not None or spec.axis_max is not None:
        return spec.axis_min, spec.axis_max
    bounds = [
        v
        for s in spec.series
        if s.low is not None and s.high is not None
        for v in (*s.low, *s.high)
        if v is not None
    ]
    if not bounds:
        return None, None
    percent = "%" in spec.number_format
    step = 0.02 if percent else 5.0
    low = math.floor(min(bounds) / step) * step
    high = math.ceil(max(bounds) / step) * step
    if percent:
        low, high = max(low, 0.0), min(high, 1.0)
    return round(low, 6), round(high, 6)


_CHART_TYPES = {
    "line": XL_CHART_TYPE.LINE_MARKERS,
    "bar": XL_CHART_TYPE.BAR_CLUSTERED,
    "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
}


def _rotate_ticks(axis: Any, degrees: int) -> None:
    """Turn an axis's tick labels (months read better slanted than wrapped)."""
    tx = axis._element.get_or_add_txPr()
    tx.find(qn("a:bodyPr")).set("rot", str(degrees * 60000))


def _series_color(spec: Chart, index: int) -> RGBColor:
    s = spec.series[index]
    if s.dashed:
        return RGBColor.from_string(MUTED)
    if s.muted:
        return RGBColor.from_string("B8BEC6")
    return RGBColor.from_string(COLORS[index % len(COLORS)])


class _TextWorkbookWriter(CategoryWorkbookWriter):  # type: ignore[misc]
    """The chart's embedded workbook with every text written as text: XlsxWriter would otherwise
    turn a category such as ``=HYPERLINK(...)`` into a live formula."""

    @contextmanager
    def _open_worksheet(self, xlsx_file: Any) -> Iterator[tuple[Any, Any]]:
        workbook = xlsxwriter.Workbook(
            xlsx_file, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        worksheet = workbook.add_worksheet()
        yield workbook, worksheet
        workbook.close()


class _SafeChartData(CategoryChartData):  # type: ignore[misc]
    """Category chart data whose embedded workbook holds no formula made from text."""

    @property
    def _workbook_writer(self) -> _TextWorkbookWriter:
        return _TextWorkbookWriter(self)


def _chart(slide: Any, spec: Chart, box: tuple[int, int, int, int], fonts: Fonts) -> Any:
    """Draw a native chart with its data embedded.

    PowerPoint draws horizontal bars from the bottom up, so a bar chart's categories and series go
    in reversed to read top down in the caller's order.
    """
    flip = spec.kind == "bar"
    order = list(reversed(range(len(spec.series)))) if flip else list(range(len(spec.series)))
    data = _SafeChartData(number_format=spec.data_format or spec.number_format)
    # Category and series names come from data (car models, advisors): neutralised like every export.
    categories = [neutralise_text(_shown(str(c))) for c in spec.categories]
    data.categories = (list(reversed(categories)) if flip else categories) or [""]
    for i in order:
        values = spec.series[i].values
        name = neutralise_text(_shown(str(spec.series[i].name)))
        data.add_series(name, (list(reversed(values)) if flip else values) or [None])
    chart = slide.shapes.add_chart(_CHART_TYPES[spec.kind], *box, data).chart
    chart.font.size = Pt(11)
    chart.font.color.rgb = RGBColor.from_string(INK)
    _set_typefaces(chart._chartSpace.find(".//" + qn("a:defRPr")), fonts)
    chart.has_title = True
    chart.chart_title.text_frame.text = spec.title
    for para in chart.chart_title.text_frame.paragraphs:
        for run in para.runs:
            _style_run(run, fonts, 13, bold=True)
    chart.has_legend = len(spec.series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
    axis = chart.value_axis
    axis.has_major_gridlines = True
    axis.major_gridlines.format.line.color.rgb = RGBColor.from_string("E3E7EC")
    axis.format.line.fill.background()
    axis.tick_labels.number_format = spec.number_format
    axis.tick_labels.number_format_is_linked = False
    low, high = value_range(spec)
    if low is not None:
        axis.minimum_scale = low
    if high is not None:
        axis.maximum_scale = high
    categories = chart.category_axis
    categories.format.line.color.rgb = RGBColor.from_string("B8BEC6")
    categories.has_major_gridlines = False
    if spec.kind != "bar" and len(spec.categories) > 6:
        _rotate_ticks(categories, -45)
    plot = chart.plots[0]
    if spec.kind != "line":
        plot.gap_width = 60
        plot.overlap = -10 if len(spec.series) > 1 else 0
    for position, series in zip(order, plot.series, strict=True):
        s = spec.series[position]
        color = _series_color(spec, position)
        if spec.kind == "line":
            series.smooth = False
            series.format.line.width = Pt(1.5 if s.dashed else 2.25)
            series.format.line.color.rgb = color
            if s.dashed:
                series.format.line.dash_style = MSO_LINE_DASH_STYLE.DASH
                series.marker.style = XL_MARKER_STYLE.NONE
            else:
                series.marker.style = XL_MARKER_STYLE.CIRCLE
                series.marker.size = 6
                series.marker.format.fill.solid()
                series.marker.format.fill.fore_color.rgb = color
                series.marker.format.line.color.rgb = color
            if s.low is not None and s.high is not None:
                _error_bars(series._element, s.values, s.low, s.high)
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = color
    if spec.labels:
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.number_format = spec.number_format
        labels.number_format_is_linked = False
        labels.font.size = Pt(10)
        labels.position = XL_LABEL_POSITION.OUTSIDE_END
    return chart


def _block_height(blocks: Sequence[tuple[str, list[str]]]) -> int:
    lines = sum((1 if heading else 0) + len(body) for heading, body in blocks)
    return int(Inches(0.12 + 0.32 * lines))


def _blocks(
    slide: Any, blocks: Sequence[tuple[str, list[str]]], box: tuple[int, int, int, int], fonts: Fonts
) -> None:
    paragraphs: list[tuple[str, float, bool, str]] = []
    for heading, lines in blocks:
        if heading:
            paragraphs.append((heading, 14, True, ACCENT))
        paragraphs.extend((line, 13, False, INK) for line in lines)
    if paragraphs:
        _text_box(slide, box, paragraphs, fonts, space_after=6)


def _title_page(slide: Any, s: Slide, fonts: Fonts) -> None:
    _plain_box(slide, (0, Inches(2.3), SLIDE_W, Inches(2.2)), ACCENT)
    _text_box(
        slide,
        (MARGIN + Inches(0.3), Inches(2.45), SLIDE_W - 2 * MARGIN, Inches(1.9)),
        [(s.title, 36, True, "FFFFFF"), (s.takeaway, 18, False, "FFFFFF")],
        fonts,
        anchor=MSO_ANCHOR.MIDDLE,
    )
    lines = [(line, 14, False, INK) for _, block in s.blocks for line in block]
    _text_box(slide, (MARGIN + Inches(0.3), Inches(4.8), SLIDE_W - 2 * MARGIN, Inches(1.5)), lines, fonts)


def _content(slide: Any, s: Slide, fonts: Fonts) -> None:
    """Lay out the body: numbers on top, then a table (after any text), or charts beside any text."""
    top = int(BODY_TOP)
    if s.numbers:
        top = _numbers(slide, s.numbers, top, fonts)
    width = int(SLIDE_W - 2 * MARGIN)
    if s.table is not None:
        if s.blocks:
            height = _block_height(s.blocks)
            _blocks(slide, s.blocks, (MARGIN, top, width, height), fonts)
            top += height + int(Inches(0.1))
        _table(slide, s, (MARGIN, top, width, int(BODY_BOTTOM) - top), fonts)
        return
    height = int(BODY_BOTTOM) - top
    gap = int(Inches(0.3))
    if s.charts and s.blocks:
        chart_w = int(width * 0.58)
        _chart(slide, s.charts[0], (MARGIN, top, chart_w, height), fonts)
        _blocks(slide, s.blocks, (MARGIN + chart_w + gap, top, width - chart_w - gap, height), fonts)
    elif s.charts:
        each = int((width - gap * (len(s.charts) - 1)) / len(s.charts))
        for i, spec in enumerate(s.charts):
            _chart(slide, spec, (MARGIN + i * (each + gap), top, each, height), fonts)
    elif s.blocks:
        _blocks(slide, s.blocks, (MARGIN, top, width, height), fonts)


def render(slides: Sequence[Slide], footer: str) -> bytes:
    """Return the slides drawn on the deck template as PPTX bytes."""
    fonts = _fonts()
    deck = Presentation()
    _theme_fonts(deck, fonts)
    deck.slide_width, deck.slide_height = SLIDE_W, SLIDE_H
    blank = deck.slide_layouts[6]
    for page, s in enumerate(slides, start=1):
        slide = deck.slides.add_slide(blank)
        if s.key == "title":
            _title_page(slide, s, fonts)
        else:
            _frame(slide, s, footer, page, fonts)
            _content(slide, s, fonts)
    deck.core_properties.title = slides[0].title if slides else ""
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def footer_line(d: DeckData, lang: str) -> str:
    """Return the footer every content slide carries: source, stores and month."""
    return f"{text('chart.source', lang)} · {scope_label(d.stores, lang)} · {d.month}"


def build_deck(
    con: duckdb.DuckDBPyConnection,
    month: str,
    stores: list[str] | None = None,
    lang: str = "zh",
    progress: Progress = _quiet,
) -> bytes:
    """Return the monthly deck of ``month`` for ``stores`` in ``lang`` as PPTX bytes."""
    data = deck_data(con, month, stores, progress)
    deck = render(deck_slides(data, lang), footer_line(data, lang))
    progress(1.0, "done")
    return deck
