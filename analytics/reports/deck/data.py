"""The deck's figures for one month: gathered once from the domain, the same definitions as the pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import duckdb
import pandas as pd

from analytics.core.config import settings
from analytics.core.errors import UserError
from analytics.core.months import month_ends, month_label, parse_month, shift_month
from analytics.domain import churn, churn_model, maintenance, overview, satisfaction
from analytics.services import reads

# The status of a KPI whose field the data lack (``kpi.with_field_status``); its reason is an i18n key.
MISSING_FIELD = "missing_field"

Progress = Callable[[float, str], None]


SLIDE_KEYS: tuple[str, ...] = (
    "title",
    "kpis",
    "changes",
    "satisfaction",
    "drivers",
    "praise",
    "complaints",
    "churn",
    "maintenance",
)


# Churn reasons that restate the status itself; the slide ranks the reasons behind it.
STATUS_REASONS = frozenset({"no_visit", "overdue"})


def _quiet(fraction: float, message: str) -> None:
    """Progress sink for callers that do not show progress."""


@dataclass(frozen=True)
class MaintenanceFigures:
    """The maintenance model's quality and outlook at the deck's date."""

    as_of: date
    metrics: pd.DataFrame  # maintenance.backtest_table: one row per horizon and method (model, rule)
    expected_30: float  # expected maintenance visits within 30 days (sum of p30), chosen stores
    vehicles: int  # vehicles scored


@dataclass
class DeckData:
    """The month's figures behind the deck, in no particular language."""

    month: str
    stores: list[str] | None
    as_of: date  # the day the lists are seen from: month end, or the data's end if earlier
    kpis: dict[str, overview.KpiFigure]
    provisional: dict[str, bool]
    series: pd.DataFrame  # kpi.monthly_series over the trend window
    changes: list[dict[str, Any]]
    red_flags: dict[str, int]
    red_flag_rows: pd.DataFrame  # satisfaction.red_flags rows, overdue complaints first
    satisfaction: satisfaction.SatisfactionSeries  # the satisfaction trend over the trend window
    drivers: pd.DataFrame
    driver_start: str
    dimension_means: pd.DataFrame
    praise: dict[str, Any]
    complaint: dict[str, Any]
    churn_trend: pd.DataFrame
    churn_reasons: pd.DataFrame  # code, n: lost and at-risk vehicles giving each reason
    due_next: pd.DataFrame  # kpi.due_vehicles of the month after, with the car model
    next_month: str
    maintenance: MaintenanceFigures | None  # None: not asked for, or too little history
    maintenance_note: str = ""  # why there are no model figures when they were asked for

    @property
    def report(self) -> dict[str, Any]:
        """The month's KPIs in ``kpi.report``'s shape (the e-mail summary)."""
        return overview.report_of(self.month, self.kpis)


def _months_back(month: date, count: int) -> list[date]:
    return [shift_month(month, -k) for k in range(count - 1, -1, -1)]


def churn_reason_counts(vehicles: pd.DataFrame) -> pd.DataFrame:
    """Return one row per reason code (status restatements left out): lost and at-risk vehicles giving it, most first."""
    risky = vehicles[vehicles["status"].isin(["lost", "at_risk"])]
    codes = [
        c
        for kept in risky["reason_codes"]
        for c in dict.fromkeys(churn.codes_of(kept))
        if c not in STATUS_REASONS
    ]
    counts = pd.Series(codes, dtype=object).value_counts()
    frame = pd.DataFrame({"code": [str(c) for c in counts.index], "n": counts.to_numpy(dtype=int)})
    return frame.sort_values(["n", "code"], ascending=[False, True], kind="stable").reset_index(drop=True)


def maintenance_figures(
    con: duckdb.DuckDBPyConnection, as_of: date, stores: list[str] | None, progress: Progress = _quiet
) -> MaintenanceFigures:
    """Return the maintenance model's backtest and 30-day outlook at ``as_of`` (trained and saved when
    no saved model fits this data version and date; raises ``UserError`` when history is too short)."""
    model = maintenance.fitted_model(con, as_of, progress=progress)
    outlook = maintenance.outlook(maintenance.score(con, model, as_of), stores)
    return MaintenanceFigures(
        as_of=model.as_of,
        metrics=maintenance.backtest_table(model),
        expected_30=float(outlook["p30"]),
        vehicles=int(outlook["vehicles"]),
    )


