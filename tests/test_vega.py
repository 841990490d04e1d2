"""The dashboard's plotly figures drawn on screen with Vega-Lite (ui.vega): same data, orders,
colours, formats and hover texts, and a spec Vega-Lite's schema accepts."""

from __future__ import annotations

import altair as alt
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import pytest
from altair.utils.schemapi import validate_jsonschema

from ui import vega
from ui.charts import localise_dates

SCHEMA = alt.vegalite.v6.schema.core.load_schema()


def _valid(spec: dict) -> dict:
    validate_jsonschema(spec, SCHEMA)
    return spec


def _rows(spec: dict, layer: int) -> list[dict]:
    return [r for r in spec["data"]["values"] if r["layer"] == layer]


def _band_figure() -> go.Figure:
    months = ["2026-01", "2026-02", "2026-03"]
    fig = go.Figure()
    fig.add_scatter(x=months, y=[0.9, 0.92, 0.91], mode="lines", line={"width": 0}, showlegend=False)
    fig.add_scatter(
        x=months, y=[0.8, 0.82, 0.81], mode="lines", line={"width": 0}, fill="tonexty", name="band",
        fillcolor="rgba(31, 95, 168, 0.15)", hoverinfo="skip",
    )  # fmt: skip
    fig.add_scatter(
        x=months, y=[0.85, 0.87, 0.86], mode="lines+markers", name="rate", line={"color": "#1f5fa8"},
        text=["a", "b", "c"], hovertemplate="%{text}: %{y:.1%}<extra></extra>",
    )  # fmt: skip
    fig.update_layout(xaxis={"type": "date"}, yaxis={"tickformat": ".0%"}, height=400)
    return fig


def test_a_band_is_one_area_between_its_edges_and_the_line_has_its_points_and_hover_text():
    spec = _valid(vega.from_plotly(_band_figure(), subtitle="source"))
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["area", "line", "point"]  # the band's upper edge is not a line of its own
    band = _rows(spec, 0)
    assert [(r["y"], r["y2"]) for r in band] == [(0.8, 0.9), (0.82, 0.92), (0.81, 0.91)]
    assert [r["tip"] for r in _rows(spec, 2)] == ["a: 85.0%", "b: 87.0%", "c: 86.0%"]
    colour = spec["layer"][1]["encoding"]["color"]
    assert colour["scale"] == {"domain": ["band", "rate"], "range": ["rgba(31, 95, 168, 0.15)", "#1f5fa8"]}
    assert spec["layer"][0]["encoding"]["y"]["axis"]["format"] == ".0%"
    assert spec["title"] == {"text": "", "anchor": "start", "subtitle": "source"}
    assert spec["height"] == 400


@pytest.mark.parametrize(("language", "labels"), [("zh", "%Y年%-m月"), ("en", "%Y-%m")])
def test_months_are_drawn_on_a_utc_scale_with_the_localised_month_ticks(language, labels):
    fig = _band_figure()
    localise_dates(fig, language)
    spec = _valid(vega.from_plotly(fig))
    x = spec["layer"][0]["encoding"]["x"]
    assert x["type"] == "temporal" and x["scale"]["type"] == "utc"
    assert x["axis"]["format"] == labels
    assert x["axis"]["values"] == [{"year": 2026, "month": m, "date": 1, "utc": True} for m in (1, 2, 3)]
    # 2026-01-01 00:00 UTC in milliseconds: the same day in every browser's time zone.
    assert _rows(spec, 0)[0]["x"] == pd.Timestamp("2026-01-01").value / 1e6


def test_horizontal_bars_keep_plotlys_category_order_from_the_top():
    fig = go.Figure(go.Bar(x=[3, 1, 2], y=["b", "a", "c"], orientation="h", text=["3", "1", "2"]))
    fig.update_traces(textposition="outside")
    fig.update_layout(
        yaxis={"categoryorder": "array", "categoryarray": ["a", "b", "c"], "autorange": "reversed"}
    )
    spec = _valid(vega.from_plotly(fig))
    assert spec["layer"][0]["encoding"]["y"]["scale"]["domain"] == ["a", "b", "c"]
    assert [r["text"] for r in _rows(spec, 1)] == ["3", "1", "2"]  # the values written beside the bars
    # Not reversed, plotly draws the first category at the bottom; Vega-Lite lists from the top.
    fig.update_layout(yaxis={"autorange": True})
    assert vega.from_plotly(fig)["layer"][0]["encoding"]["y"]["scale"]["domain"] == ["c", "b", "a"]


