"""One plotly theme for every chart, drawn with fonts that cover Chinese, and chart display with exports."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import lru_cache

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from analytics import chart_export
from ui.i18n import lang, t

FONT_FAMILY = chart_export.FONT_FAMILY
COLORS = ["#1f5fa8", "#e07b39", "#2a9d8f", "#c8553d", "#7b6ca8", "#8d99ae", "#e9c46a", "#264653"]
GOOD, BAD, NEUTRAL, MUTED = "#2a9d8f", "#c8553d", "#1f5fa8", "#b8bec6"

pio.templates["dashboard"] = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT_FAMILY, "size": 13, "color": "#222"},
        colorway=COLORS,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        xaxis={"gridcolor": "#eceff3", "zeroline": False},
        yaxis={"gridcolor": "#eceff3", "zeroline": False},
        legend={"orientation": "h", "y": -0.18},
        hoverlabel={"font": {"family": FONT_FAMILY}},
    )
)
pio.templates.default = "plotly_white+dashboard"


def export_name(*parts: str | None) -> str:
    """Return a file-name stem from page, metric, period and store parts (safe characters only)."""
    joined = "_".join(p for p in parts if p)
    return re.sub(r"[^\w\-]+", "-", joined, flags=re.UNICODE).strip("-") or "chart"


@lru_cache(maxsize=16)
def _image(figure_json: str, title: str | None, source: str, fmt: str) -> bytes:
    # Keyed by the figure itself, so a second click on the same chart costs nothing.
    laid_out = chart_export.for_export(pio.from_json(figure_json), title, source)
    return chart_export.render([(laid_out, fmt)])[0]


def _deferred(figure_json: str, title: str | None, source: str, fmt: str) -> Callable[[], bytes]:
    return lambda: _image(figure_json, title, source, fmt)


def image_downloads(fig: go.Figure, name: str, *, title: str | None, key: str) -> None:
    """Offer the chart as a slide-sized PNG (2x) and SVG drawn on the server, only when clicked.

    Without Chromium the control says how to install it instead.
    """
    with st.popover(t("export.chart_menu"), icon=":material/image:", help=t("export.chart_help")):
        if chart_export.chromium_path() is None:
            st.warning(chart_export.install_hint(lang()))
            return
        figure_json = fig.to_json()
        source = t("chart.source")
        for fmt in chart_export.FORMATS:
            st.download_button(
                t(f"export.save_{fmt}"),
                _deferred(figure_json, title, source, fmt),
                file_name=f"{name}.{fmt}",
                mime=chart_export.MIME[fmt],
                key=f"{key}_{fmt}",
                on_click="ignore",
                icon=":material/download:",
            )


# Trace attributes that carry data (advisor names on an axis, store names in a legend): plotly
# draws <a href>, <b> and entities in them, so their text is HTML-escaped.
_DATA_TEXT = ("x", "y", "labels", "text", "hovertext", "name", "ids", "parents")


def _escaped(value: object) -> object:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if isinstance(value, (list, tuple)) or kind in ("O", "U", "T"):
        return [html.escape(v, quote=False) if isinstance(v, str) else v for v in value]  # type: ignore[union-attr]
    return value


def escape_data(fig: go.Figure) -> go.Figure:
    """Escape the text of every trace's data (and the category order naming it) so plotly shows a
    name such as ``<a href=...>`` as text."""
    for trace in fig.data:
        for attr in _DATA_TEXT:
            value = trace[attr] if attr in trace else None
            if value is not None:
                trace[attr] = _escaped(value)
    for axis_name in [k for k in fig.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        axis = fig.layout[axis_name]
        for attr in ("categoryarray", "ticktext", "tickvals"):
            if axis[attr] is not None:
                axis[attr] = _escaped(axis[attr])
    return fig


def show(fig: go.Figure, name: str, *, title: str | None = None, key: str | None = None) -> None:
    """Draw a chart with the theme, a toolbar that saves a slide-sized PNG at 2x, and PNG/SVG downloads
    drawn on the server with the title and source line in the image."""
    escape_data(fig)
    if title:
        fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"})
    exported = go.Figure(fig)
    fig.add_annotation(
        name="source",
        text=t("chart.source"),
        xref="paper",
        yref="paper",
        x=1,
        y=-0.22,
        showarrow=False,
        xanchor="right",
        font={"size": 10, "color": "#888"},
    )
    st.plotly_chart(
        fig,
        key=key or name,
        theme=None,
        config={
            "displaylogo": False,
            "toImageButtonOptions": {
                "format": "png",
                "filename": name,
                "width": 1600,
                "height": 900,
                "scale": 2,
            },
        },
    )
    image_downloads(exported, name, title=title, key=f"{key or name}_image")
