"""Scoring the active base at a date and the invitation list the CS lead works from."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analytics.core.errors import UserError
from analytics.core.i18n import text
from analytics.domain import schedule
from analytics.store import db

if TYPE_CHECKING:  # scikit-learn loads where a model is fitted or scored, not with the page's kept results
    pass
from analytics.domain.maintenance.features import FIRST_MAINTENANCE, _config, vehicle_state
from analytics.domain.maintenance.model import HORIZONS, MaintenanceModel, _due_in_days, _load_openmp

SCORE_COLUMNS: tuple[str, ...] = (
    "vin",
    "plate",
    "customer_name",
    "phone",
    "model",
    "store",
    "p30",
    "p60",
    "p90",
    "any30",
    "any60",
    "any90",
    "due_date",
    "due_km",
    "km_now",
    "km_per_day",
    "km_since_service",
    "days_since_service",
    "items_due",
    "items_overdue",
    "rule_due_date",
    "last_visit",
    "last_service_type",
    "reachability",
    "last_called",
    "open_complaint",
)

# Kept as JSON: NaN (an item without a km interval) is written as NaN and read back as NaN.
_ITEMS_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

# The invitation list as the CS lead reads it: who, how likely, when, what, how to reach.
LIST_COLUMNS: tuple[str, ...] = (
    "rank",
    "plate",
    "customer_name",
    "phone",
    "model",
    "p30",
    "p60",
    "p90",
    "due_date",
    "due_km",
    "km_since_service",
    "items_due",
    "last_visit",
    "reachability",
    "any30",
    "rule_due_date",
    "days_since_service",
    "km_now",
    "km_per_day",
    "last_service_type",
    "last_called",
    "store",
    "vin",
)


def score(
    con: duckdb.DuckDBPyConnection,
    model: MaintenanceModel,
    as_of: dt.date | None = None,
    *,
    hindsight: bool = False,
    stores: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return one row per active-base vehicle at ``as_of`` (default: the model's date; ``stores``'
    vehicles, all when None: a store's rows are the group's rows of that store), most likely
    maintenance visitor in 30 days first: p30, p60, p90 (maintenance visit), any30, any60, any90
    (visit of any kind), predicted due date and km, items due, reachability.

    A date before the model's is refused unless ``hindsight`` says the caller shows that the model
    has seen what came after it (the pages' earlier months do)."""
    as_of = as_of or model.as_of
    if as_of < model.as_of and not hindsight:
        raise UserError(
            f"The model was trained on data up to {model.as_of}; scoring at {as_of} would use what it learnt "
            "later. Train at that date first (maintenance train --as-of)."
        )
    if model.fitted is None:
        raise ValueError("a model card cannot score: use the fitted model it was made from")
    state = vehicle_state(con, as_of, stores)
    _load_openmp()
    with threadpool_limits(limits=_config().threads):
        both = model.fitted.predict_targets(state, ("maintenance", "any"))
        probs, anyp = both["maintenance"], both["any"]
    due_in = _due_in_days(probs)
    out = state.assign(
        p30=probs[:, 0],
        p60=probs[:, 1],
        p90=probs[:, 2],
        any30=anyp[:, 0],
        any60=anyp[:, 1],
        any90=anyp[:, 2],
        due_date=pd.Timestamp(as_of) + pd.to_timedelta(np.round(due_in), unit="D"),
        due_km=np.round(
            state["km_now"].to_numpy(dtype=float) + state["km_per_day"].to_numpy(dtype=float) * due_in
        ),
    )
    for column in ("due_km", "km_now", "km_since_service", "days_since_service"):
        out[column] = out[column].round().astype("Int64")
    out["km_per_day"] = out["km_per_day"].round(1)
    for column in ("p30", "p60", "p90", "any30", "any60", "any90"):
        out[column] = out[column].round(4)
    out["open_complaint"] = out["open_complaint"].astype(bool)
    # One JSON string per vehicle, not a list of tuples: a group's 200,000 lists were as many objects
    # the garbage collector walks on every full pass while a server keeps the scores (overdue_items).
    encode = _ITEMS_JSON.encode
    out["items_overdue"] = pd.Series(
        [encode(items) if items else "" for items in out["items_overdue"].tolist()],
        index=out.index,
        dtype=object,
    )
    out = out.sort_values(
        ["p30", "p60", "p90", "vin"], ascending=[False, False, False, True], ignore_index=True
    )
    return out[list(SCORE_COLUMNS)]


