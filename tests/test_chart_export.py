"""Server-side chart images (kaleido with the system Chromium) and the chart control under every chart."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from analytics.reports import chart_export, deck

needs_chromium = pytest.mark.skipif(
    chart_export.chromium_path() is None, reason="no Chromium on this machine"
)
TITLE = "满意率 · 2026-09"
SOURCE = "数据来源：DMS 工单与回访记录"


def _figure() -> go.Figure:
    return go.Figure(go.Bar(x=["服务态度", "维修质量"], y=[0.91, 0.87], name="满意率"))


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_export_layout_puts_title_and_one_source_line_on_a_slide_sized_page():
    fig = _figure()
    fig.add_annotation(name="source", text=SOURCE, x=1, y=-0.2, xref="paper", yref="paper", showarrow=False)
    out = chart_export.for_export(fig, TITLE, SOURCE)
    assert (out.layout.width, out.layout.height) == (1600, 900)
    assert out.layout.title.text == TITLE
    assert [a.text for a in out.layout.annotations] == [SOURCE]
    assert out.layout.margin.b >= 130 and out.layout.margin.t >= 90
    assert len(fig.layout.annotations) == 1 and fig.layout.title.text is None  # the original is untouched


@needs_chromium
def test_png_is_twice_the_slide_and_svg_is_the_slide_with_title_and_source():
    images = chart_export.chart_images(_figure(), TITLE, SOURCE)
    assert _png_size(images["png"]) == (3200, 1800)
    svg = images["svg"].decode("utf-8")
    assert svg.startswith("<svg") and 'viewBox="0 0 1600 900"' in svg
    assert re.search(r'width="1600"', svg) and re.search(r'height="900"', svg)
    assert TITLE in svg and SOURCE in svg and "服务态度" in svg


@needs_chromium
def test_deck_charts_are_written_as_png_and_svg_with_meaningful_names(tmp_path: Path):
    spec = deck.Chart(
        "satisfaction-rate",
        "line",
        "满意率",
        ["2026-08", "2026-09"],
        [deck.Series("满意率", [0.9, 0.88], low=[0.87, 0.85], high=[0.93, 0.91])],
        "0%",
    )
    slides = [deck.Slide("satisfaction", "满意度趋势", "", charts=[spec])]
    figures = deck.deck_figures(slides, "2026-09", ["杭州西湖店"])
    assert list(figures) == ["deck_01-satisfaction_satisfaction-rate_2026-09_杭州西湖店"]
    laid_out = {stem: chart_export.for_export(fig, title, SOURCE) for stem, (fig, title) in figures.items()}
    paths = chart_export.write_images(laid_out, tmp_path)
    assert [p.name for p in paths] == [
        "deck_01-satisfaction_satisfaction-rate_2026-09_杭州西湖店.png",
        "deck_01-satisfaction_satisfaction-rate_2026-09_杭州西湖店.svg",
    ]
    assert _png_size(paths[0].read_bytes()) == (3200, 1800)
    assert paths[1].stat().st_size > 1000


def test_a_store_name_with_slashes_names_deck_images_inside_the_folder_asked_for(tmp_path: Path, monkeypatch):
    """Store names come from imported files: `杭州/西湖店` went into the image's file name as a folder
    (a traceback for a missing folder), and `../../x` wrote outside `--images DIR`."""
    monkeypatch.setattr(chart_export, "render", lambda jobs: [b"image"] * len(jobs))
    spec = deck.Chart(
        "satisfaction-rate", "line", "满意率", ["2026-09"], [deck.Series("满意率", [0.9])], "0%"
    )
    slides = [deck.Slide("satisfaction", "满意度趋势", "", charts=[spec])]
    folder = tmp_path / "images"
    figures = deck.deck_figures(slides, "2026-09", ["../../杭州/西湖店"])
    paths = chart_export.write_images({stem: fig for stem, (fig, _) in figures.items()}, folder)
    assert [p.name for p in paths] == [
        "deck_01-satisfaction_satisfaction-rate_2026-09_杭州-西湖店.png",
        "deck_01-satisfaction_satisfaction-rate_2026-09_杭州-西湖店.svg",
    ]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        f"images/{p.name}" for p in paths
    ]


def test_missing_chromium_is_refused_with_the_install_command(monkeypatch):
    monkeypatch.setattr(chart_export, "chromium_path", lambda: None)
    with pytest.raises(chart_export.ChromiumMissing, match="apt-get install chromium fonts-noto-cjk"):
        chart_export.render([(_figure(), "png")])
    assert chart_export.install_hint("zh").endswith("apt-get install chromium fonts-noto-cjk")


def test_unknown_image_format_is_refused():
    with pytest.raises(chart_export.UserError, match="png or svg"):
        chart_export.render([(_figure(), "gif")])


CHART_SCRIPT = """
import plotly.graph_objects as go
import streamlit as st
from ui.charts import show

st.session_state.setdefault("lang", "zh")
show(go.Figure(go.Bar(x=["a"], y=[1])), "satisfaction_rate_2026-09_all", title="满意率")
"""


def _run_chart_script() -> AppTest:
    at = AppTest.from_string(CHART_SCRIPT, default_timeout=30)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@needs_chromium
def test_every_chart_offers_png_and_svg_downloads_computed_on_click():
    at = _run_chart_script()
    assert len(at.get("vega_lite_chart")) == 1
    buttons = at.get("download_button")
    assert [b.proto.label for b in buttons] == ["保存 PNG", "保存 SVG"]
    assert not at.warning


def test_chart_control_says_how_to_install_chromium_when_it_is_missing(monkeypatch):
    monkeypatch.setattr(chart_export, "chromium_path", lambda: None)
    at = _run_chart_script()
    assert len(at.get("vega_lite_chart")) == 1
    assert not at.get("download_button")
    assert "apt-get install chromium fonts-noto-cjk" in at.warning[0].value