def _with_models(con: duckdb.DuckDBPyConnection, due: pd.DataFrame) -> pd.DataFrame:
    """Return the due vehicles with their car model (from the vehicles table)."""
    models = con.execute(
        "SELECT vin, model FROM vehicles WHERE vin IN (SELECT unnest($vins))", {"vins": list(due["vin"])}
    ).df()
    return due.merge(models, on="vin", how="left")


def deck_data(
    con: duckdb.DuckDBPyConnection,
    month: str,
    stores: list[str] | None = None,
    progress: Progress = _quiet,
    maintenance_model: bool = True,
) -> DeckData:
    """Return the figures of ``month`` (``YYYY-MM``) for the deck, reporting progress as it goes.

    ``maintenance_model`` adds the maintenance model's quality and outlook, training the model
    (about 15 s on a store's three years) when none is saved for this data version and month.
    """
    cfg = settings().deck
    first = parse_month(month)
    label = month_label(first)
    window = _months_back(first, cfg.trend_months)
    progress(0.05, "kpis")
    summary = reads.read(con, "overview.kpis", month=label, stores=stores)
    series = summary.series
    # A KPI whose field the data lack (no callbacks imported: 3DC coverage read 0.0%) has no value,
    # as on the page and in ``report``; ``reason`` holds the i18n key of why, said in each language.
    kpis = {
        name: replace(figure, value=None, prev_month=None, prev_year=None, status=MISSING_FIELD, reason=key)
        if (key := summary.missing.get(name))
        else figure
        for name, figure in summary.kpis.items()
    }
    provisional = {name: figure.status == "provisional" for name, figure in kpis.items()}
    flags = summary.red_flags
    progress(0.2, "satisfaction")
    sat = reads.read(con, "satisfaction.monthly", stores=stores, start=window[0], end=first)
    driver_start, driver_end = satisfaction.driver_window(first)
    drivers = reads.read(con, "satisfaction.drivers", stores=stores, start=driver_start, end=driver_end)
    # Said from the data's first month on (nothing before it was read).
    driver_start = satisfaction.shown_driver_window(first, reads.read(con, "facts.months"))[0]
    means = reads.read(con, "satisfaction.dimensions", stores=stores, start=window[0], end=first)
    progress(0.35, "praise")
    praise = reads.read(con, "themes.monthly", month=label, side="praise", stores=stores)
    progress(0.5, "complaints")
    complaint = reads.read(con, "themes.monthly", month=label, side="complaint", stores=stores)
    progress(0.65, "churn")
    churn_as_of = month_ends([label])[0]
    trend = reads.read(
        con, "churn.trend", as_of_dates=month_ends([month_label(m) for m in window]), stores=stores
    )
    vehicles = churn.churn_list(churn_model.features(con, [churn_as_of], stores), None, churn_as_of)
    progress(0.75, "maintenance")
    following = shift_month(first, 1)
    due = _with_models(con, reads.read(con, "kpi.due_vehicles", month=following, stores=stores))
    figures: MaintenanceFigures | None = None
    note = ""
    if maintenance_model:
        try:
            figures = maintenance_figures(
                con,
                summary.as_of,
                stores,
                lambda f, step: progress(0.75 + 0.2 * f, f"maintenance: {step}"),
            )
        except UserError as exc:
            note = str(exc)
    progress(0.95, "slides")
    return DeckData(
        month=label,
        stores=list(stores) if stores else None,
        as_of=summary.as_of,
        kpis=kpis,
        provisional=provisional,
        series=series,
        changes=summary.changes,
        red_flags={name: int((flags["flag"] == name).sum()) for name in ("no_followup", "complaint_overdue")},
        red_flag_rows=flags.assign(_first=flags["flag"] != "complaint_overdue")
        .sort_values(["_first", "callback_date"], ascending=[True, False], kind="stable")
        .drop(columns="_first")
        .reset_index(drop=True),
        satisfaction=sat,
        drivers=drivers,
        driver_start=driver_start,
        dimension_means=means,
        praise=praise,
        complaint=complaint,
        churn_trend=trend,
        churn_reasons=churn_reason_counts(vehicles),
        due_next=due,
        next_month=month_label(following),
        maintenance=figures,
        maintenance_note=note,
    )
