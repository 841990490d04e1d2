"""Churn: who is lost or at risk, why, what each is worth, whom to call today, and the model card."""

import streamlit as st

from analytics.core.config import settings
from analytics.core.months import month_ends
from analytics.domain import churn, churn_model
from analytics.services import reads
from ui.auth import protect, protect_text
from ui.charts import export_name, show
from ui.churn_figures import calibration_figure, importance_figure, retention_figure, trend_figure
from ui.data import load
from ui.formatting import plain
from ui.i18n import lang, t
from ui.resources import fitted_view
from ui.state import filters, keep_widgets, relabel
from ui.widgets import call_controls, download_buttons, list_top, people_table, show_table

# Who, how to reach them, what to say, and when we last called (and whether they answered).
FIRST_COLUMNS = ("customer_name", "phone", "reasons", "status", "last_call")
LIST_ORDER = [*FIRST_COLUMNS, *(c for c in churn.EXPORT_COLUMNS if c not in FIRST_COLUMNS)]
RETENTION_BY = reads.default("churn.retention_rates", "by")  # the default view's grouping
f = filters()
st.title(t("churn.title"))
if f.month is None:
    st.info(t("app.empty_db"))
    st.stop()

cfg = settings().churn
as_of = month_ends([f.month])[0]
with st.spinner(t("churn.fitting")):
    shot, stand_in = fitted_view("churn.snapshot", as_of=as_of, stores=f.stores)
counts = shot.counts()
st.caption(t("churn.intro", as_of=as_of.isoformat(), base_days=cfg.base_days, lost_days=cfg.lost_days))
if stand_in:  # an earlier month's list as computed before the last import or fit, until redone
    st.caption(t("churn.stand_in", trained=shot.model.as_of.isoformat() if shot.model else "—"))
elif shot.model is not None and shot.model.as_of < as_of:
    st.caption(t("churn.older_model", trained=shot.model.as_of.isoformat()))
elif shot.model is not None and shot.model.as_of > as_of:
    st.caption(t("churn.hindsight", trained=shot.model.as_of.isoformat(), as_of=as_of.isoformat()))

# The counts of a month end whose base window reaches before the data start are not figures (issue 15).
gap = load("churn.history_gap", as_of=as_of)
tiles = st.columns(3)
if gap is None:
    tiles[0].metric(t("churn.base"), f"{counts['base']:,}", help=t("churn.base_help", days=cfg.base_days))
    tiles[1].metric(t("metric.lost"), f"{counts['lost']:,}", help=t("churn.lost_help", days=cfg.lost_days))
    tiles[2].metric(t("metric.at_risk"), f"{counts['at_risk']:,}", help=t("metric_def.at_risk"))
else:
    for tile, key in zip(tiles, ("churn.base", "metric.lost", "metric.at_risk"), strict=True):
        tile.metric(t(key), "—")
        tile.caption(f":gray[{t('kpi_status.insufficient_history', date=gap.isoformat())}]")

trend = load("churn.trend", as_of_dates=month_ends(f.months), stores=f.stores)
if trend.empty:
    st.info(t("churn_issue15.trend_needs_data"))
else:
    trend_fig = trend_figure(trend)
    show(trend_fig, export_name("churn", "trend", f.month), title=t("churn.trend_title"), key="churn_trend")
    first, last = trend.iloc[0], trend.iloc[-1]
    st.caption(
        t(
            "churn.trend_caption",
            start=first["as_of"].isoformat(),
            end=last["as_of"].isoformat(),
            lost_start=f"{first['lost']:,}",
            lost_end=f"{last['lost']:,}",
            risk_start=f"{first['at_risk']:,}",
            risk_end=f"{last['at_risk']:,}",
        )
    )

# The list and the call list (which calls from the list as filtered) are always drawn; retention
# and the model card, with their charts, only when their tab is open (a tab switch reruns the page).
tab_list, tab_calls, tab_retention, tab_model = st.tabs(
    [t("churn.tab_list"), t("churn.tab_calls"), t("churn.tab_retention"), t("churn.tab_model")],
    key="churn_tab",
    on_change="rerun",
)
if not tab_retention.open:
    keep_widgets("churn_retention_by")  # as the user left it, for when the tab is opened again
