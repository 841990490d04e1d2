"""Chart images carry stores and as-of date; date axes speak the user's language; one kept Chromium."""

from __future__ import annotations

import time

import pandas as pd
import plotly.graph_objects as go
import pytest

from analytics.reports import chart_export
from ui import charts

needs_chromium = pytest.mark.skipif(
    chart_export.chromium_path() is None, reason="no Chromium on this machine"
)


def _months(first_year: int, first_month: int, n: int) -> list[str]:
    out = []
    y, m = first_year, first_month
    for _ in range(n):
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@pytest.mark.parametrize(
    ("lang", "first", "last"), [("zh", "2025年11月", "2026年10月"), ("en", "2025-11", "2026-10")]
)
def test_a_monthly_axis_is_labelled_in_the_language_and_ends_on_the_last_month(lang, first, last):
    fig = go.Figure(go.Scatter(x=_months(2025, 11, 12), y=list(range(12))))
    charts.localise_dates(fig, lang)
    axis = fig.layout.xaxis
    assert axis.type == "date"
    assert axis.ticktext[0] == first and axis.ticktext[-1] == last
    assert len(axis.ticktext) == 12
    assert axis.tickvals[-1] == "2026-10-01"
    assert axis.hoverformat == charts.MONTH_FORMAT[lang]


def test_a_long_monthly_axis_keeps_at_most_twelve_ticks_and_always_the_last_month():
    fig = go.Figure(go.Bar(x=[f"{m}-01" for m in _months(2023, 11, 36)], y=[1] * 36))
    charts.localise_dates(fig, "zh")
    text = fig.layout.xaxis.ticktext
    assert len(text) == 12 and text[-1] == "2026年10月" and text[0] == "2024年1月"


def test_daily_axes_get_a_localised_format_and_other_axes_are_left_alone():
    daily = go.Figure(go.Scatter(x=["2026-10-01", "2026-10-02", "2026-10-09"], y=[1, 2, 3]))
    charts.localise_dates(daily, "zh")
    assert daily.layout.xaxis.tickformat == "%Y年%-m月%-d日" and daily.layout.xaxis.tickvals is None
    for x in (["服务态度", "维修质量"], [1, 2], ["2026-10", "其他"]):
        fig = go.Figure(go.Bar(x=x, y=[1, 2]))
        charts.localise_dates(fig, "zh")
        assert fig.layout.xaxis.tickvals is None and fig.layout.xaxis.tickformat is None, x
    horizontal = go.Figure(go.Bar(x=[3, 4], y=["2026-09", "2026-10"], orientation="h"))
    charts.localise_dates(horizontal, "en")
    assert horizontal.layout.xaxis.tickvals is None


def test_the_exported_chart_names_stores_and_as_of_date_under_its_title():
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    note = "杭州西湖店 · 数据截至 2026-10-31"
    out = chart_export.for_export(fig, "满意率", "数据来源：DMS", note)
    assert out.layout.title.text == "满意率"
    assert out.layout.title.subtitle.text == note
    assert out.layout.margin.t >= 150
    alone = chart_export.for_export(fig, None, "数据来源：DMS", note)
    assert alone.layout.title.text == note


def test_a_label_broken_over_two_lines_keeps_its_break_in_the_image_and_markup_stays_text():
    """The satisfaction breakdown's "no advisor (delivery calls, work order<br>not imported ...)" and
    the praise board's wrapped themes showed "<br>" as text in their PNG and SVG."""
    fig = go.Figure(go.Bar(y=["no advisor (delivery calls,<br>not imported)", "<b>王工</b>"], x=[3, 4]))
    fig.update_yaxes(categoryarray=["<b>王工</b>", "no advisor (delivery calls,<br>not imported)"])
    out = chart_export.for_export(fig, "满意率", "数据来源：DMS")
    assert list(out.data[0].y) == ["no advisor (delivery calls,<br>not imported)", "&lt;b&gt;王工&lt;/b&gt;"]
    assert list(out.layout.yaxis.categoryarray)[1] == "no advisor (delivery calls,<br>not imported)"


@needs_chromium
def test_images_are_drawn_in_one_kept_browser_and_the_note_is_in_the_svg():
    fig = go.Figure(go.Bar(x=["服务态度", "维修质量"], y=[0.91, 0.87]))
    first = chart_export.chart_images(fig, "满意率", "数据来源：DMS", "杭州西湖店 · 数据截至 2026-10-31")
    kept = chart_export._RENDERER._kaleido
    assert kept is not None
    clock = time.perf_counter()
    again = chart_export.chart_images(fig, "满意率", "数据来源：DMS", "全部门店 · 数据截至 2026-09-30")
    seconds = time.perf_counter() - clock
    assert chart_export._RENDERER._kaleido is kept
    assert "杭州西湖店 · 数据截至 2026-10-31" in first["svg"].decode("utf-8")
    assert "全部门店 · 数据截至 2026-09-30" in again["svg"].decode("utf-8")
    assert again["png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert seconds < 10  # no browser start: well under the 7-12 s a fresh Chromium took


@pytest.mark.parametrize(("lang", "last"), [("zh", "2026年10月"), ("en", "2026-10")])
def test_a_month_end_axis_gets_one_tick_per_month_named_by_its_month(lang, last):
    # The churn trend counts vehicles at each month-end (the last one may be the data's last day);
    # plotly's own ticks fell every eight weeks on days no point is at (2026年1月25日).
    ends = [d.strftime("%Y-%m-%d") for d in pd.date_range("2025-11-30", "2026-09-30", freq="ME")]
    fig = go.Figure(go.Scatter(x=[*ends, "2026-10-28"], y=list(range(12))))
    fig.add_scatter(x=[*ends, "2026-10-28"], y=list(range(12)))
    charts.localise_dates(fig, lang)
    axis = fig.layout.xaxis
    assert axis.tickvals[0] == "2025-11-30" and axis.tickvals[-1] == "2026-10-28"
    assert len(axis.ticktext) == 12 and axis.ticktext[-1] == last
    assert axis.hoverformat == charts.MONTH_FORMAT[lang]
    # Two points in one month, or days that are not month-ends, stay a daily axis.
    for x in (["2026-09-30", "2026-10-15", "2026-10-31"], ["2026-09-15", "2026-10-15"]):
        daily = go.Figure(go.Scatter(x=x, y=[1] * len(x)))
        charts.localise_dates(daily, lang)
        assert daily.layout.xaxis.tickvals is None, x
