"""Overview: the month at a glance for the morning meeting: KPI tiles, what changed and why, red flags."""

import streamlit as st

from analytics.core import formatting
from analytics.core.months import month_label, parse_month, shift_month
from analytics.domain import overview, satisfaction
from ui.auth import protect, protect_text
from ui.data import load
from ui.deck_button import deck_button
from ui.formatting import delta_style, kpi_delta, kpi_value, metric_params
from ui.i18n import t
from ui.state import filters
from ui.widgets import download_buttons, flag_table, show_table

f = filters()
if f.month is None:
    st.title(t("nav.overview"))
    st.info(t("app.empty_db"))
    st.stop()

st.title(t("overview.title", month=f.month))
deck_button(f.month, f.stores, f.lang)
data = load("overview.kpis", month=f.month, stores=f.stores)
why = data.why
PREVIOUS = month_label(shift_month(parse_month(f.month), -1))
# The deck's headline, in the same words: targets met, missed, pending and not judged alike.
st.info(overview.headline(data.kpis, f.lang))

TILE_ROWS = (
    ("visits", "revenue", "appointment_rate", "due_maintenance_return_rate"),
    ("coverage_3dc", "reach_rate", "satisfaction_rate", "nps"),
    ("complaints", "complaint_timeliness", "lost", "at_risk"),
)


@st.fragment
def why_popover(name: str, figure: overview.KpiFigure) -> None:
    """Draw the tile's "why?" button: the month-on-month change split by advisor, service type, model
    or store, drawn when it is opened (a fragment: opening it, or choosing a split, reruns this
    button only, not the twelve tiles)."""
    menu = st.popover(t("why.button"), width="stretch", key=f"why_{name}", on_change="rerun")
    if not menu.open:
        return
    with menu:
        st.markdown(f"**{t(f'metric.{name}')}** · {t('why.title', before=PREVIOUS, month=f.month)}")
        tables = why.get(name, {})
        if figure.value is None or figure.prev_month is None or not tables:
            st.caption(t("why.unavailable"))
            return
        by = st.segmented_control(
            t("why.by"),
            list(tables),
            default=list(tables)[0],
            format_func=lambda key: t(f"why.{key}"),
            key=f"why_by_{name}",
        )
        frame = tables[by or list(tables)[0]][f.lang]
        show_table(
            protect(overview.breakdown_display(frame, name, PREVIOUS, f.month, f.lang)),
        )
        st.caption(t("why.caption", change=kpi_delta(name, figure.value, figure.prev_month) or "—"))


# Keyed containers: on a phone the flags come first and the tiles pack two to a row (ui.style).
with st.container(key="overview_tiles"):
    for row in TILE_ROWS:
        for column, name in zip(st.columns(len(row)), row, strict=True):
            figure = data.kpis[name]
            status_note = formatting.status_note(figure.status, figure.needs_from, f.lang)
            # issue 14: a KPI whose field is missing from the data says why instead of showing 0%.
            missing = data.missing.get(name)
            if missing or figure.status == "insufficient_history":
                # Never a number, a change or a chart point: the data cannot support the figure.
                column.metric(
                    t(f"metric.{name}"), "—", help=t(f"metric_def.{name}", **metric_params()), border=True
                )
                column.caption(f":gray[{t(missing) if missing else status_note}]")
                continue
            notes = [t("overview.n", n=f"{figure.n:,}")]
            # A figure that is not final yet (its month or its follow-up window still open) is
            # compared with nothing: against a final month its gap is the missing data, not a
            # change (a due-maintenance return rate read 32% against 53%, a red -21 pp).
            final = figure.status != "provisional"
            yoy = kpi_delta(name, figure.value, figure.prev_year) if final else None
            if yoy:
                notes.append(t("overview.yoy", delta=yoy))
            words = overview.target_words(name, figure, f.lang)
            # A pending target already says the figure is not final.
            if status_note and overview.target_state(figure) != "pending":
                notes.append(status_note)
            spark = overview.sparkline(data.series, name)
            delta = kpi_delta(name, figure.value, figure.prev_month) if final else None
            column.metric(
                t(f"metric.{name}"),
                kpi_value(name, figure.value),
                delta=delta,
                **delta_style(name, delta),
                help=t(f"metric_def.{name}", **metric_params()),
                border=True,
                chart_data=spark or None,
                chart_type="line",
            )
            if words:
                far = overview.target_state(figure) == "missed"
                notes.insert(0, f":red[{words}]" if far else words)
            column.caption(" · ".join(notes))
            with column:
                why_popover(name, figure)
    st.caption(t("overview.tiles_caption", month=f.month))
    if f.stores and (storeless := load("counts.storeless", month=f.month)):
        st.caption(t("overview.storeless", n=storeless, month=f.month))

with st.container(key="overview_flags"):
    left, right = st.columns([3, 2])
    with left:
        st.subheader(t("overview.what_changed"))
        # Which movements are listed: a GM reading "-1.4 pp" on a tile should not wonder why it is absent.
        st.caption(t("overview.what_changed_rule", month=f.month))
        if not data.changes:
            # Nothing to judge (every KPI withheld or without its data, or no month before it) is not
            # "nothing moved".
            st.write(t(overview.quiet_key(data.kpis, "overview.nothing_changed")))
        for change in data.changes:
            # The sentence names an advisor or store from the data: masked for roles without phones.
            st.text("• " + protect_text(satisfaction.describe_change(change, f.lang)))
    with right:
        st.subheader(t("overview.red_flags"))
        flags = data.red_flags
        st.caption(t("overview.red_flags_caption", as_of=str(data.as_of)))
        # Without callbacks nobody can be followed up or complained: said, rather than a count of 0.
        no_calls = data.missing.get("complaints") == "kpi_missing.no_callbacks"
        for flag in ("no_followup", "complaint_overdue"):
            rows = flags[flags["flag"] == flag]
            if no_calls:
                st.markdown(f"**{t(f'deck.flag_{flag}')}**: {t('kpi_missing.no_callbacks')}")
                continue
            if flag == "no_followup":
                label = t("overview_flags.no_followup", n=len(rows), month=f.month, as_of=str(data.as_of))
            else:
                label = t(f"overview.flag_{flag}", n=len(rows))
            st.markdown(f"**{label}**")
            if len(rows):
                flag_table(rows, key=f"flag_{flag}")
                download_buttons(rows, f"overview_{flag}_{f.month}", key=f"dl_{flag}")
