"""Satisfaction trends: monthly rate and NPS against their noise, dimensions and what drives
dissatisfaction, breakdowns, and the unsatisfied customers to follow up."""

from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.core.config import settings
from analytics.domain import kpi, overview
from analytics.domain import satisfaction as sat
from ui.auth import protect
from ui.charts import BAD, GOOD, MUTED, NEUTRAL, export_name, show
from ui.data import load
from ui.formatting import format_ratio, kpi_value
from ui.i18n import t
from ui.state import filters
from ui.widgets import download_buttons, field_label

f = filters()
if f.month is None:
    st.title(t("nav.satisfaction"))
    st.info(t("app.empty_db"))
    st.stop()

START, END = f.months[0], f.month
STORE = "-".join(f.stores) if f.stores else None
SMALL_N = int(settings()["display"]["small_n"])
LOW_SCORE = float(settings()["kpi"]["dimension_low_score"])
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


def period_text() -> str:
    """Return the trend window as text."""
    return t("satisfaction.period", start=START, end=END, n=len(f.months))


def by_label(by: str) -> str:
    """Return a breakdown dimension's name as used inside a sentence."""
    return field_label(by) if f.lang == "zh" else field_label(by).lower()


def short_period() -> str:
    """Return the trend window as a short span for chart titles."""
    return f"{START} – {END}" if START != END else END


def month_axis() -> dict:
    """Return a date x-axis over the trend window: every month up to six, then evenly spaced, the focus
    month always labelled."""
    step = max(1, round(len(f.months) / 6))
    pad = timedelta(days=15)
    return {
        "type": "date",
        "tickformat": "%Y-%m",
        "dtick": f"M{step}",
        "tick0": kpi.parse_month(END).isoformat(),
        "range": [(kpi.parse_month(START) - pad).isoformat(), (kpi.parse_month(END) + pad).isoformat()],
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


def rate_figure(monthly) -> go.Figure:
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
        fig, 430, 3 if signals else 2, yaxis={"tickformat": ".0%", "title": None}, xaxis=month_axis()
    )


def nps_figure(monthly) -> go.Figure:
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
    return lay_out(fig, 430, yaxis={"tickformat": "+d", "title": None}, xaxis=month_axis())


def dimension_figure(scores) -> go.Figure:
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
        xaxis=month_axis(),
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
    labels = [
        (f"{int(r['rank'])}. " if pd.notna(r["rank"]) else "") + f"{r['label']} (n={int(r['n']):,})"
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
        xaxis={"tickformat": ".0%", "title": None, "range": [None, 1.02]},
        yaxis={
            "categoryorder": "array",
            "categoryarray": labels,
            "autorange": "reversed",
            "type": "category",
        },
    )


# --- the page ---
st.title(t("satisfaction.title", month=END))
st.caption(
    t(
        "satisfaction.scope",
        period=period_text(),
        month=END,
        stores=", ".join(f.stores) if f.stores else t("sidebar.all_stores"),
    )
)

monthly = load(sat.monthly_satisfaction, f.stores, START, END)
summary = sat.trend_summary(monthly, END)
# The drivers' window is the deck's (one definition of the top driver everywhere), stated in labels.
DRIVER_START, DRIVER_END = sat.driver_window(END)
DRIVER_MONTHS = int(settings()["deck"]["driver_months"])
drivers = load(sat.dimension_drivers, f.stores, DRIVER_START, DRIVER_END)
driver = sat.top_driver(drivers)
# The month's follow-up list as known on its last day (or the data's end): the overview's red flag.
followups = load(overview.open_followups, END, f.stores)
AS_OF = load(overview.month_as_of, END)
counts = sat.followup_counts(followups)

tiles = st.columns([1, 1, 1.3, 1])
tiles[0].metric(t("satisfaction.tile_rate", month=END), pct(summary["rate"]) if summary else "—", border=True)
tiles[1].metric(
    t("satisfaction.tile_nps", month=END), signed(summary["nps"]) if summary else "—", border=True
)
tiles[2].metric(
    t("satisfaction.tile_driver"),
    dim_label(driver["dimension"]) if driver else "—",
    border=True,
)
tiles[3].metric(
    t("satisfaction_issue15.tile_open_as_of", month=END, as_of=str(AS_OF)), f"{counts['open']:,}", border=True
)
if summary:
    tiles[0].caption(
        t(
            "satisfaction.tile_rate_note",
            n=f"{summary['n']:,}",
            low=pct(summary["low"]),
            high=pct(summary["high"]),
        )
    )
    tiles[1].caption(
        t(
            "satisfaction.tile_nps_note",
            n=f"{summary['nps_n']:,}",
            low=signed(summary["nps_low"]),
            high=signed(summary["nps_high"]),
        )
    )
