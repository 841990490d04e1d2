"""One plotly theme for every chart, drawn with fonts that cover Chinese, and chart display."""

from __future__ import annotations

import re

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from ui.i18n import t

FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, SimHei, sans-serif"
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


def show(fig: go.Figure, name: str, *, title: str | None = None, key: str | None = None) -> None:
    """Draw a chart with the theme and a toolbar that saves a slide-sized PNG at 2x."""
    if title:
        fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"})
    fig.add_annotation(
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
