"""Figures of the churn page: lost and at-risk by month-end, retention curves, the model's
calibration and its drivers. Each takes the analytics result and returns a plotly figure."""

from __future__ import annotations

import html
import re

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from analytics.core.auth import mask_text
from ui.i18n import t


def trend_figure(trend: pd.DataFrame) -> go.Figure:
    """Return lost and at-risk vehicles at each month-end as lines."""
    fig = go.Figure()
    for status in ("lost", "at_risk"):
        fig.add_scatter(
            x=trend["as_of"], y=trend[status], mode="lines+markers", name=t(f"churn.status.{status}")
        )
    # Counts of vehicles from zero (an axis from 400 squashed the at-risk line against the bottom),
    # written with thousands separators in saved images as on screen.
    fig.update_layout(
        yaxis={"title": t("churn.vehicles"), "rangemode": "tozero", "tickformat": ",d"},
        xaxis_title=t("churn.month_end"),
    )
    return fig


ALL_COLOUR = "#222222"  # the whole base's retention line


def retention_figure(curve: pd.DataFrame, by: str) -> go.Figure:
    """Return the share back for a next visit by months after a visit, one panel per transition."""
    fig = px.line(
        curve,
        x="month",
        y="share",
        color="group",
        facet_col="transition",
        hover_data=["n"],
        labels={
            "month": t("churn.months_after"),
            "share": t("churn.share_back"),
            "group": t(f"churn.group.{by}"),
        },
    )
    fig.for_each_annotation(lambda a: a.update(text=t(f"churn.transition.{a.text.split('=')[-1]}")))
    # The whole base is the line to read first: dark and thick; each group thin beside it.
    fig.for_each_trace(
        lambda tr: (
            tr.update(name=t("churn.all"), line={"color": ALL_COLOUR, "width": 3})
            if tr.name == "all"
            else tr.update(line={"width": 1.5})
        )
    )
    # The hover in words ("劲客 · 首保 → 第二次保养 · ..."), not plotly express's "transition=1-2".
    # The group's name is data (a model, advisor or store as the DMS wrote it): a mobile typed into
    # it masked, as every chart masks its data, and markup shown as text.
    fig.for_each_trace(
        lambda tr: tr.update(
            hovertemplate=f"{_hover_name(tr.name)} · {t(f'churn.transition.{_transition(tr.hovertemplate)}')}<br>"
            f"{t('churn.months_after')}: %{{x}} · {t('churn.share_back')}: %{{y:.0%}} · "
            "n=%{customdata[0]:,}<extra></extra>"
        )
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return fig


def _hover_name(name: object) -> str:
    """Return a group's name as a hover template may hold it: personal numbers masked, markup shown
    as text, and no template variable (``%{...}``) of its own."""
    return html.escape(str(mask_text(str(name))), quote=False).replace("%{", "% {")


def _transition(hovertemplate: str) -> str:
    # Plotly express names each trace's panel in its hover text: "...transition=1-2<br>...".
    found = re.search(r"transition=([^<]+)", hovertemplate or "")
    return found.group(1) if found else ""


def calibration_figure(calibration: pd.DataFrame) -> go.Figure:
    """Return predicted against observed churn per decile for the model and the rule, with the diagonal."""
    fig = px.line(calibration, x="predicted", y="observed", color="scorer", markers=True)
    fig.for_each_trace(lambda tr: tr.update(name=t(f"churn.scorer.{tr.name}")))
    fig.add_scatter(
        x=[0, 1],
        y=[0, 1],
        mode="lines",
        name=t("churn.perfect"),
        line={"dash": "dot", "color": "#999"},
    )
    fig.update_layout(xaxis_title=t("churn.predicted"), yaxis_title=t("churn.observed"), legend_title_text="")
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return fig


def importance_figure(top: pd.DataFrame) -> go.Figure:
    """Return the model's drivers (permutation importance with its spread) as horizontal bars."""
    fig = go.Figure(
        go.Bar(
            x=top["importance"],
            y=[t(f"churn.feature.{name}") for name in top["feature"]],
            orientation="h",
            error_x={"type": "data", "array": top["std"]},
        )
    )
    fig.update_layout(xaxis_title=t("churn.importance_axis"))
    return fig
