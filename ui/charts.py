"""One plotly theme for every chart, drawn with fonts that cover Chinese; charts shown on screen
(with Vega-Lite) and saved as images (with plotly)."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from analytics.core.auth import mask_text
from analytics.core.months import month_end, parse_month
from analytics.reports import chart_export
from analytics.reports.chart_export import mask_data
from ui import vega
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
    return chart_export.file_stem(*parts)


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


def _month_ends(dates: pd.DatetimeIndex) -> bool:
    """Whether the dates are one per month, each its month's last day (the latest may be any day
    of its month: a count as of the data's last day), at midnight, at least two months."""
    days = pd.DatetimeIndex(sorted(set(dates)))
    if len(days) < 2 or not (days.hour == 0).all() or days.to_period("M").has_duplicates:
        return False
    return bool(days[:-1].is_month_end.all())


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
        if not monthly and _month_ends(dates):
            # One point per month, on its last day (churn counted at each month-end; the last may
            # be the data's last day): one tick per month at its point, named by its month.
            days = sorted(set(dates.normalize()))
            step = -(-len(days) // MAX_MONTH_TICKS)
            shown = days[::-1][::step][::-1]
            fig.layout[name].update(
                type="date",
                tickvals=[d.strftime("%Y-%m-%d") for d in shown],
                ticktext=[d.strftime(MONTH_FORMAT[language]) for d in shown],
                # The month, as the ticks say (the Vega-Lite charts label their ticks with it).
                hoverformat=MONTH_FORMAT[language],
            )
            continue
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
    all_stores = load("facts.stores")
    stores = (
        "、".join(chosen) if chosen else (all_stores[0] if len(all_stores) == 1 else t("sidebar.all_stores"))
    )
    last = str(load("facts.summary").get("last_visit") or "")[:10]
    month = st.session_state.get("month")
    as_of = last
    if month and re.fullmatch(r"\d{4}-\d{2}", str(month)):
        last_day = month_end(parse_month(str(month))).isoformat()
        as_of = min(last_day, last) if last else last_day
    # Store names are data: a mobile typed into one is masked, as in every chart (the line goes on
    # charts and on downloads every role may take).
    return t("chart.scope", stores=str(mask_text(stores)), as_of=as_of)


def _draw_image(figure_json: str, title: str | None, source: str, note: str, fmt: str) -> bytes:
    laid_out = chart_export.for_export(pio.from_json(figure_json), title, source, note)
    return chart_export.render([(laid_out, fmt)])[0]


# Chart images are drawn on the server one at a time (the kept Chromium draws one at a time), each
# kept by the figure, title and scope it shows: a second click costs nothing, and a click on an
# image already being drawn waits for that drawing instead of starting another. A drawing that
# failed is tried again on the next click.
KEPT_IMAGES = 16
_images: OrderedDict[tuple[str, str, str, str, str], Future[bytes]] = OrderedDict()
_images_lock = threading.Lock()
_drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chart-image")


def _image(figure_json: str, title: str | None, source: str, note: str, fmt: str) -> Future[bytes]:
    key = (figure_json, title or "", source, note, fmt)
    with _images_lock:
        future = _images.get(key)
        if future is None or (future.done() and future.exception() is not None):
            future = _drawer.submit(_draw_image, figure_json, title, source, note, fmt)
            _images[key] = future
        _images.move_to_end(key)
        while len(_images) > KEPT_IMAGES:
            _images.popitem(last=False)
    return future


def _deferred(figure_json: str, title: str | None, source: str, note: str, fmt: str) -> Callable[[], bytes]:
    return lambda: _image(figure_json, title, source, note, fmt).result(timeout=chart_export.RENDER_TIMEOUT_S)


_charts_shown = threading.Event()
_image_browser_started = threading.Event()


def start_image_browser() -> None:
    """Start the chart images' Chromium in the background once a page with charts has been served
    to a browser (``app.py`` calls this after every page): the first image then comes in under a
    second instead of waiting seconds for Chromium to start."""
    # Only for a browser: a script run without one, as in AppTest, has no request headers.
    if _charts_shown.is_set() and not _image_browser_started.is_set() and st.context.headers:
        _image_browser_started.set()
        chart_export.warm_up()


def image_downloads(figure_json: str, name: str, *, title: str | None, key: str) -> None:
    """Offer the chart as a slide-sized PNG (2x) and SVG drawn on the server when clicked, with the
    stores and the as-of date under the title. Without Chromium the menu says how to install it.

    The menu reruns nothing when opened: its buttons are drawn with the page. (Drawing them only
    in a rerun that opening starts left a button from an earlier opening on screen for a moment
    when the menu was closed and opened again quickly; a click on it fetched nothing.)
    """
    with st.popover(t("export.chart_menu"), icon=":material/image:", help=t("export.chart_help")):
        if chart_export.chromium_path() is None:
            st.warning(chart_export.install_hint(lang()))
            return
        source, note = t("chart.source"), scope_note()
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


def show(fig: go.Figure, name: str, *, title: str | None = None, key: str | None = None) -> None:
    """Draw a chart with the theme (on screen with Vega-Lite, ``ui.vega``) and the PNG/SVG menu
    whose images plotly draws on the server with the title, scope and source line."""
    if title:
        fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"})
    localise_dates(fig, lang())
    mask_data(fig)
    source = t("chart.source")
    # Vega-Lite shows data text as text; the image's plotly, as HTML: for_export escapes it there.
    spec = vega.from_plotly(fig, subtitle=source, font=FONT_FAMILY)
    exported = fig.to_json()
    st.vega_lite_chart(spec, theme=None, width="stretch", key=key or name)
    _charts_shown.set()
    image_downloads(exported, name, title=title, key=f"{key or name}_image")