# Labels fixed at draw time (AppTest formats widget values outside the script run).
status_labels = {s: t(f"churn.status.{s}") for s in churn.STATUSES}
tier_labels = {v: t(f"churn.tier.{v}") for v in churn.VALUE_TIERS}
reason_labels = {c: t(f"churn.reason_name.{c}") for c in churn.REASON_CODES}
group_labels = {g: t(f"churn.group.{g}") for g in churn.RETENTION_GROUPS}
labels = status_labels | tier_labels
headers = {c: t(f"churn.col.{c}") for c in churn.EXPORT_COLUMNS}
# Spend and priority in whole yuan with thousands separators, as the list's reader counts them.
list_formats = {
    c: st.column_config.NumberColumn(headers[c], format="localized", step=1) for c in ("value", "priority")
}
# The churn probability as a bar with its percentage, one decimal, in the list and the call list alike
# (the call list wrote 0.9812, the list 0.98, the maintenance page 78.9%).
list_formats["churn_probability"] = st.column_config.ProgressColumn(
    headers["churn_probability"], min_value=0.0, max_value=1.0, format="percent", step=0.001
)

with tab_list:
    if gap is not None:
        # The tiles say "—": the list's statuses count only the visits in the data, so a car lost or
        # at risk before the data begin shows as active (the data's first month listed 1,079, all active).
        st.warning(t("churn.list_history_gap", date=gap.isoformat()))
    options = churn.list_options(shot.vehicles)
    relabel("churn_status", "churn_reason", "churn_tier")
    row1 = st.columns(3)
    statuses = row1[0].multiselect(
        t("churn.filter_status"),
        options["statuses"],
        # The default only on first draw: relabel may have set the value (a default beside it warns).
        default=None
        if "churn_status" in st.session_state
        else [s for s in ("lost", "at_risk") if s in options["statuses"]],
        format_func=status_labels.__getitem__,
        key="churn_status",
        placeholder=t("churn.any"),
    )
    reasons = row1[1].multiselect(
        t("churn.filter_reason"),
        options["reasons"],
        format_func=reason_labels.__getitem__,
        key="churn_reason",
        placeholder=t("churn.any"),
    )
    tiers = row1[2].multiselect(
        t("churn.filter_tier"),
        options["tiers"],
        format_func=tier_labels.__getitem__,
        key="churn_tier",
        placeholder=t("churn.any"),
    )
    row2 = st.columns(3)
    # Names as the data wrote them, a mobile typed into one masked for roles without phones (the
    # values filter; only what is shown is masked). Fixed now: AppTest formats outside the run.
    shown_as = {
        str(v): protect_text(str(v)) for v in (*options["models"], *options["advisors"], *options["stores"])
    }
    models = row2[0].multiselect(
        t("churn.filter_model"),
        options["models"],
        format_func=lambda v: shown_as.get(str(v), str(v)),
        key="churn_model",
        placeholder=t("churn.any"),
    )
    advisors = row2[1].multiselect(
        t("churn.filter_advisor"),
        options["advisors"],
        format_func=lambda v: shown_as.get(str(v), str(v)),
        key="churn_advisor",
        placeholder=t("churn.any"),
    )
    list_stores = row2[2].multiselect(
        t("churn.filter_store"),
        options["stores"],
        format_func=lambda v: shown_as.get(str(v), str(v)),
        key="churn_store",
        placeholder=t("churn.any"),
    )
    weight = st.slider(
        t("churn.weight"),
        0.0,
        2.0,
        cfg.value_weight,
        0.25,
        key="churn_weight",
        help=t("churn.weight_help"),
    )
    chosen = churn.ListFilter(
        statuses=tuple(statuses),
        reasons=tuple(reasons),
        models=tuple(models),
        advisors=tuple(advisors),
        tiers=tuple(tiers),
        stores=tuple(list_stores),
    )
    # Filter, then rank: the same rows in the same order, with less to sort.
    ranked = churn.prioritise(churn.filter_list(shot.vehicles, chosen), weight)
    top, left_out = list_top(ranked)
    shown = churn.export_frame(top, lang(), labels)
    # The base is no figure when its window reaches before the data (the tiles above say so).
    caption = (
        t("churn.list_caption", n=f"{len(ranked):,}", base=f"{counts['base']:,}", as_of=as_of.isoformat())
        if gap is None
        else t(
            "churn.list_caption_no_base", n=f"{len(ranked):,}", as_of=as_of.isoformat(), date=gap.isoformat()
        )
    )
    st.caption(caption + left_out)
    event = show_table(
        protect(shown),
        on_select="rerun",
        selection_mode="single-row",
        key="churn_list",
        # Who, how to reach them and what to say first: on a phone they fit without scrolling sideways.
        column_order=LIST_ORDER,
        column_config={
            **{c: headers[c] for c in churn.EXPORT_COLUMNS},
            **list_formats,
        },
    )
    download_buttons(
        top,
        export_name("churn_list", as_of.isoformat()),
        key="churn_list_dl",
        headers=headers,
        build=lambda: churn.export_frame(ranked, lang()),
        rows=len(ranked),
    )
    picked = event.selection.rows if event is not None else []
    if picked and picked[0] < len(top):
        row = top.iloc[picked[0]]
        name = plain(protect_text(str(row["customer_name"] or "")))
        st.subheader(t("churn.history_title", vin=plain(protect_text(str(row["vin"]))), name=name))
        # What the agent says is in the list; here the analyst's detail behind it.
        # A reason quotes the complaint category as the file gave it: masked and shown as text.
        said = churn.reason_text(row["reasons"], lang())
        st.write(plain(protect_text(said)) if said else t("churn.no_reason"))
        left, right = st.columns(2)
        with left:
            st.markdown(f"**{t('churn.visits_title')}**")
            orders = load("churn.vehicle_orders", vin=row["vin"], as_of=as_of)
            show_table(people_table(protect(orders), {"service_type": "service_type"}))
        with right:
            st.markdown(f"**{t('churn.callbacks_title')}**")
            callbacks = load("churn.vehicle_callbacks", vin=row["vin"], as_of=as_of)
            show_table(people_table(protect(callbacks), {"callback_type": "callback_type_code"}))
    else:
        st.caption(t("churn.select_hint"))

