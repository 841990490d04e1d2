"""One plotly theme for every chart, drawn with fonts that cover Chinese, and chart display with exports."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from analytics.core.months import month_end, parse_month
from analytics.domain import facts
from analytics.reports import chart_export
from ui.data import load
from ui.i18n import lang, t

FONT_FAMILY = chart_export.FONT_FAMILY
COLORS = ["#1f5fa8", "#e07b39", "#2a9d8f", "#c8553d", "#7b6ca8", "#8d99ae", "#e9c46a", "#264653"]
GOOD, BAD, NEUTRAL, MUTED = "#2a9d8f", "#c8553d", "#1f5fa8", "#b8bec6"

_DASHBOARD = go.layout.Template(
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
# The trace types and layout parts the dashboard draws; the rest of plotly_white (3D scenes,
# maps, polar and ternary axes, twenty other trace types) only made every chart's message
# heavier (7.5 kB of template a chart) and slower to build and to draw.
TEMPLATE_TRACES = ("bar", "scatter", "heatmap", "histogram", "pie", "box")
_UNUSED_LAYOUT = ("polar", "ternary", "scene", "geo", "mapbox", "map")


def _lean_template() -> go.layout.Template:
    merged = pio.templates.merge_templates(pio.templates["plotly_white"], _DASHBOARD).to_plotly_json()
    merged["data"] = {k: v for k, v in merged.get("data", {}).items() if k in TEMPLATE_TRACES}
    merged["layout"] = {k: v for k, v in merged["layout"].items() if k not in _UNUSED_LAYOUT}
    return go.layout.Template(merged)


# Merged once into one named template: a "plotly_white+dashboard" default is merged again for
# every figure, which cost about 0.1 s a chart (ten times the drawing of the figure itself).
pio.templates["dashboard"] = _lean_template()
pio.templates.default = "dashboard"


def export_name(*parts: str | None) -> str:
    """Return a file-name stem from page, metric, period and store parts (safe characters only)."""
    joined = "_".join(p for p in parts if p)
    return re.sub(r"[^\w\-]+", "-", joined, flags=re.UNICODE).strip("-") or "chart"


# Month tick labels: 2026-01 in English, 2026年1月 in Chinese (plotly's own would be "Jan 2026").
MONTH_FORMAT = {"en": "%Y-%m", "zh": "%Y年%-m月"}
DAY_FORMAT = {"en": "%Y-%m-%d", "zh": "%Y年%-m月%-d日"}
MAX_MONTH_TICKS = 12
_DATE_TEXT = re.compile(r"^\d{4}-\d{2}(-\d{2})?([ T]00:00(:00)?)?$")


def _axis_dates(values: list[Any]) -> pd.DatetimeIndex | None:
    # The trace's x values as dates, or None when they are not all dates (categories, numbers).
    if not values:
        return None
    if all(isinstance(v, str) for v in values):
        if not all(_DATE_TEXT.match(v) for v in values):
            return None
    elif not all(isinstance(v, (date, pd.Timestamp)) for v in values):
        try:
            if not pd.api.types.is_datetime64_any_dtype(pd.Series(values)):
                return None
        except (TypeError, ValueError):
            return None
    try:
        return pd.DatetimeIndex(pd.to_datetime(pd.Series(values).astype(str), format="mixed"))
    except (TypeError, ValueError):
        return None


def localise_dates(fig: go.Figure, language: str) -> None:
    """Label every date x axis in ``language`` (2026-01 / 2026年1月); a monthly axis gets one tick per
    month (at most twelve, the last month always among them), so its last label is the data's end."""
    by_axis: dict[str, list[Any]] = {}
    for trace in fig.data:
        x = getattr(trace, "x", None)
        if x is None or getattr(trace, "orientation", None) == "h":
            continue
        by_axis.setdefault(getattr(trace, "xaxis", None) or "x", []).extend(list(x))
    for axis_id, values in by_axis.items():
        name = "xaxis" + axis_id[1:]
        axis = fig.layout[name]
        if axis.type not in (None, "-", "date") or axis.tickvals is not None:
            continue
        dates = _axis_dates(values)
        if dates is None:
            continue
        monthly = bool((dates.day == 1).all() and (dates.hour == 0).all())
        if not monthly:
            fig.layout[name].update(tickformat=DAY_FORMAT[language], hoverformat=DAY_FORMAT[language])
            continue
        months = sorted(set(dates.to_period("M")))
        step = -(-len(months) // MAX_MONTH_TICKS)
        ticks = months[::-1][::step][::-1]
        fig.layout[name].update(
            type="date",
            tickvals=[m.to_timestamp().strftime("%Y-%m-%d") for m in ticks],
            ticktext=[m.to_timestamp().strftime(MONTH_FORMAT[language]) for m in ticks],
            hoverformat=MONTH_FORMAT[language],
        )


def scope_note() -> str:
    """Return the line that says which stores and which data a chart shows ("杭州西湖店 · 数据截至 2026-10-31")."""
    chosen = st.session_state.get("stores") or []
    all_stores = load(facts.stores)
    stores = (
        "、".join(chosen) if chosen else (all_stores[0] if len(all_stores) == 1 else t("sidebar.all_stores"))
    )
    last = str(load(facts.data_summary).get("last_visit") or "")[:10]
    month = st.session_state.get("month")
    as_of = last
    if month and re.fullmatch(r"\d{4}-\d{2}", str(month)):
        last_day = month_end(parse_month(str(month))).isoformat()
        as_of = min(last_day, last) if last else last_day
    return t("chart.scope", stores=stores, as_of=as_of)


_warmed = threading.Event()


@lru_cache(maxsize=16)
def _image(figure_json: str, title: str | None, source: str, note: str, fmt: str) -> bytes:
    # Keyed by the figure itself, so a second click on the same chart costs nothing.
    laid_out = chart_export.for_export(pio.from_json(figure_json), title, source, note)
    return chart_export.render([(laid_out, fmt)])[0]


def _deferred(figure_json: str, title: str | None, source: str, note: str, fmt: str) -> Callable[[], bytes]:
    return lambda: _image(figure_json, title, source, note, fmt)


# Seconds after the first chart is shown before the image browser starts: not while the page's
# own charts are being drawn, but well before anyone opens the menu and clicks.
WARM_UP_DELAY_S = 30.0


def image_downloads(fig: go.Figure | str, name: str, *, title: str | None, key: str) -> None:
    """Offer the chart as a slide-sized PNG (2x) and SVG drawn on the server, only when clicked,
    with the stores and the as-of date under the title.

    The server keeps one Chromium for the images, started in the background soon after the
    first chart is shown. Without Chromium the control says how to install it instead.
    ``fig`` may be the figure's JSON already (``show`` passes it: a JSON string is cheaper than a
    copy of the figure, about 50 ms a chart).
    """
    with st.popover(t("export.chart_menu"), icon=":material/image:", help=t("export.chart_help")):
        if chart_export.chromium_path() is None:
            st.warning(chart_export.install_hint(lang()))
            return
        # Only for a browser (a script run without one, as in AppTest, has no request headers).
        if not _warmed.is_set() and st.context.headers:
            _warmed.set()
            chart_export.warm_up(WARM_UP_DELAY_S)
        figure_json = fig if isinstance(fig, str) else fig.to_json()
        source = t("chart.source")
        note = scope_note()
        for fmt in chart_export.FORMATS:
            st.download_button(
                t(f"export.save_{fmt}"),
                _deferred(figure_json, title, source, note, fmt),
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
    localise_dates(fig, lang())
    exported = fig.to_json()  # before the on-screen source line, which the export lays out itself
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
