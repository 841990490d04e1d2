"""Maintenance schedule: intervals from ``data/schedule.toml`` and the next-due-date rule.

The rule (used by the due-maintenance return rate and the churn rhythm fallback): a vehicle's
next maintenance falls due ``min(days, floor(km / km_per_day))`` days after its anchor, where
the anchor is its last maintenance-type visit (routine interval) or, for a vehicle never
serviced for maintenance, its purchase date (first-maintenance interval). Without a known
km per day (or at zero km per day) only the day limit applies. The SQL in
``analytics/store/sql/due_maintenance.sql`` implements the same rule; ``next_due_date`` is its
reference in Python.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import numpy as np

from analytics.core.config import DATA_DIR

SCHEDULE_FILE = DATA_DIR / "schedule.toml"
MAINTENANCE_TYPES: tuple[str, ...] = ("first_maintenance", "maintenance")


@dataclass(frozen=True)
class Interval:
    """A maintenance interval: due after ``km`` kilometres or ``days`` days, whichever first."""

    km: float
    days: int

    def days_at(self, km_per_day: float | None) -> int:
        """Return the days until due for a vehicle driving ``km_per_day`` (None: unknown)."""
        if km_per_day is None or km_per_day <= 0:
            return self.days
        return min(self.days, math.floor(self.km / km_per_day))


@dataclass(frozen=True)
class Item:
    """A service item with its interval ranges (None where the seeds give no limit)."""

    key: str
    name_en: str
    name_zh: str
    km: tuple[int, int] | None
    days: tuple[int, int] | None
    routine: bool = False  # done at every maintenance visit, whatever its own interval says


@cache
def _raw() -> dict[str, Any]:
    with SCHEDULE_FILE.open("rb") as fh:
        return tomllib.load(fh)


def first_maintenance() -> Interval:
    """Return the first-maintenance interval, counted from the purchase date."""
    raw = _raw()["first_maintenance"]
    return Interval(km=float(raw["km"]), days=int(raw["days"]))


def routine_maintenance() -> Interval:
    """Return the routine-maintenance interval, counted from the last maintenance-type visit."""
    raw = _raw()["maintenance"]
    return Interval(km=float(raw["km"]), days=int(raw["days"]))


def items() -> list[Item]:
    """Return the service items of the schedule, in file order."""
    out = []
    for raw in _raw().get("items", []):
        km = raw.get("km")
        days = raw.get("days")
        out.append(
            Item(
                key=raw["key"],
                name_en=raw["name_en"],
                name_zh=raw["name_zh"],
                km=(int(km[0]), int(km[1])) if km else None,
                days=(int(days[0]), int(days[1])) if days else None,
                routine=bool(raw.get("routine", False)),
            )
        )
    return out


def next_due_date(
    last_maintenance: date | None, purchase_date: date | None, km_per_day: float | None
) -> date | None:
    """Return the next maintenance due date, or None when the vehicle has no anchor date."""
    if last_maintenance is not None:
        return last_maintenance + timedelta(days=routine_maintenance().days_at(km_per_day))
    if purchase_date is not None:
        return purchase_date + timedelta(days=first_maintenance().days_at(km_per_day))
    return None


def days_to_due(
    since_maintenance: np.ndarray, since_purchase: np.ndarray, km_per_day: np.ndarray
) -> np.ndarray:
    """Return ``next_due_date`` minus the as-of date in days for many vehicles at once, from the days
    since their last maintenance and since purchase (NaN where unknown); NaN without an anchor."""

    def interval_days(interval: Interval) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            by_km = np.floor(interval.km / km_per_day)
        return np.where(km_per_day > 0, np.minimum(interval.days, by_km), interval.days)

    routine = interval_days(routine_maintenance()) - since_maintenance
    first = interval_days(first_maintenance()) - since_purchase
    return np.where(np.isfinite(since_maintenance), routine, first)


def sql_params() -> dict[str, float | int]:
    """Return the schedule as bound parameters for the SQL files."""
    first, routine = first_maintenance(), routine_maintenance()
    return {
        "first_km": first.km,
        "first_days": first.days,
        "routine_km": routine.km,
        "routine_days": routine.days,
    }
