"""The vehicle at a date: odometer trend, maintenance schedule, the schedule rules and the model inputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd

from analytics.core.config import Maintenance, settings
from analytics.core.errors import UserError
from analytics.domain import counts, schedule
from analytics.store import db, derived, queries

if TYPE_CHECKING:  # scikit-learn loads where a model is fitted or scored, not with the page's kept results
    pass


FIRST_MAINTENANCE = "first_maintenance"


REACHABILITY: tuple[str, ...] = ("reachable", "untried", "hard_to_reach", "no_phone")


# Model inputs, all known at the snapshot date; the order is the fitted model's column order.
# The last two are categories (car model, type of the last visit); the others are numbers.
FEATURES: tuple[str, ...] = (
    "days_to_due",
    "rhythm_days_to_due",
    "due_fraction",
    "km_since_service",
    "days_since_service",
    "km_per_day",
    "km_now",
    "odometer_readings",
    "trend_from_fleet",
    "age_days",
    "new_car",
    "first_maintenance_done",
    "warranty_active",
    "days_since_visit",
    "visits",
    "visits_365",
    "maintenance_visits",
    "maintenance_gap_days",
    "gap_ratio",
    "repairs_365",
    "body_paint_730",
    "spend_730",
    "appointment_share",
    "callback_attempts",
    "last_reached",
    "last_score",
    "complaints_730",
    "items_due_count",
    "month_of_year",
    "car_model",
    "last_service_type",
)


CATEGORICAL: tuple[str, ...] = ("car_model", "last_service_type")


# Car models get codes in order of frequency; the rarest beyond this count share "unknown".
MAX_CAR_MODELS = 60


def _config() -> Maintenance:
    return settings().maintenance


def _base_days() -> int:
    return settings().churn.base_days


def last_visit_date(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """Return the latest visit date in the work orders (the default as-of date), or None when empty;
    a visit dated after today is a typo (2062 for 2026) and is passed over while an earlier one exists."""
    row = con.execute(
        "SELECT coalesce(max(visit_date) FILTER (WHERE visit_date <= $today), max(visit_date)) FROM service_orders",
        {"today": dt.date.today()},
    ).fetchone()
    return row[0] if row and row[0] else None


def _resolve_as_of(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> dt.date:
    if as_of is not None:
        return as_of
    last = last_visit_date(con)
    if last is None:
        raise UserError("There are no work orders yet; import service records or build the demo first.")
    return last


def sampled_vins(vins: pd.Series, share: float, seed: int) -> np.ndarray:
    """Return which of ``vins`` are in a seeded sample of about ``share`` of all vehicles.

    A vehicle is in or out by a hash of its VIN and the seed alone, so the sample is the same
    vehicles at every date (and in every process); everything is kept at a share of one."""
    if share >= 1.0:
        return np.ones(len(vins), dtype=bool)
    hashed = pd.util.hash_pandas_object(vins.astype(str), index=False, hash_key=f"{seed:016d}"[-16:])
    return (hashed.to_numpy() % 1_000_000) < round(share * 1_000_000)


def vehicle_state(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    stores: Sequence[str] | None = None,
    share: float = 1.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Return one row per active-base vehicle at ``as_of`` (of ``stores``' vehicles, all when None):
    km per day, estimated km now, km and days since the last maintenance, the schedule's due date,
    items due and the rule score, from records dated on or before ``as_of`` only.

    A store's rows are the group's rows of that store: the fleet's km per day (for cars without
    a trend of their own) is the whole base's, and nothing else reads across vehicles. Below a
    ``share`` of one, only the vehicles of ``sampled_vins`` are replayed (training snapshots)."""
    cfg = _config()
    # The trend and the visits of the active base's vehicles only: the others are not scored.
    base = {"as_of": as_of, "base_days": _base_days()}
    # The odometer trend of every vehicle: the fleet's km per day is taken over the whole base.
    trend = odometer_trend(con, as_of)
    fleet = _fleet_km_per_day(trend, cfg)
    # The history and the visits of the vehicles asked for only (a store's, a sample): the rows
    # they would give for every vehicle, filtered (a superset in SQL, the exact rows below).
    vins = _chosen_vins(con, base, stores, share, seed)
    # The callbacks come from callback_facts (its mart while current), which binds the complaint limits.
    history = derived.run(
        con, "maintenance_vehicle_history", {**counts.sql_params(None), **base, "vins": vins}
    )
    visits = queries.run(con, "maintenance_visits", {**base, "vins": vins})
    state = history.merge(trend, on="vin", how="left")
    if stores:
        state = state[state["store"].isin(list(stores))].reset_index(drop=True)
    if share < 1.0:
        state = state[sampled_vins(state["vin"], share, seed)].reset_index(drop=True)
    return _with_schedule(state, visits, as_of, cfg, fleet)