def test_grouped_bars_are_one_layer_side_by_side_with_one_colour_each():
    fig = go.Figure()
    fig.add_bar(x=["30 d", "60 d"], y=[0.88, 0.87], name="model", marker_color="#1f5fa8")
    fig.add_bar(x=["30 d", "60 d"], y=[0.80, 0.80], name="rule", marker_color="#b8bec6")
    fig.update_layout(barmode="group")
    spec = _valid(vega.from_plotly(fig))
    assert len(spec["layer"]) == 1
    encoding = spec["layer"][0]["encoding"]
    assert encoding["xOffset"] == {"field": "series", "sort": ["model", "rule"]}
    assert encoding["color"]["scale"] == {"domain": ["model", "rule"], "range": ["#1f5fa8", "#b8bec6"]}
    assert encoding["y"]["scale"]["zero"] is True
    # Category labels lie level, and slant when the plot is too narrow for them side by side.
    needed = 2 * (vega._text_width("30 d", vega.AXIS_LABEL_SIZE) + vega.LABEL_GAP_PX)
    assert encoding["x"]["axis"]["labelAngle"] == {"expr": f"width < {needed} ? -45 : 0"}
    assert needed < 100
    assert [(r["x"], r["series"], r["y"]) for r in _rows(spec, 0)] == [
        ("30 d", "model", 0.88), ("60 d", "model", 0.87), ("30 d", "rule", 0.8), ("60 d", "rule", 0.8),
    ]  # fmt: skip


def test_a_legend_has_no_more_entries_a_row_than_fit_a_phone():
    fig = go.Figure()
    for name in ("服务方面（词库）", "模型发现的新主题", "其他零星新主题", "d"):
        fig.add_scatter(x=[1, 2], y=[1, 2], name=name)
    legend = vega.from_plotly(fig)["layer"][0]["encoding"]["color"]["legend"]
    assert legend["columns"] == 2  # eight Chinese characters and a symbol: two fit in 340 px
    fig.update_layout(legend={"entrywidth": 0.99, "entrywidthmode": "fraction"})  # plotly: one a row
    assert vega.from_plotly(fig)["layer"][0]["encoding"]["color"]["legend"]["columns"] == 1


def test_error_bars_and_the_overall_line_with_its_label():
    fig = go.Figure(
        go.Scatter(
            x=[0.8, 0.9], y=["A (n=10)", "B (n=20)"], mode="markers", name="segments",
            error_x={"type": "data", "symmetric": False, "array": [0.05, 0.02], "arrayminus": [0.1, 0.03]},
        )
    )  # fmt: skip
    fig.add_vline(x=0.85, line={"dash": "dash"})
    fig.add_annotation(x=0.85, y=0, yref="paper", yshift=-22, showarrow=False, text="overall 85%")
    spec = _valid(vega.from_plotly(fig))
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["point", "rule", "rule", "text"]
    errors = _rows(spec, 1)
    assert [(r["x"], r["x2"]) for r in errors] == [pytest.approx((0.7, 0.85)), pytest.approx((0.87, 0.92))]
    assert _rows(spec, 2) == [{"x": 0.85, "layer": 2}]
    assert _rows(spec, 3)[0]["text"] == "overall 85%"


def test_a_heatmap_writes_its_counts_in_its_cells_and_keeps_its_rows_from_the_top():
    fig = go.Figure(
        go.Heatmap(
            z=[[0.1, 0.9], [0.5, 0.0]], x=["price", "long<br>name"], y=["Wang (10)", "Li (8)"],
            text=[[1, 9], [5, ""]], texttemplate="%{text}", hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
            colorscale=[[0, "#f4f7fb"], [1, "#1f5fa8"]], showscale=False, xgap=2,
        )
    )  # fmt: skip
    fig.update_layout(yaxis={"autorange": "reversed"}, xaxis={"side": "top"})
    spec = _valid(vega.from_plotly(fig))
    cells, counts = spec["layer"]
    assert cells["encoding"]["y"]["scale"]["domain"] == ["Wang (10)", "Li (8)"]
    assert cells["encoding"]["x"]["scale"]["domain"] == ["price", "long\nname"]
    assert cells["encoding"]["x"]["axis"]["orient"] == "top"
    assert cells["encoding"]["color"]["scale"] == {"range": ["#f4f7fb", "#1f5fa8"]}
    assert [r["text"] for r in _rows(spec, 1)] == ["1", "9", "5"]  # an empty cell writes nothing
    assert _rows(spec, 0)[1]["tip"] == "Wang (10) · long name: 9"


