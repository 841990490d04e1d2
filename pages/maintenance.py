"""Predictive maintenance: the ranked invitation list, and the model card with its backtest."""

from __future__ import annotations

import streamlit as st

from analytics.core.config import settings
from analytics.core.months import month_ends
from analytics.domain import maintenance
from analytics.services import models
from ui.auth import authorize, can, protect, record
from ui.charts import export_name, show
from ui.data import writing
from ui.i18n import lang, t
from ui.maintenance_figures import backtest_figure, calibration_figure, importance_figure, weeks_figure
from ui.resources import fitted_view, forget_fitted
from ui.state import filters, keep_widgets, relabel
from ui.widgets import call_controls, download_buttons, progress_bar, show_table

FIRST_COLUMNS = ("customer_name", "phone", "items_due", "p30")
f = filters()
st.title(t("maintenance.title"))
if f.month is None:
    st.info(t("app.empty_db"))
    st.stop()

cfg = settings().maintenance
# As of the end of the month picked in the sidebar (the last data day for the newest month).
month_end = month_ends([f.month])[0]
with st.spinner(t("maintenance.fitting", as_of=month_end.isoformat())):
    shot, stand_in = fitted_view("maintenance.snapshot", as_of=month_end, stores=f.stores)
as_of = shot.as_of.isoformat()
if shot.model is None:
    st.warning(t("maintenance.no_model_month", as_of=as_of, reason=shot.note or ""))
    st.stop()
model = shot.model
scores = shot.scores
st.caption(t("maintenance.intro_month", n=f"{len(scores):,}", as_of=as_of))
if stand_in:  # an earlier month's scores as computed before the last import or fit, until redone
    st.caption(t("maintenance.stand_in", trained=model.as_of.isoformat()))
elif model.as_of < shot.as_of:
    st.caption(t("maintenance.older_model", trained=model.as_of.isoformat()))
elif model.as_of > shot.as_of:
    st.caption(t("maintenance.hindsight", trained=model.as_of.isoformat(), as_of=as_of))

outlook = maintenance.outlook(scores, f.stores)
tiles = st.columns(4)
tiles[0].metric(t("maintenance.vehicles"), f"{int(outlook['vehicles']):,}")
for tile, h in zip(tiles[1:], maintenance.HORIZONS, strict=True):
    tile.metric(
        t("maintenance.expected", h=h), f"{outlook[f'p{h}']:,.0f}", help=t("maintenance.expected_help")
    )
st.caption(
    t(
        "maintenance.any_caption",
        any30=f"{outlook['any30']:,.0f}",
        any60=f"{outlook['any60']:,.0f}",
        any90=f"{outlook['any90']:,.0f}",
    )
)

# Labels fixed at run time: AppTest calls format_func outside the run, where the language is unknown.
horizon_labels = {h: t("maintenance.horizon_n", h=h) for h in maintenance.HORIZONS}
# Only the open tab is drawn (switching reruns the page): the model card's four charts wait until
# someone opens it. The closed tab's choices are kept for when it is opened again.
LIST_WIDGETS = ("maint_horizon", "maint_min_p", "maint_items", "maint_reachable", "maint_capacity")
LIST_WIDGETS += ("maint_suppress_days", "maint_skip_complaints")
tab_list, tab_card = st.tabs(
    [t("maintenance.tab_list"), t("maintenance.tab_card")], key="maint_tab", on_change="rerun"
)
keep_widgets(*(() if tab_list.open else LIST_WIDGETS), *(() if tab_card.open else ("maint_card_horizon",)))