if driver:
    tiles[2].caption(
        t(
            "satisfaction.tile_driver_note",
            rr=format_ratio(driver["effect"]),
            n=f"{driver['n']:,}",
            months=DRIVER_MONTHS,
        )
    )
tiles[3].caption(
    t("satisfaction.tile_open_note", n=f"{counts['n']:,}", complaints=f"{counts['complaints']:,}")
)

# Monthly rate and NPS
st.subheader(t("satisfaction.trend_title"))
if summary is None:
    st.info(t("satisfaction.no_responses", month=END))
left, right = st.columns(2)
with left:
    show(
        rate_figure(monthly),
        export_name("satisfaction", "rate", START, END, STORE),
        title=t("satisfaction.rate_title", period=short_period()),
    )
    if summary:
        signals = summary["signals"]
        st.caption(
            t(
                f"satisfaction.rate_caption_{summary['position']}",
                month=END,
                rate=pct(summary["rate"]),
                n=f"{summary['n']:,}",
                low=pct(summary["low"]),
                high=pct(summary["high"]),
                centre=pct(summary["centre"]),
            )
            + ("" if f.lang == "zh" else " ")
            + (
                t("satisfaction.signals", months="、".join(signals) if f.lang == "zh" else ", ".join(signals))
                if signals
                else t("satisfaction.no_signals")
            )
        )
with right:
    show(
        nps_figure(monthly),
        export_name("satisfaction", "nps", START, END, STORE),
        title=t("satisfaction.nps_title", period=short_period()),
    )
    if summary and summary["nps"] is not None:
        st.caption(
            t(
                "satisfaction.nps_caption",
                month=END,
                nps=signed(summary["nps"]),
                low=signed(summary["nps_low"]),
                high=signed(summary["nps_high"]),
                n=f"{summary['nps_n']:,}",
            )
        )

# Dimensions and drivers
st.subheader(t("satisfaction.dimension_title"))
left, right = st.columns(2)
with left:
    scores = load(sat.dimension_scores, f.stores, START, END)
    show(
        dimension_figure(scores),
        export_name("satisfaction", "dimensions", START, END, STORE),
        title=t("satisfaction.dimension_chart", period=short_period()),
    )
    dims = sat.dimension_summary(scores, END)
    if dims:
        st.caption(
            t(
                "satisfaction.dimension_caption",
                month=END,
                lowest=dim_label(dims["lowest"]),
                lowest_mean=f"{dims['lowest_mean']:.2f}",
                lowest_n=f"{dims['lowest_n']:,}",
                highest=dim_label(dims["highest"]),
                highest_mean=f"{dims['highest_mean']:.2f}",
                highest_n=f"{dims['highest_n']:,}",
            )
        )
with right:
    show(
        driver_figure(drivers),
        export_name("satisfaction", "drivers", DRIVER_START, DRIVER_END, STORE),
        title=t("satisfaction.driver_chart", period=f"{DRIVER_START} – {DRIVER_END}"),
    )
    if driver:
        text = t(
            "satisfaction.driver_caption",
            dimension=dim_label(driver["dimension"]),
            low=f"{LOW_SCORE:g}",
            rate_low=pct(driver["rate_low"]),
            rate_other=pct(driver["rate_other"]),
            rr=format_ratio(driver["effect"]),
            n=f"{driver['n']:,}",
            n_low=f"{driver['n_low']:,}",
        )
        if driver["logistic_dimension"]:
            text += t(
                "satisfaction.driver_caption_logit",
                dimension=dim_label(driver["logistic_dimension"]),
                odds=f"{driver['logistic_effect']:.2f}",
                n=f"{driver['logistic_n']:,}",
            )
        st.caption(text)
    else:
        st.caption(t("satisfaction.driver_none"))

# Breakdown
st.subheader(t("satisfaction.breakdown_title"))
controls = st.columns([3, 2])
# Option labels fixed at draw time: AppTest formats a widget's value outside the script run, where
# the session's language cannot be read.
BY_LABELS = {name: field_label(name) for name in sat.BREAKDOWN_BY}
PERIOD_LABELS = {"window": period_text(), "month": END}
by = controls[0].segmented_control(
    t("satisfaction.breakdown_by"),
    sat.BREAKDOWN_BY,
    format_func=BY_LABELS.__getitem__,
    default="advisor",
    key="sat_by",
)
by = by or "advisor"
period_choice = controls[1].segmented_control(
    t("satisfaction.breakdown_period"),
    ["window", "month"],
    format_func=PERIOD_LABELS.__getitem__,
    default="window",
    key="sat_period",
)
period = (START, END) if period_choice != "month" else (END, END)
period_label = period_text() if period_choice != "month" else END
frame = load(sat.breakdown, by, period, f.stores)
table = sat.breakdown_table(frame, by, f.lang)
parts = sat.breakdown_summary(frame)
if table.empty:
    st.info(t("satisfaction.no_responses", month=period_label))