def test_panels_side_by_side_become_one_facet_with_plotly_expresss_titles():
    frame = pd.DataFrame(
        {"month": [1, 2, 1, 2], "share": [0.1, 0.3, 0.2, 0.4], "group": ["a", "a", "b", "b"], "step": ["1-2"] * 2 + ["2-3"] * 2}
    )  # fmt: skip
    fig = px.line(frame, x="month", y="share", color="group", facet_col="step")
    fig.for_each_annotation(lambda a: a.update(text={"step=1-2": "First", "step=2-3": "Second"}[a.text]))
    spec = _valid(vega.from_plotly(fig))
    column = spec["facet"]["column"]
    assert column["sort"] == ["x", "x2"]
    assert "'First'" in column["header"]["labelExpr"] and "'Second'" in column["header"]["labelExpr"]
    assert {r["panel"] for r in spec["data"]["values"]} == {"x", "x2"}


def test_hover_texts_follow_plotlys_template_formats():
    point = {
        "x": "2026-03-01",
        "y": 0.8734,
        "customdata": 1234,
        "customdata[0]": 1234,
        "fullData.name": "NPS",
    }
    assert vega.hover_text("%{x|%Y-%m}: %{y:.1%} (n=%{customdata:,})<extra></extra>", point) == (
        "2026-03: 87.3% (n=1,234)"
    )
    assert vega.hover_text("%{fullData.name}<br>%{y:+d} · n=%{customdata[0]}", point) == "NPS · +1 · n=1234"
    assert vega.hover_text("<b>%{y}</b>", {"y": None}) == ""


def test_data_text_is_shown_as_written_not_as_html():
    fig = go.Figure(go.Bar(x=[1], y=["<a href='x'>Wang</a>"], orientation="h", name="<b>n</b>"))
    spec = vega.from_plotly(fig)
    assert spec["layer"][0]["encoding"]["y"]["scale"]["domain"] == ["<a href='x'>Wang</a>"]


def test_labels_of_several_lines_above_a_heatmap_grow_upwards_and_are_one_line_when_slanted():
    fig = go.Figure(
        go.Heatmap(z=[[1, 2, 3]], x=["price", "long<br>name", "three<br>line<br>label"], y=["Wang"])
    )
    fig.update_layout(xaxis={"side": "top"})
    axis = _valid(vega.from_plotly(fig))["layer"][0]["encoding"]["x"]["axis"]
    # every label padded to three lines (blank ones first), lifted by two lines
    assert f"{vega.NARROW_PX} ? join(split(datum.label" in axis["labelExpr"]
    assert "slice('\\n\\n', 0, 3 - length(split(datum.label, '\\n')))" in axis["labelExpr"]
    assert axis["labelPadding"] == {"expr": f"width < {vega.NARROW_PX} ? 2 : {2 * vega.LABEL_LINE_PX + 2}"}
    below = go.Figure(go.Heatmap(z=[[1, 2]], x=["a<br>b", "c"], y=["Wang"]))
    assert "labelPadding" not in _valid(vega.from_plotly(below))["layer"][0]["encoding"]["x"]["axis"]


def test_a_long_title_breaks_before_its_period_where_the_chart_is_narrower_than_the_title():
    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    fig.update_layout(title={"text": "主要主题各月占比（2026年4月 至 2026年10月）"})
    text = _valid(vega.from_plotly(fig, subtitle="source"))["title"]["text"]
    assert text["expr"].startswith(
        f"width < {vega._text_width('主要主题各月占比（2026年4月 至 2026年10月）', 17)} ? "
    )
    assert "['主要主题各月占比', '（2026年4月 至 2026年10月）']" in text["expr"]
    fig.update_layout(title={"text": "Share by month"})
    assert _valid(vega.from_plotly(fig))["title"]["text"] == "Share by month"


def test_a_twelve_month_axis_keeps_six_labels_and_the_last_month_among_them():
    # Vega-Lite hid every other of twelve month labels, the last month's among them.
    months = [f"{m}-01" for m in pd.period_range("2025-11", "2026-10", freq="M").astype(str)]
    fig = go.Figure(go.Scatter(x=months, y=list(range(12))))
    localise_dates(fig, "zh")
    spec = _valid(vega.from_plotly(fig))
    x = (spec.get("encoding") or spec["layer"][0]["encoding"])["x"]
    values = x["axis"]["values"]
    assert len(values) == 6
    assert values[-1] == {"year": 2026, "month": 10, "date": 1, "utc": True}
    assert values[0] == {"year": 2025, "month": 12, "date": 1, "utc": True}