if tab_list.open:
    with tab_list:
        names = maintenance.item_names(lang())
        relabel("maint_items")
        left, middle, right = st.columns([3, 2, 3])
        horizon = left.segmented_control(
            t("maintenance.horizon"),
            maintenance.HORIZONS,
            default=30,
            format_func=horizon_labels.__getitem__,
            key="maint_horizon",
        )
        horizon = horizon or 30
        min_p = middle.slider(t("maintenance.min_probability"), 0.0, 1.0, 0.3, 0.05, key="maint_min_p")
        chosen_items = right.multiselect(
            t("maintenance.items_filter"),
            list(names),
            format_func=names.__getitem__,
            key="maint_items",
            help=t("maintenance.items_filter_help"),
            placeholder=t("maintenance.items_any"),
        )
        reachable = st.checkbox(
            t("maintenance.reachable_only"), key="maint_reachable", help=t("maintenance.reachable_only_help")
        )
        capacity, called_days, skip_complaints = call_controls(
            "maintenance", "maint", cfg.invitation_capacity, cfg.suppress_called_days
        )
        invitations = maintenance.invitation_list(
            scores,
            horizon=horizon,
            min_probability=min_p,
            stores=f.stores,
            items=chosen_items,
            reachable_only=reachable,
        )
        today = maintenance.daily_invitations(
            invitations,
            int(capacity),
            shot.as_of,
            skip_open_complaints=skip_complaints,
            called_within_days=int(called_days),
        )
        shown = maintenance.labelled(today.calls, lang())
        headers = {c: t(f"maintenance.col.{c}") for c in shown.columns}
        if shown.empty:
            st.info(t("maintenance.list_empty"))
        else:
            probability = {
                # One decimal in every row (79.1%, 79.0%; it wrote 79.1% above 79.08%).
                c: st.column_config.ProgressColumn(
                    headers[c], min_value=0.0, max_value=1.0, format="percent", step=0.001
                )
                for c in ("p30", "p60", "p90", "any30")
            }
            dates = {
                c: st.column_config.DateColumn(headers[c], format="YYYY-MM-DD")
                for c in ("due_date", "rule_due_date", "last_visit", "last_called")
            }
            show_table(
                protect(shown),
                # Who, how to reach them and what is due first: on a phone they fit without scrolling sideways.
                column_order=[
                    c
                    for c in dict.fromkeys((*FIRST_COLUMNS, *maintenance.LIST_COLUMNS))
                    if c in shown.columns
                ],
                column_config={c: headers[c] for c in shown.columns} | probability | dates,
            )
        st.caption(
            t("maintenance.list_caption", n=f"{len(invitations):,}", p=f"{min_p:.0%}", h=horizon)
            + " "
            + t(
                "maintenance.capacity_caption",
                n=len(today.calls),
                candidates=f"{today.candidates:,}",
                p=f"{min_p:.0%}",
                h=horizon,
                complaints=today.suppressed_complaint,
                recent=today.suppressed_recent,
                days=int(called_days),
            )
        )
        download_buttons(
            shown,
            export_name("maintenance", "invitations", as_of),
            key="maint_list",
            headers=headers,
        )

        # The chosen stores' vehicles are the snapshot's own: sums over them need no ranking (ranking
        # the group's 195,000 took 0.3-0.6 s at every rerun of the page).
        weeks = maintenance.expected_visits_by_week(scores, shot.as_of)
        overdue = maintenance.overdue_counts(scores, shot.as_of)
        fig = weeks_figure(weeks)
        show(
            fig,
            export_name("maintenance", "expected-per-week", as_of),
            title=t("maintenance.expected_weeks_title"),
        )
        st.caption(
            t(
                "maintenance.expected_weeks_caption",
                as_of=as_of,
                m30=f"{maintenance.expected_within(scores, 30):,.0f}",
                model_overdue=f"{overdue['model']:,}",
                rule_overdue=f"{overdue['rule']:,}",
            )
        )