else:
    show(
        breakdown_figure(table, parts["overall"]),
        export_name("satisfaction", by, *period, STORE),
        title=t(
            "satisfaction.breakdown_chart",
            by=by_label(by),
            period=short_period() if period_choice != "month" else END,
        ),
    )
    sentence = t(
        "satisfaction.breakdown_overall",
        by=by_label(by),
        period=period_label,
        rate=pct(parts["overall"]),
        n=f"{parts['n']:,}",
    )
    worst, best = parts["worst"], parts["best"]
    if worst and best:
        sentence += t(
            "satisfaction.breakdown_range",
            worst=sat.segment_label(by, worst["segment"], f.lang),
            worst_rate=pct(worst["rate"]),
            worst_low=pct(worst["wilson_low"]),
            worst_high=pct(worst["wilson_high"]),
            worst_n=f"{int(worst['n']):,}",
            best=sat.segment_label(by, best["segment"], f.lang),
            best_rate=pct(best["rate"]),
            best_n=f"{int(best['n']):,}",
        )
        sentence += t(
            "satisfaction.breakdown_below" if parts["worst_below"] else "satisfaction.breakdown_noise"
        )
    if parts["n_small"]:
        sentence += t("satisfaction.breakdown_small", count=parts["n_small"], n=SMALL_N)
    st.caption(sentence + t("satisfaction.end"))
    headers = {
        "rank": t("satisfaction.col_rank"),
        "label": field_label(by),
        "n": t("satisfaction.col_n"),
        "satisfied": t("satisfaction.col_satisfied"),
        "rate": t("metric.satisfaction_rate"),
        "wilson_low": t("satisfaction.col_low"),
        "wilson_high": t("satisfaction.col_high"),
    }
    with st.expander(t("satisfaction.breakdown_table", by=by_label(by))):
        grey = "color: #9aa0a6; font-style: italic"
        styled = table.style.apply(lambda row: [grey if row["small"] else "" for _ in row], axis=1).format(
            {"rank": "{:.0f}", "rate": "{:.1%}", "wilson_low": "{:.1%}", "wilson_high": "{:.1%}"}, na_rep="—"
        )
        st.dataframe(
            styled,
            hide_index=True,
            width="stretch",
            column_order=list(headers),
            column_config={key: st.column_config.Column(label) for key, label in headers.items()},
            key="sat_breakdown_table",
        )
        download_buttons(
            table[list(headers)],
            export_name("satisfaction", by, *period, STORE),
            key="dl_sat_breakdown",
            headers=headers,
            aggregate=True,
        )

# Follow-up list
st.subheader(t("satisfaction.followup_title", month=END))
st.caption(
    t(
        "satisfaction.followup_caption",
        month=END,
        n=f"{counts['n']:,}",
        unsatisfied=f"{counts['unsatisfied']:,}",
        complaints=f"{counts['complaints']:,}",
        open=f"{counts['open']:,}",
        days=int(settings()["kpi"]["followup_days"]),
    )
)
row = st.columns([1, 1, 3])
open_only = row[0].toggle(t("satisfaction.only_open"), key="sat_open")
complaints_only = row[1].toggle(t("satisfaction.only_complaints"), key="sat_complaints")
advisors = row[2].multiselect(
    t("field.advisor"), counts["advisors"], key="sat_advisors", placeholder=t("satisfaction.all_advisors")
)
chosen = sat.filter_followups(
    followups, open_only=open_only, complaints_only=complaints_only, advisors=advisors
)
listing = sat.followup_table(chosen, f.lang)
columns = {c: field_label(c) for c in sat.FOLLOWUP_COLUMNS}
columns["days_since_callback"] = t("satisfaction.col_days_since")
columns["followed_up"] = t("satisfaction.col_followed_up")
st.caption(t("common.rows", n=f"{len(listing):,}"))
score_columns = [c for c in sat.FOLLOWUP_COLUMNS if c.endswith("_score")]
st.dataframe(
    protect(listing),
    hide_index=True,
    width="stretch",
    key="sat_followups",
    column_config={
        **{c: st.column_config.Column(label) for c, label in columns.items()},
        "callback_date": st.column_config.DatetimeColumn(columns["callback_date"], format="YYYY-MM-DD HH:mm"),
        **{c: st.column_config.NumberColumn(columns[c], format="%.0f", width="small") for c in score_columns},
        "comment": st.column_config.TextColumn(columns["comment"], width="large"),
        "days_since_callback": st.column_config.NumberColumn(
            columns["days_since_callback"], format=t("satisfaction.days_format")
        ),
        "is_complaint": st.column_config.CheckboxColumn(columns["is_complaint"]),
        "followed_up": st.column_config.CheckboxColumn(columns["followed_up"]),
    },
)
download_buttons(
    listing, export_name("satisfaction", "followups", END, STORE), key="dl_sat_followups", headers=columns
)
