"""Figures of the maintenance page: expected visits per week, the backtest against both rules,
calibration and the model's drivers. Each takes the analytics result and returns a plotly figure."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from ui.charts import COLORS, MUTED
from ui.i18n import t


def weeks_figure(weeks: pd.DataFrame) -> go.Figure:
    """Return the expected maintenance and any visits per week as grouped bars."""
    fig = go.Figure()
    for source, color in (("maintenance", COLORS[0]), ("any", MUTED)):
        fig.add_bar(
            x=weeks["week_start"],
            y=weeks[source],
            name=t(f"maintenance.target_{source}"),
            marker_color=color,
        )
    fig.update_layout(
        barmode="group", xaxis_title=t("maintenance.week_axis"), yaxis_title=t("maintenance.expected_axis")
    )
    return fig


def backtest_figure(
    table: pd.DataFrame, metric: str, methods: Mapping[str, str], horizon_labels: Mapping[int, str]
) -> go.Figure:
    """Return one backtest metric per horizon for the model and both rules as grouped bars."""
    fig = go.Figure()
    for method, color in (("model", COLORS[0]), ("rule", MUTED), ("rhythm", COLORS[1])):
        rows = table[table["method"] == method]
        fig.add_bar(
            x=[horizon_labels[h] for h in rows["horizon"]],
            y=rows[metric],
            name=methods[method],
            marker_color=color,
            text=[f"{v:.2f}" for v in rows[metric]],
            textposition="outside",
        )
    # Room above the tallest bar for its value, written above it (the top values were cut off).
    top = float(table[metric].max()) if table[metric].notna().any() else 0.0
    top = top or 1.0
    fig.update_layout(barmode="group", yaxis={"range": [0, top * 1.15], "rangemode": "tozero"})
    return fig


def calibration_figure(calibration: pd.DataFrame, horizon: int, methods: Mapping[str, str]) -> go.Figure:
    """Return predicted against observed visits per bin at ``horizon`` days for the model and both rules."""
    fig = go.Figure()
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line={"color": "#ccc", "dash": "dot"}, showlegend=False)
    for method, color in (("model", COLORS[0]), ("rule", MUTED), ("rhythm", COLORS[1])):
        rows = calibration[(calibration["horizon"] == horizon) & (calibration["method"] == method)]
        fig.add_scatter(
            x=rows["predicted"],
            y=rows["observed"],
            mode="lines+markers",
            name=methods[method],
            marker={"size": 6 + 14 * (rows["n"] / max(rows["n"].max(), 1)) ** 0.5, "color": color},
            line={"color": color},
            customdata=rows["n"],
            hovertemplate="%{x:.0%} → %{y:.0%} (n=%{customdata})<extra></extra>",
        )
    fig.update_layout(
        xaxis={"title": t("maintenance.predicted_axis"), "tickformat": ".0%", "range": [0, 1]},
        yaxis={"title": t("maintenance.observed_axis"), "tickformat": ".0%", "range": [0, 1]},
    )
    return fig


def importance_figure(importance: pd.DataFrame) -> go.Figure:
    """Return the model's drivers at one horizon as horizontal bars, the strongest on top."""
    fig = go.Figure(
        go.Bar(
            x=importance["importance"][::-1],
            y=[t(f"maintenance.feature.{name}") for name in importance["feature"][::-1]],
            orientation="h",
            marker_color=COLORS[0],
        )
    )
    fig.update_layout(xaxis_title=t("maintenance.importance_axis"), margin={"l": 180})
    return fig