if tab_card.open:
    with tab_card:
        summary = maintenance.backtest_summary(model)
        cutoff, n_bt = summary["backtest_cutoff"], summary["vehicles"]
        h30 = summary["horizons"]["30"]
        losing = [
            h
            for h, m in summary["horizons"].items()
            if (m["model"]["roc_auc"] or 0) <= max(m["rule"]["roc_auc"] or 0, m["rhythm"]["roc_auc"] or 0)
        ]
        st.markdown(
            t("maintenance.verdict_beats")
            if not losing
            else t("maintenance.verdict_mixed", horizons=", ".join(losing))
        )
        st.markdown(
            t(
                "maintenance.verdict_rules",
                auc=f"{(h30['model']['roc_auc'] or 0):.3f}",
                rule_auc=f"{(h30['rule']['roc_auc'] or 0):.3f}",
                rhythm_auc=f"{(h30['rhythm']['roc_auc'] or 0):.3f}",
            )
        )
        st.markdown(
            t(
                "maintenance.quality",
                cutoff=cutoff,
                n=f"{n_bt:,}",
                auc_share=f"{(h30['model']['roc_auc'] or 0):.0%}",
                auc=f"{(h30['model']['roc_auc'] or 0):.2f}",
                rule_auc=f"{(h30['rule']['roc_auc'] or 0):.2f}",
                lift=f"{(h30['model']['lift_top_decile'] or 0):.1f}",
                rule_lift=f"{(h30['rule']['lift_top_decile'] or 0):.1f}",
                ece=f"{(h30['model']['calibration_error'] or 0):.1%}",
            )
        )
        err = summary["due_date_error_days"]
        if err["dated"]:
            st.markdown(
                t(
                    "maintenance.due_error",
                    n=f"{err['dated']:,}",
                    model=f"{err['model_mae_days']:.0f}",
                    rule=f"{err['rule_mae_days']:.0f}",
                )
            )
        weak = maintenance.weakest_segment(model)
        if weak:
            st.markdown(
                t(
                    "maintenance.weak_segment",
                    segment=t(f"maintenance.segment.{weak['segment']}"),
                    n=f"{weak['n']:,}",
                    auc=f"{weak['model_auc']:.2f}",
                    rule_auc=f"{weak['rule_auc']:.2f}",
                )
            )
        st.markdown(t("maintenance.limits"))

        st.subheader(t("maintenance.backtest_title"))
        table = maintenance.backtest_table(model, methods=maintenance.METHODS)
        methods = {m: t(f"maintenance.{m}") for m in maintenance.METHODS}
        auc_col, lift_col = st.columns(2)
        for column, metric, title in (
            (auc_col, "roc_auc", t("maintenance.auc_title")),
            (lift_col, "lift_top_decile", t("maintenance.lift_title")),
        ):
            fig = backtest_figure(table, metric, methods, horizon_labels)
            with column:
                show(fig, export_name("maintenance", metric, cutoff), title=title)
        st.caption(t("maintenance.backtest_caption", cutoff=cutoff, n=f"{n_bt:,}"))
        full = maintenance.backtest_table(model, target=None, methods=maintenance.METHODS)
        with st.expander(t("maintenance.metrics_table")):
            show_table(
                full.assign(
                    method=full["method"].map(methods),
                    target=full["target"].map(lambda code: t(f"maintenance.target_{code}")),
                ).rename(columns={c: t(f"maintenance.metric.{c}") for c in full.columns}),
            )

        card_h = st.segmented_control(
            t("maintenance.card_horizon"),
            maintenance.HORIZONS,
            default=30,
            format_func=horizon_labels.__getitem__,
            key="maint_card_horizon",
        )
        card_h = card_h or 30
        calib_col, imp_col = st.columns(2)
        calibration = maintenance.calibration_table(model)
        fig = calibration_figure(calibration, card_h, methods)
        with calib_col:
            show(
                fig,
                export_name("maintenance", "calibration", f"{card_h}d", cutoff),
                title=t("maintenance.calibration_title"),
            )
            st.caption(t("maintenance.calibration_caption", h=card_h, cutoff=cutoff))
        importance = maintenance.importance_table(model, card_h)
        fig = importance_figure(importance)
        with imp_col:
            show(
                fig,
                export_name("maintenance", "importance", f"{card_h}d", cutoff),
                title=t("maintenance.importance_title"),
            )
            st.caption(t("maintenance.importance_caption", h=card_h))

        st.caption(
            t(
                "maintenance.trained",
                trained_at=model.trained_at.strftime("%Y-%m-%d %H:%M"),
                seconds=f"{model.train_seconds:.0f}",
                rows=f"{model.rows:,}",
                dates=len(model.cutoffs),
                first=model.cutoffs[0].isoformat(),
                last=model.cutoffs[-1].isoformat(),
                version=model.data_version,
                seed=model.seed,
                bt_dates=len(summary["training_cutoffs"]),
                bt_last=summary["training_cutoffs"][-1],
            )
        )
        # Retraining writes: offered to roles that may change data, and checked again when it runs.
        if (
            can().import_data
            and st.button(t("maintenance.retrain"), help=t("maintenance.retrain_help"), key="maint_retrain")
            and authorize("retrain")
        ):
            bar = progress_bar(t("maintenance.training"))
            with writing() as cur:
                fresh = models.retrain(
                    cur, month_end, progress=lambda share, step: bar(share, t(f"maintenance.step.{step}"))
                )
            forget_fitted()
            record("retrain", {"data_version": fresh.data_version, "seconds": round(fresh.train_seconds, 1)})
            st.toast(t("maintenance.retrained", seconds=f"{fresh.train_seconds:.0f}"))
            st.rerun()
