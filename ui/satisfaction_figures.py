"""Figures of the satisfaction page: rate and NPS with their bands and limits, dimensions, drivers,
breakdowns. Each takes the analytics result and returns a plotly figure; the page draws it."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go

from analytics.core.config import settings
from analytics.core.months import parse_month
from analytics.domain import satisfaction as sat
from ui.charts import BAD, GOOD, MUTED, NEUTRAL
from ui.formatting import format_ratio, kpi_value
from ui.i18n import t
from ui.themes_figures import wrap
from ui.widgets import field_label

SMALL_N = settings().display.small_n
LOW_SCORE = settings().kpi.dimension_low_score
BAND = "rgba(31, 95, 168, 0.15)"
LIMIT = "#7a828c"
TOP = 105  # room above a chart for its title and a two-row legend


def pct(value: float | None) -> str:
    """Return a share as a percentage with one decimal, or a dash (the one KPI formatter)."""
    return kpi_value("satisfaction_rate", value)


def signed(value: float | None) -> str:
    """Return an NPS value with its sign and one decimal, or a dash (the one KPI formatter)."""
    return kpi_value("nps", value)


def dim_label(dimension: str) -> str:
    """Return a dimension's name in the session's language."""
    return field_label(f"{dimension}_score")


def month_axis(months: list[str]) -> dict:
    """Return a date x-axis over the trend window: every month up to six, then evenly spaced, the focus
    month always labelled."""
    start, end = months[0], months[-1]
    step = max(1, round(len(months) / 6))
    pad = timedelta(days=15)
    return {
        "type": "date",
        "tickformat": "%Y-%m",
        "dtick": f"M{step}",
        "tick0": parse_month(end).isoformat(),
        "range": [(parse_month(start) - pad).isoformat(), (parse_month(end) + pad).isoformat()],
        "title": None,
    }


def lay_out(fig: go.Figure, height: int, per_row: int = 0, **layout) -> go.Figure:
    """Give a chart its height, the title and legend (``per_row`` entries a row, 0: as they fit) above the
    plot, and room below it for the source line."""
    bottom = int((0.22 * (height - TOP) + 20) / 1.22)  # ui.charts.show writes the source at y = -0.22
    fig.update_layout(
        height=height,
        title={"y": 1 - 14 / height, "yanchor": "top"},
        legend={
            "orientation": "h",
            "x": 0,
            "y": 1.02,
            "yanchor": "bottom",
            **({"entrywidth": 1 / per_row - 0.01, "entrywidthmode": "fraction"} if per_row else {}),
        },
        margin={"t": TOP, "b": bottom, "l": 60, "r": 30},
    )
    return fig.update_layout(**layout)


def rate_figure(monthly, months: list[str]) -> go.Figure:
    """Return the monthly satisfaction rate with its Wilson band, p-chart limits and signals marked."""
    x = monthly["month"].tolist()
    hover = [
        t("satisfaction.hover_rate", month=m, rate=pct(r), n=f"{n:,}", low=pct(lo), high=pct(hi))
        for m, r, n, lo, hi in zip(
            x, monthly["rate"], monthly["n"], monthly["wilson_low"], monthly["wilson_high"], strict=True
        )
    ]
    fig = go.Figure()
    fig.add_scatter(
        x=x, y=monthly["wilson_high"], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"
    )
    fig.add_scatter(
        x=x,
        y=monthly["wilson_low"],
        mode="lines",
        line={"width": 0},
        fill="tonexty",
        fillcolor=BAND,
        name=t("satisfaction.legend_wilson"),
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=x,
        y=monthly["ucl"],
        mode="lines",
        line={"color": LIMIT, "dash": "dot", "shape": "hvh"},
        name=t("satisfaction.legend_limits"),
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=x,
        y=monthly["lcl"],
        mode="lines",
        line={"color": LIMIT, "dash": "dot", "shape": "hvh"},
        showlegend=False,
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=x,
        y=monthly["centre"],
        mode="lines",
        line={"color": LIMIT, "dash": "dash", "width": 1},
        name=t("satisfaction.legend_centre"),
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=x,
        y=monthly["rate"],
        mode="lines+markers",
        line={"color": NEUTRAL, "width": 2.5},
        marker={"size": 7},
        name=t("metric.satisfaction_rate"),
        text=hover,
        hovertemplate="%{text}<extra></extra>",
    )
    outside = [r if s else None for r, s in zip(monthly["rate"], monthly["signal"], strict=True)]
    signals = any(v is not None for v in outside)
    if signals:
        fig.add_scatter(
            x=x,
            y=outside,
            mode="markers",
            name=t("satisfaction.legend_signal"),
            marker={"color": BAD, "size": 13, "symbol": "diamond", "line": {"color": "white", "width": 1}},
            hoverinfo="skip",
        )
    return lay_out(
        fig, 430, 3 if signals else 2, yaxis={"tickformat": ".0%", "title": None}, xaxis=month_axis(months)
    )


def nps_figure(monthly, months: list[str]) -> go.Figure:
    """Return the monthly NPS with its 95% band."""
    x = monthly["month"].tolist()
    hover = [
        t("satisfaction.hover_nps", month=m, nps=signed(v), n=f"{n:,}", low=signed(lo), high=signed(hi))
        for m, v, n, lo, hi in zip(
            x, monthly["nps"], monthly["nps_n"], monthly["nps_low"], monthly["nps_high"], strict=True
        )
    ]
    fig = go.Figure()
    fig.add_scatter(
        x=x, y=monthly["nps_high"], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"
    )
    fig.add_scatter(
        x=x,
        y=monthly["nps_low"],
        mode="lines",
        line={"width": 0},
        fill="tonexty",
        fillcolor="rgba(42, 157, 143, 0.15)",
        name=t("satisfaction.legend_nps_band"),
        hoverinfo="skip",
    )
    fig.add_scatter(
        x=x,
        y=monthly["nps"],
        mode="lines+markers",
        line={"color": GOOD, "width": 2.5},
        marker={"size": 7},
        name="NPS",
        text=hover,
        hovertemplate="%{text}<extra></extra>",
    )
    return lay_out(fig, 430, yaxis={"tickformat": "+d", "title": None}, xaxis=month_axis(months))


def dimension_figure(scores, months: list[str]) -> go.Figure:
    """Return one line per dimension: its monthly mean score out of 10."""
    fig = go.Figure()
    for dimension in sat.DIMENSIONS:
        rows = [r for r in scores.to_dict("records") if r["dimension"] == dimension]
        fig.add_scatter(
            x=[r["month"] for r in rows],
            y=[r["mean"] for r in rows],
            mode="lines+markers",
            name=dim_label(dimension),
            customdata=[r["n"] for r in rows],
            hovertemplate=f"{dim_label(dimension)} %{{x|%Y-%m}}: %{{y:.2f}}/10 (n=%{{customdata:,}})<extra></extra>",
        )
    low = min([float(v) for v in scores["mean"].dropna()] or [0.0])
    return lay_out(
        fig,
        430,
        3,
        yaxis={"title": None, "range": [max(0.0, int(low * 2) / 2 - 0.5), 10.1]},
        xaxis=month_axis(months),
    )


def driver_figure(drivers) -> go.Figure:
    """Return, per dimension, the share unsatisfied when its score is low and when it is not."""
    rows = sorted(
        (r for r in drivers.to_dict("records") if r["method"] == "relative_risk"),
        key=lambda r: int(r["rank"]) if pd.notna(r["rank"]) else 99,
    )
    labels = [
        t("satisfaction.driver_label", dimension=dim_label(r["dimension"]), rr=format_ratio(r["effect"]))
        if pd.notna(r["effect"])
        else dim_label(r["dimension"])
        for r in rows
    ]
    fig = go.Figure()
    for key, colour, n_key in (("rate_low", BAD, "n_low"), ("rate_other", MUTED, "n_other")):
        fig.add_bar(
            orientation="h",
            y=labels,
            x=[r[key] for r in rows],
            name=t(f"satisfaction.legend_{key}", low=f"{LOW_SCORE:g}"),
            marker_color=colour,
            text=[f"{pct(r[key])} (n={int(r[n_key]):,})" if pd.notna(r[n_key]) else "" for r in rows],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    top = max([r["rate_low"] for r in rows if pd.notna(r["rate_low"])] or [0.5])
    return lay_out(
        fig,
        430,
        barmode="group",
        xaxis={"tickformat": ".0%", "title": None, "range": [0, min(1.0, top * 1.3 + 0.05)]},
        yaxis={"categoryorder": "array", "categoryarray": labels, "autorange": "reversed"},
    )


POSITION_STYLE = {
    "below": (BAD, "circle"),
    "above": (GOOD, "circle"),
    "inside": (NEUTRAL, "circle"),
    "small": (MUTED, "circle-open"),
}


def breakdown_figure(table, overall: float | None) -> go.Figure:
    """Return each segment's rate with its 95% interval, coloured by where it lies against the overall rate."""
    # A long name ("no advisor (delivery calls, work order not imported or left blank)") on lines
    # that fit beside the plot instead of ending in "…".
    labels = [
        wrap((f"{int(r['rank'])}. " if pd.notna(r["rank"]) else "") + f"{r['label']} (n={int(r['n']):,})", 40)
        for r in table.to_dict("records")
    ]
    fig = go.Figure()
    for position, (colour, symbol) in POSITION_STYLE.items():
        rows = [
            (label, r)
            for label, r in zip(labels, table.to_dict("records"), strict=True)
            if r["position"] == position
        ]
        if not rows:
            continue
        fig.add_scatter(
            y=[label for label, _ in rows],
            x=[r["rate"] for _, r in rows],
            mode="markers",
            name=t(f"satisfaction.position_{position}", n=SMALL_N),
            marker={"color": colour, "size": 11, "symbol": symbol, "line": {"width": 2, "color": colour}},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [r["wilson_high"] - r["rate"] for _, r in rows],
                "arrayminus": [r["rate"] - r["wilson_low"] for _, r in rows],
                "color": colour,
                "thickness": 1.5,
                "width": 4,
            },
            text=[
                t(
                    "satisfaction.hover_segment",
                    rate=pct(r["rate"]),
                    low=pct(r["wilson_low"]),
                    high=pct(r["wilson_high"]),
                    n=f"{int(r['n']):,}",
                )
                for _, r in rows
            ],
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    if overall is not None:
        fig.add_vline(x=overall, line={"color": LIMIT, "dash": "dash", "width": 1})
        fig.add_annotation(
            x=overall,
            y=0,
            yref="paper",
            yanchor="top",
            yshift=-22,
            showarrow=False,
            text=t("satisfaction.overall_line", rate=pct(overall)),
            font={"size": 11, "color": LIMIT},
        )
    return lay_out(
        fig,
        max(320, 38 * len(table) + 170),
        2,
        # Up to 100%, the highest a rate (and its interval) can be: no tick for 102%.
        xaxis={"tickformat": ".0%", "title": None, "range": [None, 1.0]},
        yaxis={
            "categoryorder": "array",
            "categoryarray": labels,
            "autorange": "reversed",
            "type": "category",
        },
    )