def invitation_list(
    scores: pd.DataFrame,
    *,
    horizon: int = 30,
    min_probability: float = 0.0,
    stores: Sequence[str] | None = None,
    items: Sequence[str] | None = None,
    reachable_only: bool = False,
) -> pd.DataFrame:
    """Return the scored vehicles that pass the filters, ranked by the maintenance probability at ``horizon``."""
    if horizon not in HORIZONS:
        raise ValueError(f"horizon must be one of {HORIZONS}")
    column = f"p{horizon}"
    keep = scores[column] >= min_probability
    if stores:
        keep &= scores["store"].isin(list(stores))
    if items:
        wanted = set(items)
        keep &= scores["items_due"].map(lambda codes: bool(wanted & set(str(codes).split(","))))
    if reachable_only:
        keep &= scores["reachability"].isin(["reachable", "untried"])
    out = scores[keep].sort_values([column, "vin"], ascending=[False, True], ignore_index=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


@dataclass
class Invitations:
    """Today's invitations: the top of the ranked list after suppression, cut to the daily capacity."""

    calls: pd.DataFrame
    candidates: int
    suppressed_complaint: int
    suppressed_recent: int


def daily_invitations(
    ranked: pd.DataFrame,
    capacity: int,
    as_of: dt.date,
    *,
    skip_open_complaints: bool = True,
    called_within_days: int = 0,
) -> Invitations:
    """Return the first ``capacity`` rows of a ranked invitation list, skipping vehicles with an open
    complaint (the complaint process owns them) and customers called in the last ``called_within_days``
    days (0: no such rule); ranks are renumbered 1..n."""
    complaint = (
        ranked["open_complaint"].astype(bool)
        if skip_open_complaints
        else pd.Series(False, index=ranked.index)
    )
    recent = pd.Series(False, index=ranked.index)
    if called_within_days > 0:
        since = pd.Timestamp(as_of - dt.timedelta(days=int(called_within_days)))
        recent = pd.to_datetime(ranked["last_called"], errors="coerce").gt(since)
    kept = ranked[~complaint & ~recent].head(max(int(capacity), 0)).reset_index(drop=True)
    kept["rank"] = np.arange(1, len(kept) + 1)
    return Invitations(
        calls=kept,
        candidates=int(len(ranked)),
        suppressed_complaint=int(complaint.sum()),
        suppressed_recent=int((recent & ~complaint).sum()),
    )


def outlook(scores: pd.DataFrame, stores: Sequence[str] | None = None) -> dict[str, float]:
    """Return the number of vehicles scored and the expected maintenance visits (``p30``...) and visits
    of any kind (``any30``...) within each horizon (sums of the probabilities), for the chosen stores."""
    chosen = scores[scores["store"].isin(list(stores))] if stores else scores
    out: dict[str, float] = {"vehicles": float(len(chosen))}
    for h in HORIZONS:
        out[f"p{h}"] = round(float(chosen[f"p{h}"].sum()), 1)
        out[f"any{h}"] = round(float(chosen[f"any{h}"].sum()), 1)
    return out


def item_names(lang: str) -> dict[str, str]:
    """Return the readable name of every item code in ``lang`` (first maintenance included)."""
    names = {FIRST_MAINTENANCE: text("maintenance.first_maintenance", lang)}
    for it in schedule.items():
        names[it.key] = it.name_zh if lang == "zh" else it.name_en
    return names


def overdue_items(kept: str | Sequence[tuple[str, float, float]] | None) -> list[tuple[str, float, float]]:
    """Return a vehicle's overdue items (code, km over, days over) from the scores' JSON string; a
    sequence (``vehicle_state``'s lists) passes through, a missing or empty value is no item."""
    if isinstance(kept, str):
        return [(str(code), float(km), float(days)) for code, km, days in json.loads(kept)] if kept else []
    return list(kept) if isinstance(kept, list | tuple) else []


def overdue_words(
    overdue: str | Sequence[tuple[str, float, float]], lang: str, km_per_day: float | None = None
) -> str:
    """Return the due items (a list, or the scores' JSON string) in words with how far each is past
    its interval, e.g. "Engine oil and filter (1,200 km overdue)"; an item not yet past it reads how far it
    is from it, or "due soon" within a month or 1,000 km (a routine item is listed from the day of its
    last service, when it is months away).

    With the vehicle's ``km_per_day``, an item falls due at whichever of its km and its months comes
    first, and only that one is said: "due in 3,500 km, about 18 days" for a car doing 200 km a day
    (session 45: it read "due in 3,500 km / 8 months", and the invitation list's first rows looked
    months from due). Without it both are said ("due in 4,264 km / 3 months")."""
    names = item_names(lang)
    pace = (
        float(km_per_day) if km_per_day is not None and np.isfinite(km_per_day) and km_per_day > 0 else None
    )
    parts = []
    for code, km_over, days_over in overdue_items(overdue):
        amounts = []
        if np.isfinite(km_over) and km_over >= 1:
            amounts.append(text("maintenance.over_km", lang, km=f"{km_over:,.0f}"))
        if np.isfinite(days_over) and days_over >= 15:
            amounts.append(
                text("maintenance.over_months", lang, months=f"{max(1, round(days_over / 30.4)):d}")
            )
        name = names.get(code, code)
        if amounts:
            parts.append(text("maintenance.item_overdue", lang, item=name, by=" / ".join(amounts)))
        elif pace is not None and np.isfinite(km_over):
            parts.append(_due_at_pace(name, -km_over, -days_over, pace, lang))
        else:
            parts.append(_due_in(name, km_over, days_over, lang))
    return ("；" if lang == "zh" else "; ").join(parts)


def _months(days: float, lang: str) -> str:
    return text("maintenance.over_months", lang, months=f"{max(1, round(days / 30.4)):d}")


def _due_in(name: str, km_over: float, days_over: float, lang: str) -> str:
    """An item not yet due, read without the car's pace: its km and its months to go, both."""
    left = []
    if np.isfinite(km_over) and km_over <= -1000:
        left.append(text("maintenance.over_km", lang, km=f"{-km_over:,.0f}"))
    if np.isfinite(days_over) and days_over <= -30:
        left.append(_months(-days_over, lang))
    near = (np.isfinite(km_over) and -1000 < km_over < 1) or (np.isfinite(days_over) and -30 < days_over < 15)
    if left and not near:
        return text("maintenance.item_due_in", lang, item=name, left=" / ".join(left))
    return text("maintenance.item_due_soon", lang, item=name)


def _due_at_pace(name: str, km_left: float, days_left: float, pace: float, lang: str) -> str:
    """An item not yet due on a car doing ``pace`` km a day: due at its km or its months, whichever
    comes first; "due soon" within 1,000 km or 30 days."""
    by_km = km_left / pace
    by_time = days_left if np.isfinite(days_left) else np.inf
    if km_left < 1000 or (by_time < 30 and by_time <= by_km):
        return text("maintenance.item_due_soon", lang, item=name)
    if by_km <= by_time:
        when = (
            text("maintenance.over_days", lang, days=f"{max(1, round(by_km)):d}")
            if by_km < 45
            else _months(by_km, lang)
        )
        return text("maintenance.item_due_in_km", lang, item=name, km=f"{km_left:,.0f}", when=when)
    return text("maintenance.item_due_in", lang, item=name, left=_months(by_time, lang))


def labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Return a copy with items due in words (with km or months overdue), reachability and
    service-type codes as readable text in ``lang``."""
    out = frame.copy()
    if "items_overdue" in out:
        # Each item at the car's own pace: it falls due at its km or its months, whichever comes first.
        paces = out["km_per_day"] if "km_per_day" in out else pd.Series(np.nan, index=out.index)
        out["items_due"] = [
            overdue_words(overdue, lang, None if pd.isna(pace) else float(pace))
            for overdue, pace in zip(out["items_overdue"].tolist(), paces.tolist(), strict=True)
        ]
        out = out.drop(columns=["items_overdue"])
    else:
        names = item_names(lang)
        sep = "、" if lang == "zh" else ", "
        out["items_due"] = out["items_due"].map(
            lambda codes: sep.join(names.get(c, c) for c in str(codes).split(",") if c)
        )
    out["reachability"] = out["reachability"].map(lambda code: text(f"maintenance.reach.{code}", lang))
    out["last_service_type"] = out["last_service_type"].map(
        lambda code: text(f"maintenance.service_type.{code}", lang) if code in db.SERVICE_TYPES else code
    )
    return out


def expected_within(scores: pd.DataFrame, days: float, prefix: str = "p") -> float:
    """Return the expected number of visits within ``days`` (at most 90): the sum over vehicles of the
    probability curve through 0, 30, 60 and 90 days, linear in between; ``prefix`` "p" for a
    maintenance visit, "any" for a visit of any kind."""
    probs = scores[[f"{prefix}{h}" for h in HORIZONS]].to_numpy(dtype=float)
    curve = np.interp(
        min(float(days), float(max(HORIZONS))), (0.0, *map(float, HORIZONS)), (0.0, 1.0, 2.0, 3.0)
    )
    lo = int(np.floor(curve))
    share = curve - lo
    full = np.column_stack([np.zeros(len(probs)), probs])
    if lo >= len(HORIZONS):
        return float(full[:, -1].sum())
    return float((full[:, lo] + share * (full[:, lo + 1] - full[:, lo])).sum())


def expected_visits_by_week(scores: pd.DataFrame, as_of: dt.date, weeks: int = 13) -> pd.DataFrame:
    """Return one row per week after ``as_of`` (days 1-7, 8-14, ...): the expected maintenance visits and
    visits of any kind in it, sums of the probabilities, so the weeks up to day 30 add up to the
    30-day figure (the curve is linear between 0, 30, 60 and 90 days, flat after 90)."""
    start = pd.Timestamp(as_of)
    out = pd.DataFrame({"week": np.arange(1, weeks + 1)})
    out["week_start"] = start + pd.to_timedelta((out["week"] - 1) * 7 + 1, unit="D")
    for source, prefix in (("maintenance", "p"), ("any", "any")):
        ends = [expected_within(scores, 7 * w, prefix) for w in range(weeks + 1)]
        out[source] = np.diff(ends)
    return out


def overdue_counts(scores: pd.DataFrame, as_of: dt.date) -> dict[str, int]:
    """Return how many vehicles are already past their predicted (model) and schedule (rule) due date."""
    start = pd.Timestamp(as_of)
    return {
        source: int(((pd.to_datetime(scores[column]) - start).dt.days < 1).sum())
        for source, column in (("model", "due_date"), ("rule", "rule_due_date"))
    }