with tab_calls:
    st.caption(t("churn.calls_intro"))
    capacity, called_days, skip_complaints = call_controls(
        "churn", "churn", cfg.call_capacity, cfg.suppress_called_days
    )
    calls = churn.call_list(
        ranked,
        int(capacity),
        as_of,
        skip_open_complaints=skip_complaints,
        called_within_days=int(called_days),
    )
    st.caption(
        t(
            "churn.calls_caption",
            n=len(calls.calls),
            candidates=f"{calls.candidates:,}",
            complaints=calls.suppressed_complaint,
            recent=calls.suppressed_recent,
            days=int(called_days),
        )
    )
    call_frame = churn.export_frame(calls.calls, lang())
    show_table(
        protect(churn.export_frame(calls.calls, lang(), labels)),
        column_order=LIST_ORDER,  # the list the caller dials from: name, phone and reasons first
        column_config=headers | list_formats,
    )
    download_buttons(
        call_frame, export_name("churn_calls", as_of.isoformat()), key="churn_calls_dl", headers=headers
    )

if tab_retention.open:
    with tab_retention:
        by = (
            st.segmented_control(
                t("churn.retention_by"),
                list(churn.RETENTION_GROUPS),
                default=RETENTION_BY,
                format_func=group_labels.__getitem__,
                key="churn_retention_by",
            )
            or RETENTION_BY
        )
        curve = load("churn.retention_curve", as_of=as_of, by=by, stores=f.stores)
        rates = churn.name_retention(
            load("churn.retention_rates", as_of=as_of, by=by, stores=f.stores),
            {"all": t("churn.all"), **{k: t(f"churn.transition.{k}") for k in ("1-2", "2-3")}},
        )
        if curve.empty:
            st.info(t("churn.retention_empty"))
        else:
            curve_fig = retention_figure(curve, by)
            show(
                curve_fig,
                export_name("churn", "retention", by, f.month),
                title=t("churn.retention_title"),
                key="churn_retention",
            )
            months = cfg.retention_months
            headline = churn.retention_headline(rates)
            parts = [
                t(f"churn.retention_part.{step}", share=f"{share:.0%}", n=f"{n:,}")
                for step, (share, n) in headline.items()
            ]
            st.caption(
                t("churn.retention_caption", months=months, parts="; ".join(parts) or t("common.none"))
            )
            show_table(
                protect(rates),
                column_order=["transition", "group", "n", "returned", "rate", "small_sample"],
                column_config={
                    "transition_code": None,
                    "transition": t("churn.transition_col"),
                    "group": t(f"churn.group.{by}"),
                    "n": t("churn.eligible", months=months),
                    "returned": t("churn.returned", months=months),
                    "rate": st.column_config.NumberColumn(t("churn.rate"), format="percent", step=0.001),
                    "small_sample": t("churn.small_sample"),
                },
            )

