"""Satisfaction trends: monthly rate and NPS against their noise, dimensions and what drives
dissatisfaction, breakdowns, and the unsatisfied customers to follow up."""

import streamlit as st

from analytics.core.config import settings
from analytics.domain import satisfaction as sat
from analytics.services import reads
from ui.auth import protect, protect_text
from ui.charts import export_name, show
from ui.data import load
from ui.formatting import format_ratio, plain
from ui.i18n import t
from ui.satisfaction_figures import (
    breakdown_figure,
    dim_label,
    dimension_figure,
    driver_figure,
    nps_figure,
    pct,
    rate_figure,
    signed,
)
from ui.state import filters
from ui.widgets import download_buttons, field_label, show_table

f = filters()
if f.month is None:
    st.title(t("nav.satisfaction"))
    st.info(t("app.empty_db"))
    st.stop()

START, END = f.months[0], f.month
STORE = "-".join(f.stores) if f.stores else None
SMALL_N = settings().display.small_n
LOW_SCORE = settings().kpi.dimension_low_score


def period_text() -> str:
    """Return the trend window as text."""
    return t("satisfaction.period", start=START, end=END, n=len(f.months))


def by_label(by: str) -> str:
    """Return a breakdown dimension's name as used inside a sentence."""
    return field_label(by) if f.lang == "zh" else field_label(by).lower()


def short_period() -> str:
    """Return the trend window as a short span for chart titles."""
    return f"{START} – {END}" if START != END else END


# --- the page ---
st.title(t("satisfaction.title", month=END))
st.caption(
    t(
        "satisfaction.scope",
        period=period_text(),
        month=END,
        stores=plain(protect_text(", ".join(f.stores))) if f.stores else t("sidebar.all_stores"),
    )
)

if f.stores and (storeless := load("counts.storeless", month=END)):
    st.caption(t("overview.storeless", n=storeless, month=END))

monthly = load("satisfaction.monthly", stores=f.stores, start=START, end=END)
summary = monthly.at(END)
# The drivers' window is the deck's (one definition of the top driver everywhere), stated in labels.
DRIVER_START, DRIVER_END = sat.driver_window(END)
drivers = load("satisfaction.drivers", stores=f.stores, start=DRIVER_START, end=DRIVER_END)
# Stated from the data's first month on: the data's first month read "last 3 months, 2023-09 – 2023-11".
SHOWN_START, _, DRIVER_MONTHS = sat.shown_driver_window(END, load("facts.months"))
driver = sat.top_driver(drivers)
# The month's follow-up list as known on its last day (or the data's end): the overview's red flag.
followups = load("overview.followups", month=END, stores=f.stores)
AS_OF = load("overview.as_of", month=END)
counts = sat.followup_counts(followups)

