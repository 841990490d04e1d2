"""The deck's charts as images (PNG/SVG) for whoever builds slides by hand."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import plotly.graph_objects as go

from analytics.reports import chart_export
from analytics.reports.deck.data import DeckData
from analytics.reports.deck.rendering import INK, MUTED, _series_color, footer_line
from analytics.reports.deck.slides import Chart, Slide


def chart_figure(spec: Chart) -> go.Figure:
    """Return a plotly figure drawing the same chart (for PNG/SVG exports)."""
    fig = go.Figure()
    percent = "%" in spec.number_format
    for i, s in enumerate(spec.series):
        color = "#" + str(_series_color(spec, i))
        if spec.kind == "line":
            error = None
            if s.low is not None and s.high is not None:
                error = {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        None if v is None or h is None else h - v
                        for v, h in zip(s.values, s.high, strict=True)
                    ],
                    "arrayminus": [
                        None if v is None or lo is None else v - lo
                        for v, lo in zip(s.values, s.low, strict=True)
                    ],
                    "color": "#" + MUTED,
                }
            fig.add_scatter(
                x=spec.categories,
                y=s.values,
                name=s.name,
                mode="lines" if s.dashed else "lines+markers",
                line={"color": color, "dash": "dash" if s.dashed else "solid"},
                error_y=error,
            )
        elif spec.kind == "bar":
            fig.add_bar(y=spec.categories, x=s.values, name=s.name, orientation="h", marker_color=color)
        else:
            fig.add_bar(x=spec.categories, y=s.values, name=s.name, marker_color=color)
    value_axis = {
        "tickformat": ".0%" if percent else ",",
        "rangemode": "tozero" if spec.axis_min == 0 else "normal",
    }
    # Months stay categories: as dates plotly would relabel them in English ("Sep 2026").
    category_axis = {"type": "category"}
    if spec.kind == "bar":
        fig.update_layout(
            xaxis=value_axis, yaxis={**category_axis, "autorange": "reversed", "ticksuffix": "  "}
        )
    else:
        fig.update_layout(xaxis=category_axis, yaxis=value_axis)
    fig.update_layout(
        template="plotly_white",
        barmode="group",
        showlegend=len(spec.series) > 1,
        font={"family": chart_export.FONT_FAMILY, "size": 16, "color": "#" + INK},
    )
    return fig


def deck_figures(
    slides: Sequence[Slide], month: str, stores: Sequence[str] | None
) -> dict[str, tuple[go.Figure, str]]:
    """Return ``{file stem: (figure, title)}`` for every chart of the deck, named by page, metric, period and store."""
    scope = "-".join(stores) if stores else "all"
    out: dict[str, tuple[go.Figure, str]] = {}
    for page, s in enumerate(slides, start=1):
        for spec in s.charts:
            stem = chart_export.file_stem(f"deck_{page:02d}-{s.key}", spec.key, month, scope)
            out[stem] = (chart_figure(spec), spec.title)
    return out


def write_chart_images(slides: Sequence[Slide], d: DeckData, lang: str, folder: str | Path) -> list[Path]:
    """Write every chart of the deck as PNG (2x) and SVG, titled and with the source line; return the paths."""
    source = footer_line(d, lang)
    laid_out = {
        stem: chart_export.for_export(fig, title, source)
        for stem, (fig, title) in deck_figures(slides, d.month, d.stores).items()
    }
    return chart_export.write_images(laid_out, folder)