def odometer_trend(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """Return the odometer trend of every vehicle in the active base at ``as_of`` (one row per VIN).

    While the SQL mart ``trend_days`` is current (this data version, these settings), each
    vehicle's points and km per day are its row of its latest visit day up to ``as_of``: the
    pairwise slopes of every vehicle of a group cost about 0.9 s at a million work orders, and a
    store's maintenance page, and each of the model's training dates, needs them all for the
    fleet's km per day. The query runs instead when the mart is not current, or when a base
    vehicle's orders carry a purchase date after its latest visit (its purchase day may be a
    point that day's row does not hold).
    """
    params = {**counts.sql_params(None), "as_of_dates": [as_of]}
    looked_up: frozenset[str] = frozenset()
    if derived.ready(con, ["trend_days"], params, []):
        later = con.execute(
            "SELECT count(*) FROM mart_trend_days WHERE purchase_max > visit_date AND visit_date <= $d "
            "AND (next_visit IS NULL OR next_visit > $d) AND visit_date > $d - $base_days",
            {"d": as_of, "base_days": params["base_days"]},
        ).fetchone()
        if not later or not later[0]:
            looked_up = frozenset({"maintenance_odometer_points"})
    trend = queries.run(con, "maintenance_odometer_trend", params, looked_up)
    return trend.drop(columns="as_of")


def _chosen_vins(
    con: duckdb.DuckDBPyConnection,
    base: dict[str, Any],
    stores: Sequence[str] | None,
    share: float,
    seed: int,
) -> list[str] | None:
    """Return the active base's VINs with a work order of ``stores`` and in the sample of ``share``
    (None when that is every vehicle)."""
    if not stores and share >= 1.0:
        return None
    found = queries.run(con, "maintenance_base_vins", {**base, "stores": list(stores) if stores else None})[
        "vin"
    ]
    if share < 1.0:
        found = found[sampled_vins(found, share, seed)]
    return found.astype(str).tolist()


def _fleet_km_per_day(state: pd.DataFrame, cfg: Maintenance) -> float:
    """Return the median km per day of the vehicles with a trend of their own (the setting's default without any)."""
    known = state["km_per_day"].to_numpy(dtype=float)
    finite = known[np.isfinite(known)]
    return float(np.median(finite)) if finite.size else cfg.default_km_per_day


def _with_schedule(
    state: pd.DataFrame, visits: pd.DataFrame, as_of: dt.date, cfg: Maintenance, fleet: float | None = None
) -> pd.DataFrame:
    out = state.copy()
    known = out["km_per_day"].to_numpy(dtype=float)
    fleet = _fleet_km_per_day(out, cfg) if fleet is None else fleet
    from_fleet = ~np.isfinite(known)
    kmpd = np.where(from_fleet, fleet, known)
    km_now = out["km_now"].to_numpy(dtype=float)
    # One reading and no purchase date: project that reading at the fleet's pace.
    projected = out["last_reading_km"].to_numpy(dtype=float) + kmpd * out["days_since_reading"].to_numpy(
        dtype=float
    )
    out["km_per_day"] = kmpd
    out["trend_from_fleet"] = from_fleet.astype(float)
    out["km_now"] = np.where(np.isfinite(km_now), km_now, projected)
    out["as_of"] = pd.Timestamp(as_of)
    for name, values in _schedule_plan(out, visits, as_of).items():
        out[name] = values
    gap = out["maintenance_gap_days"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["gap_ratio"] = np.where(gap > 0, out["days_since_service"].to_numpy(dtype=float) / gap, np.nan)
    # The owner's own rhythm: next maintenance one median interval after the last one (two or more
    # maintenance visits); the schedule's due date for the others.
    since_maint = (pd.Timestamp(as_of) - pd.to_datetime(out["last_maintenance"])).dt.days.to_numpy(
        dtype=float
    )
    own = np.isfinite(gap) & (gap > 0) & np.isfinite(since_maint)
    out["rhythm_days_to_due"] = np.where(own, gap - since_maint, out["days_to_due"].to_numpy(dtype=float))
    churn_cfg = settings().churn
    age = out["age_days"].to_numpy(dtype=float)
    in_warranty = (age <= 365.25 * churn_cfg.warranty_years) & (
        out["km_now"].to_numpy(dtype=float) <= churn_cfg.warranty_km
    )
    out["warranty_active"] = np.where(np.isfinite(age), in_warranty.astype(float), np.nan)
    out["first_maintenance_done"] = out["first_maintenance_done"].astype(float)
    out["month_of_year"] = float(as_of.month)
    out["last_reached"] = out["last_reached"].astype(float)
    out["reachability"] = _reachability(out)
    return out


def _schedule_plan(state: pd.DataFrame, visits: pd.DataFrame, as_of: dt.date) -> dict[str, Any]:
    """Apply the schedule: the rule's due date, and each item replayed over the maintenance visits."""
    kmpd = state["km_per_day"].to_numpy(dtype=float)
    km_now = state["km_now"].to_numpy(dtype=float)
    age = state["age_days"].to_numpy(dtype=float)
    since_first = state["days_since_first_visit"].to_numpy(dtype=float)
    has_purchase = np.isfinite(age)
    # The history is complete when the car was bought inside the data or its first maintenance is
    # on record; otherwise the replay starts at the first visit we know of, assuming the items
    # were in order then (starting at purchase would call every item of an old car overdue).
    complete = has_purchase & (
        state["first_maintenance_done"].to_numpy(dtype=bool)
        | (age <= state["days_since_data_start"].to_numpy(dtype=float))
    )
    start_ago = np.where(complete, age, since_first)
    start_km = np.where(complete, 0.0, np.clip(km_now - kmpd * since_first, 0, None))
    ago, km = _visit_grid(state, visits, kmpd, km_now)

    items = schedule.items()
    routine = schedule.routine_maintenance()
    done_ago = {it.key: start_ago.copy() for it in items}
    done_km = {it.key: start_km.copy() for it in items}
    for j in range(ago.shape[1]):
        # Only the vehicles with a j-th visit: most have a few, and the widest row sets the grid's
        # width (replaying every vehicle at every column took a second at group scale).
        rows = np.flatnonzero(np.isfinite(ago[:, j]))
        a, m = ago[rows, j], km[rows, j]
        for it in items:
            # The workshop does an item at a visit once it is in its range, or when it would run past
            # the range's end before the next routine visit.
            last_ago, last_km = done_ago[it.key][rows], done_km[it.key][rows]
            hit = it.routine | _reached(it, last_ago - a, m - last_km, routine)
            done_ago[it.key][rows] = np.where(hit, a, last_ago)
            done_km[it.key][rows] = np.where(hit, m, last_km)

    last_maintenance = state["last_maintenance"]
    new_car = last_maintenance.isna().to_numpy() & complete
    # The rule sees the vehicle's own pace only, as the due-maintenance KPI does.
    trend_kmpd = np.where(state["trend_from_fleet"].to_numpy(dtype=float) > 0, np.nan, kmpd)
    since_maint = (pd.Timestamp(as_of) - pd.to_datetime(last_maintenance)).dt.days.to_numpy(dtype=float)
    days_to_due = schedule.days_to_due(since_maint, age, trend_kmpd)
    due_dates = pd.Timestamp(as_of) + pd.to_timedelta(days_to_due, unit="D")
    maintained = np.isfinite(since_maint)
    routine_key = next((it.key for it in items if it.routine), None)
    if routine_key is not None:
        km_since = km_now - done_km[routine_key]
    else:
        km_since = km_now - start_km
    days_since = np.where(maintained, since_maint, start_ago)
    first = schedule.first_maintenance()
    interval_days = np.where(new_car, first.days, routine.days)
    interval_km = np.where(new_car, first.km, routine.km)
    fraction = np.fmax(days_since / interval_days, km_since / interval_km)

    at = np.clip(np.nan_to_num(days_to_due, nan=0.0), 0, None)
    codes: list[list[str]] = [[] for _ in range(len(new_car))]
    # How far past its interval each due item is at the as-of date: (code, km over, days over).
    overdue: list[list[tuple[str, float, float]]] = [[] for _ in range(len(new_car))]
    for i in np.flatnonzero(new_car):
        codes[i].append(FIRST_MAINTENANCE)
        overdue[i].append((FIRST_MAINTENANCE, km_now[i] - first.km, age[i] - first.days))
    for it in items:
        if it.routine:
            flag = ~new_car
            km_over, days_over = km_since - routine.km, days_since - routine.days
        else:
            flag = _reached(it, done_ago[it.key] + at, km_now + kmpd * at - done_km[it.key], None)
            km_over = km_now - done_km[it.key] - it.km[0] if it.km else np.full(len(flag), np.nan)
            days_over = done_ago[it.key] - it.days[0] if it.days else np.full(len(flag), np.nan)
        # Python numbers a list at a time: indexing numpy arrays row by row took a second at group scale.
        rows = np.flatnonzero(flag)
        for row, km_past, days_past in zip(
            rows.tolist(),
            km_over[rows].astype(float).tolist(),
            days_over[rows].astype(float).tolist(),
            strict=True,
        ):
            codes[row].append(it.key)
            overdue[row].append((it.key, km_past, days_past))
    return {
        "new_car": new_car.astype(float),
        "km_since_service": km_since,
        "days_since_service": days_since,
        "days_to_due": days_to_due,
        "due_fraction": fraction,
        "rule_due_date": due_dates,
        "rule_due_km": km_now + kmpd * at,
        "items_due": [",".join(c) for c in codes],
        "items_overdue": overdue,
        "items_due_count": np.array([float(len(c)) for c in codes]),
    }


def _visit_grid(
    state: pd.DataFrame, visits: pd.DataFrame, kmpd: np.ndarray, km_now: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (days ago, km) of each vehicle's maintenance visits as rows of a padded grid, oldest first."""
    n = len(state)
    # Each visit's row in ``state`` (-1: not a state vehicle); a hash lookup, not isin over strings.
    found = pd.Index(state["vin"].to_numpy(dtype=object)).get_indexer(visits["vin"].to_numpy(dtype=object))
    v = visits[found >= 0]
    if v.empty:
        return np.full((n, 0), np.nan), np.full((n, 0), np.nan)
    rows = found[found >= 0]
    order = v.groupby("vin", sort=False).cumcount().to_numpy()
    width = int(order.max()) + 1
    ago, km = np.full((n, width), np.nan), np.full((n, width), np.nan)
    days_ago = v["days_ago"].to_numpy(dtype=float)
    reading = v["km"].to_numpy(dtype=float)
    fitted = np.clip(km_now[rows] - kmpd[rows] * days_ago, 0, None)
    # A reading far off the vehicle's own trend is a keying error: trust the trend there.
    plausible = np.abs(reading - fitted) <= np.maximum(2000.0, 0.25 * fitted)
    ago[rows, order] = days_ago
    km[rows, order] = np.where(np.isfinite(reading) & plausible, reading, fitted)
    return ago, km


def _reached(
    item: schedule.Item, days: np.ndarray, km: np.ndarray, step: schedule.Interval | None
) -> np.ndarray:
    """Return where an item is due after ``days`` and ``km``: in its range, or past its end by the next step."""
    flag = np.zeros(len(days), dtype=bool)
    with np.errstate(invalid="ignore"):
        if item.days:
            flag |= days >= item.days[0]
            if step is not None:
                flag |= days + step.days > item.days[1]
        if item.km:
            flag |= km >= item.km[0]
            if step is not None:
                flag |= km + step.km > item.km[1]
    return flag


def _reachability(state: pd.DataFrame) -> list[str]:
    """Return one code per vehicle: no_phone, hard_to_reach, reachable or untried."""
    out: list[str] = []
    for phone_ok, unreached, attempts, last in zip(
        state["phone_ok"],
        state["last_two_unreached"],
        state["callback_attempts"],
        state["last_reached"],
        strict=True,
    ):
        if not bool(phone_ok):
            out.append("no_phone")
        elif attempts == 0:
            out.append("untried")
        elif bool(unreached) or not last:
            out.append("hard_to_reach")
        else:
            out.append("reachable")
    return out


def rule_score(days_to_due: np.ndarray, horizon: int) -> np.ndarray:
    """Return the schedule rule's score for a visit within ``horizon`` days: 1 when the due date falls
    in the horizon (or at most ``rule_overdue_days`` before today), falling with the distance in
    months outside it; 0 where the schedule cannot place the vehicle."""
    overdue = _config().rule_overdue_days
    days = np.asarray(days_to_due, dtype=float)
    distance = np.where(days < -overdue, -overdue - days, np.where(days > horizon, days - horizon, 0.0))
    return np.where(np.isfinite(days), 1.0 / (1.0 + distance / 30.0), 0.0)


def next_visits(con: duckdb.DuckDBPyConnection, as_of: dt.date, until: dt.date) -> pd.DataFrame:
    """Return one row per vehicle with a visit in (as_of, until]: days to the first maintenance visit
    (``days_to_next_visit``, NaN without one) and to the first visit of any kind (``days_to_next_any``)."""
    return queries.run(
        con,
        "maintenance_next_visit",
        {"as_of": as_of, "until": until, "service_types": list(schedule.MAINTENANCE_TYPES)},
    )


def _snapshot(
    con: duckdb.DuckDBPyConnection, cutoff: dt.date, until: dt.date, share: float = 1.0, seed: int = 0
) -> pd.DataFrame:
    """Return the vehicle state at ``cutoff`` with its outcomes up to ``until``: days to the next
    maintenance visit and to the next visit of any kind (a sample of the vehicles below a
    ``share`` of one, see ``vehicle_state``)."""
    state = vehicle_state(con, cutoff, share=share, seed=seed)
    outcome = next_visits(con, cutoff, until)
    frame = state.merge(outcome, on="vin", how="left")
    frame["cutoff"] = pd.Timestamp(cutoff)
    return frame


_OUTCOME = {"maintenance": "days_to_next_visit", "any": "days_to_next_any"}


def _labels(frame: pd.DataFrame, horizon: int, target: str = "maintenance") -> np.ndarray:
    return (frame[_OUTCOME[target]].to_numpy(dtype=float) <= horizon).astype(int)


def _vocabulary(frame: pd.DataFrame) -> tuple[str, ...]:
    """Return the car models to give codes to, most frequent first (ties by name)."""
    counts = frame["model"].dropna().astype(str).value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(str(name) for name, _ in ordered[:MAX_CAR_MODELS])


def _matrix(frame: pd.DataFrame, vocab: Sequence[str]) -> np.ndarray:
    numeric = frame[[f for f in FEATURES if f not in CATEGORICAL]].to_numpy(dtype=float)
    models = pd.Categorical(frame["model"], categories=list(vocab)).codes.astype(float)
    kinds = pd.Categorical(frame["last_service_type"], categories=list(db.SERVICE_TYPES)).codes.astype(float)
    return np.column_stack(
        [numeric, np.where(models < 0, np.nan, models), np.where(kinds < 0, np.nan, kinds)]
    )


def _rule_days(frame: pd.DataFrame, method: str) -> np.ndarray:
    """Return each vehicle's days to its due date by a rule: the schedule, or the owner's own rhythm."""
    column = "days_to_due" if method == "rule" else "rhythm_days_to_due"
    return frame[column].to_numpy(dtype=float)


def _database_name(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return str(Path(row[0]).resolve()) if row and row[0] else ":memory:"
