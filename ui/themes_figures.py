"""Figures of the themes page: theme bars, trends, the praise board and complaint hotspots.

Each takes the analytics result (and the label column of the session's language) and returns a
plotly figure; the page draws it."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.domain import themes
from ui.charts import BAD, COLORS, MUTED, NEUTRAL
from ui.i18n import t

# Praise in blue, complaints in red; discovered themes stand out in a second colour.
SOURCE_COLORS = {
    "praise": {"lexicon": NEUTRAL, "discovered": COLORS[1], themes.SMALL: MUTED},
    "complaint": {"lexicon": BAD, "discovered": COLORS[4], themes.SMALL: MUTED},
}


def pct(value: float) -> str:
    """Return a share as a percentage with one decimal."""
    return f"{value:.1%}"


def _width(text: str) -> int:
    # A Chinese character takes about two Latin letters' width.
    return sum(2 if ord(c) >= 0x2E80 else 1 for c in text)


def wrap(label: str, width: int = 12) -> str:
    """Return a label broken into lines of about ``width`` Latin letters at spaces, for chart axes."""
    lines: list[str] = []
    for word in label.split(" "):
        if lines and _width(lines[-1]) + 1 + _width(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def bar_label(row: pd.Series, label: str) -> str:
    """Return a theme's axis label with its hotspot star and new/rising mark."""
    text = str(row[label])
    if row["hotspot"]:
        text += " ★"
    if row["new"]:
        text += f" ({t('themes.new')})"
    elif row["rising"]:
        text += f" ({t('themes.rising')})"
    return text


def bar_figure(bars: pd.DataFrame, result: dict, side: str, label: str) -> go.Figure:
    """Return the themes as horizontal bars, largest on top, coloured by where the theme comes from."""
    labels = [bar_label(row, label) for _, row in bars.iterrows()]
    fig = go.Figure()
    for source, name in (
        ("lexicon", t("themes.source_lexicon")),
        ("discovered", t("themes.source_discovered")),
        (themes.SMALL, t("themes.source_small")),
    ):
        mask = (
            (bars["id"] == themes.SMALL)
            if source == themes.SMALL
            else ((bars["source"] == source) & (bars["id"] != themes.SMALL))
        )
        if not mask.any():
            continue
        part = bars[mask]
        fig.add_bar(
            name=name,
            orientation="h",
            x=part["share"],
            y=[label for label, keep in zip(labels, mask, strict=True) if keep],
            marker_color=SOURCE_COLORS[side][source],
            text=[
                t("themes.bar_text", share=pct(s), n=n) for s, n in zip(part["share"], part["n"], strict=True)
            ],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    fig.update_layout(
        height=max(320, 34 * len(bars) + 140),
        yaxis={"categoryorder": "array", "categoryarray": labels, "autorange": "reversed"},
        xaxis={
            "tickformat": ".0%",
            "title": t("themes.share_axis", n=f"{result['n_comments']:,}"),
            "range": [0, float(bars["share"].max()) * 1.3],
        },
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        margin={"t": 90},
    )
    return fig


def trend_figure(trend: pd.DataFrame, label: str) -> go.Figure:
    """Return the top themes' monthly shares as lines."""
    fig = go.Figure()
    for number, (_, part) in enumerate(trend.groupby("id", sort=False)):
        fig.add_scatter(
            name=str(part[label].iloc[0]),
            x=part["month"],
            y=part["share"],
            mode="lines+markers",
            line={"color": COLORS[number % len(COLORS)], "width": 2.5},
            customdata=[
                t("themes.trend_hover", n=n, total=total)
                for n, total in zip(part["n"], part["total"], strict=True)
            ],
            hovertemplate="%{x} · %{y:.1%} · %{customdata}<extra>%{fullData.name}</extra>",
        )
    fig.update_layout(
        height=380,
        yaxis={"tickformat": ".0%", "title": t("themes.trend_axis"), "rangemode": "tozero"},
        xaxis={"type": "category"},
    )
    return fig


def praise_figure(grid: themes.PraiseGrid, rows: list[str]) -> go.Figure:
    """Return the praise board as a heatmap: advisors (``rows``) by praised theme, counts written in."""
    fig = go.Figure(
        go.Heatmap(
            z=grid.shares.to_numpy(),
            x=[wrap(str(c), 10) for c in grid.counts.columns],
            y=rows,
            text=grid.counts.where(grid.counts > 0, "").to_numpy(),
            texttemplate="%{text}",
            customdata=[[pct(v) for v in row] for row in grid.shares.to_numpy()],
            hovertemplate="%{y} · %{x}: %{text} · %{customdata}<extra></extra>",
            colorscale=[[0, "#f4f7fb"], [1, NEUTRAL]],
            showscale=False,
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(
        height=max(320, 40 * len(rows) + 200),
        yaxis={"autorange": "reversed", "title": t("themes.praise.board_axis")},
        xaxis={"tickangle": 0, "side": "top", "tickfont": {"size": 11}},
        title={"y": 0.98, "yanchor": "top"},
        margin={"t": 130, "b": 70},
    )
    return fig


def hotspot_figure(table: pd.DataFrame, labels: list[str]) -> go.Figure:
    """Return the complaint hotspots as grouped bars: comments and flagged complaints per hotspot."""
    fig = go.Figure()
    fig.add_bar(
        name=t("themes.complaint.hotspots_comments"),
        orientation="h",
        y=labels,
        x=table["comments"],
        marker_color=BAD,
        text=[n or "" for n in table["comments"]],
        textposition="outside",
    )
    fig.add_bar(
        name=t("themes.complaint.hotspots_complaints"),
        orientation="h",
        y=labels,
        x=table["complaints"],
        marker_color=COLORS[7],
        text=[n or "" for n in table["complaints"]],
        textposition="outside",
    )
    fig.update_layout(
        barmode="group",
        height=max(320, 44 * len(table) + 140),
        yaxis={"categoryorder": "array", "categoryarray": labels, "autorange": "reversed"},
        xaxis={"title": t("themes.complaint.hotspots_axis"), "rangemode": "tozero"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        margin={"t": 90},
    )
    return fig