tiles = st.columns([1, 1, 1.3, 1])
tiles[0].metric(t("satisfaction.tile_rate", month=END), pct(summary.rate) if summary else "—", border=True)
tiles[1].metric(t("satisfaction.tile_nps", month=END), signed(summary.nps) if summary else "—", border=True)
tiles[2].metric(
    t("satisfaction.tile_driver"),
    # Dimensions tied at the same relative risk are named together: none explains more than the other.
    " / ".join(dim_label(d) for d in (driver["dimension"], *driver["tied"])) if driver else "—",
    border=True,
)
tiles[3].metric(
    t("satisfaction_issue15.tile_open_as_of", month=END, as_of=str(AS_OF)), f"{counts['open']:,}", border=True
)
if summary:
    tiles[0].caption(
        t(
            "satisfaction.tile_rate_note",
            n=f"{summary.n:,}",
            low=pct(summary.wilson_low),
            high=pct(summary.wilson_high),
        )
    )
    tiles[1].caption(
        t(
            "satisfaction.tile_nps_note",
            n=f"{summary.nps_n:,}",
            low=signed(summary.nps_low),
            high=signed(summary.nps_high),
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
        rate_figure(monthly.frame(), f.months),
        export_name("satisfaction", "rate", START, END, STORE),
        title=t("satisfaction.rate_title", period=short_period()),
    )
    if summary and len(monthly.scored) < 2:
        # The data's first month (or a window with one scored month): its limits come from itself.
        st.caption(
            t(
                "satisfaction.rate_caption_alone",
                month=END,
                rate=pct(summary.rate),
                n=f"{summary.n:,}",
                low=pct(summary.wilson_low),
                high=pct(summary.wilson_high),
            )
        )
    elif summary:
        signals = monthly.signals
        st.caption(
            t(
                f"satisfaction.rate_caption_{summary.position}",
                month=END,
                rate=pct(summary.rate),
                n=f"{summary.n:,}",
                low=pct(summary.wilson_low),
                high=pct(summary.wilson_high),
                centre=pct(summary.centre),
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
        nps_figure(monthly.frame(), f.months),
        export_name("satisfaction", "nps", START, END, STORE),
        title=t("satisfaction.nps_title", period=short_period()),
    )
    if summary and summary.nps is not None:
        st.caption(
            t(
                "satisfaction.nps_caption",
                month=END,
                nps=signed(summary.nps),
                low=signed(summary.nps_low),
                high=signed(summary.nps_high),
                n=f"{summary.nps_n:,}",
            )
        )

# Dimensions and drivers
st.subheader(t("satisfaction.dimension_title"))
left, right = st.columns(2)
with left:
    scores = load("satisfaction.dimensions", stores=f.stores, start=START, end=END)
    show(
        dimension_figure(scores, f.months),
        export_name("satisfaction", "dimensions", START, END, STORE),
        title=t("satisfaction.dimension_chart", period=short_period()),
    )
    dims = sat.dimension_summary(scores, END)
    if dims:
        st.caption(
            t(
                "satisfaction.dimension_caption_single"
                if dims["single"]
                else "satisfaction.dimension_caption",
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
        export_name("satisfaction", "drivers", SHOWN_START, DRIVER_END, STORE),
        title=t("satisfaction.driver_chart", period=f"{SHOWN_START} – {DRIVER_END}"),
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
        if driver["rate_other"] == 0:
            # Nobody else unsatisfied: the ratio is the estimate with half a case added to each count.
            text += t("satisfaction.driver_caption_corrected")
        if driver["tied"]:
            text += t(
                "satisfaction.driver_caption_tied",
                others=t("satisfaction.driver_and").join(dim_label(d) for d in driver["tied"]),
            )
        if driver["logistic_dimension"]:
            # The two methods may rank different dimensions first: "also" only when they agree.
            agree = driver["logistic_dimension"] == driver["dimension"]
            text += t(
                "satisfaction.driver_caption_logit" if agree else "satisfaction.driver_caption_logit_other",
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
BY_DEFAULT = reads.default("satisfaction.breakdown", "by")  # the default view's, kept after an import
PERIOD_LABELS = {"window": period_text(), "month": END}
by = controls[0].segmented_control(
    t("satisfaction.breakdown_by"),
    sat.BREAKDOWN_BY,
    format_func=BY_LABELS.__getitem__,
    default=BY_DEFAULT,
    key="sat_by",
)
by = by or BY_DEFAULT
period_choice = controls[1].segmented_control(
    t("satisfaction.breakdown_period"),
    ["window", "month"],
    format_func=PERIOD_LABELS.__getitem__,
    default="window",
    key="sat_period",
)
period = (START, END) if period_choice != "month" else (END, END)
period_label = period_text() if period_choice != "month" else END
frame = load("satisfaction.breakdown", by=by, period=period, stores=f.stores)
table = protect(sat.breakdown_table(frame, by, f.lang))  # a name typed with a mobile
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
            worst=plain(protect_text(sat.segment_label(by, worst["segment"], f.lang))),
            worst_rate=pct(worst["rate"]),
            worst_low=pct(worst["wilson_low"]),
            worst_high=pct(worst["wilson_high"]),
            worst_n=f"{int(worst['n']):,}",
            best=plain(protect_text(sat.segment_label(by, best["segment"], f.lang))),
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
            {
                "rank": "{:.0f}",
                "n": "{:,.0f}",
                "satisfied": "{:,.0f}",
                "rate": "{:.1%}",
                "wilson_low": "{:.1%}",
                "wilson_high": "{:.1%}",
            },
            na_rep="—",
        )
        show_table(
            styled,
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
        days=settings().kpi.followup_days,
    )
)
row = st.columns([1, 1, 3])
open_only = row[0].toggle(t("satisfaction.only_open"), key="sat_open")
complaints_only = row[1].toggle(t("satisfaction.only_complaints"), key="sat_complaints")
# An advisor's name as the data wrote it, a mobile typed into it masked for roles without phones.
advisor_shown = {str(a): protect_text(str(a)) for a in counts["advisors"]}
advisors = row[2].multiselect(
    t("field.advisor"),
    counts["advisors"],
    format_func=lambda a: advisor_shown.get(str(a), str(a)),
    key="sat_advisors",
    placeholder=t("satisfaction.all_advisors"),
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
show_table(
    protect(listing),
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