def test_a_bar_trace_without_values_leaves_the_axis_a_number_axis_and_draws_no_bar():
    """The satisfaction drivers of a store's month without low scores: the first trace (share
    unsatisfied after a low score) had no value, and its percent axis became a category axis
    labelled 0.0743801652892562, its empty bars drawn across the whole plot."""
    fig = go.Figure()
    fig.add_bar(orientation="h", y=["Attitude", "Price"], x=[None, None], name="low", text=["—", "—"])
    fig.add_bar(orientation="h", y=["Attitude", "Price"], x=[0.074, None], name="other", text=["7.4%", "—"])
    fig.update_layout(barmode="group", xaxis={"tickformat": ".0%", "range": [0, 0.7]})
    spec = _valid(vega.from_plotly(fig, subtitle="source"))
    x = spec["layer"][0]["encoding"]["x"]
    assert x["type"] == "quantitative" and x["axis"]["format"] == ".0%"
    assert x["scale"]["domain"] == [0, 0.7]
    assert [r["x"] for r in _rows(spec, 0) if r["x"] is not None] == [0.074]


def test_the_last_month_label_of_a_date_axis_is_not_cut_off_at_the_right_edge():
    """The satisfaction and NPS charts end their date axis half a month after the last month, so
    the last label ("2026-10"), centred on its tick, reaches past the plot: the chart keeps room
    on its right for half of it (found in a headless-Chromium screenshot: "2026-1")."""
    from ui.satisfaction_figures import month_axis

    months = [f"2025-{m:02d}" for m in range(11, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]
    fig = go.Figure(go.Scatter(x=[f"{m}-01" for m in months], y=[0.9] * len(months), mode="lines+markers"))
    fig.update_layout(xaxis=month_axis(months))
    spec = _valid(vega.from_plotly(fig))
    label = vega._text_width("2026-10", 11)  # Vega-Lite's axis labels are 11 px
    assert spec["padding"]["right"] >= label / 2


def test_category_labels_slant_only_when_they_would_run_into_each_other():
    """Three short horizons stay level in half a desktop page (they were slanted below 480 px,
    seen on the model card); ten long names slant on a desktop's width too."""
    short = go.Figure(go.Bar(x=["30 days", "60 days", "90 days"], y=[0.88, 0.87, 0.86]))
    angle = _valid(vega.from_plotly(short))["layer"][0]["encoding"]["x"]["axis"]["labelAngle"]["expr"]
    assert int(angle.split("<")[1].split("?")[0]) < 430  # a plot in one of two columns of a desktop page
    names = [f"服务顾问第{i}号很长的名字" for i in range(10)]
    long = go.Figure(go.Bar(x=names, y=list(range(10))))
    angle = _valid(vega.from_plotly(long))["layer"][0]["encoding"]["x"]["axis"]["labelAngle"]["expr"]
    assert int(angle.split("<")[1].split("?")[0]) > 900


def test_labels_over_a_heatmap_keep_the_phone_rule():
    """A heatmap's column labels above the plot (the praise board's themes, one line each in Chinese)
    lie level on a desktop: the width rule for labels under bars slanted all ten there."""
    themes = [
        "客休室/环境",
        "取送车",
        "专业/技术",
        "服务态度",
        "价格/收费透明",
        "洗车",
        "预约",
        "用餐/茶点",
        "回访",
        "新车交付/销售",
    ]
    fig = go.Figure(go.Heatmap(x=themes, y=["陈静", "张伟"], z=[list(range(10)), list(range(10))]))
    fig.update_xaxes(side="top")
    axis = _valid(vega.from_plotly(fig))["layer"][0]["encoding"]["x"]["axis"]
    assert axis["labelAngle"] == {"expr": f"width < {vega.NARROW_PX} ? -45 : 0"}
    # Each centred over its own cell while level: Vega-Lite started them at the cell's centre,
    # so each label stood over the next cell (seen on the praise board in Chromium).
    assert axis["labelAlign"] == {"expr": f"width < {vega.NARROW_PX} ? 'left' : 'center'"}