if tab_model.open:
    with tab_model:
        model = shot.model
        if model is None:
            st.info(t("churn.no_model"))
        else:
            st.caption(
                t(
                    "churn.model_intro",
                    horizon=cfg.horizon_days,
                    cutoffs=len(model.train_cutoffs),
                    first=model.train_cutoffs[0].isoformat(),
                    last=model.train_cutoffs[-1].isoformat(),
                    n=f"{model.n_train:,}",
                )
            )
            result = model.backtest
            if result is None:
                st.info(t("churn.no_backtest"))
            else:
                table = churn_model.backtest_table(
                    result, {m: t(f"churn.metric.{m}") for m in churn_model.BACKTEST_METRICS}
                )
                st.markdown(
                    f"**{t('churn.backtest_title', cutoff=result.cutoff.isoformat(), n=f'{result.n:,}', rate=f'{result.churned / result.n:.0%}')}**"
                )
                # Shares of churners as percentages, as the caption below says them (the table wrote
                # 0.419 where the caption wrote 42%); AUC, lift and Brier with three decimals.
                shares = [m.startswith("capture_") for m in churn_model.BACKTEST_METRICS]
                for scorer in ("model", "rule"):
                    table[scorer] = [
                        f"{v:.1%}" if share else f"{v:.3f}"
                        for v, share in zip(table[scorer], shares, strict=True)
                    ]
                show_table(
                    table,
                    column_config={
                        "metric": t("churn.metric_col"),
                        "model": t("churn.scorer.model"),
                        "rule": t("churn.scorer.rule"),
                    },
                )
                st.caption(
                    t(
                        "churn.backtest_caption",
                        auc_model=f"{result.model['auc']:.2f}",
                        auc_rule=f"{result.rule['auc']:.2f}",
                        capture_model=f"{result.model['capture_20']:.0%}",
                        capture_rule=f"{result.rule['capture_20']:.0%}",
                    )
                )
                cal_fig = calibration_figure(result.calibration)
                show(
                    cal_fig,
                    export_name("churn", "calibration", result.cutoff.isoformat()),
                    title=t("churn.calibration_title"),
                    key="churn_calibration",
                )
                st.caption(t("churn.calibration_caption", cutoff=result.cutoff.isoformat()))
                top = result.importance.head(12).iloc[::-1]
                imp_fig = importance_figure(top)
                show(
                    imp_fig,
                    export_name("churn", "drivers", result.cutoff.isoformat()),
                    title=t("churn.drivers_title"),
                    key="churn_drivers",
                )
                lead = result.importance.iloc[0]
                st.caption(
                    t(
                        "churn.drivers_caption",
                        feature=t(f"churn.feature.{lead['feature']}"),
                        drop=f"{lead['importance']:.3f}",
                    )
                )
