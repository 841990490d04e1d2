"""Named reads: the one path by which pages, the deck and the commands get data.

Each read names a domain function and its parameters by kind; ``call`` normalises the
arguments in one place (a month to ``YYYY-MM``, a store choice to a sorted tuple or None, an
as-of day to a ``date``, ...) so that the same view asked for by a page, the deck, a command or
the rebuild of the default views (``views.page_calls``) is one key in the marts. ``read`` runs
the call through the marts cache. An unknown name or a bad argument raises ``UserError`` with a
sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from analytics import ingest
from analytics.core.errors import UserError
from analytics.core.months import month_label, parse_month
from analytics.domain import churn, counts, facts, kpi, maintenance, overview, quality, themes
from analytics.domain import satisfaction as sat
from analytics.services import marts
from analytics.services.marts import Call

Normalise = Callable[[str, Any], Any]

_REQUIRED: Any = object()


def month(name: str, value: Any) -> str:
    """A calendar month as ``YYYY-MM`` (from a label or a date)."""
    if not isinstance(value, str | date):
        raise UserError(f"{name} must be a month written as YYYY-MM, not {value!r}.")
    return month_label(parse_month(value))


def stores(name: str, value: Any) -> tuple[str, ...] | None:
    """A store choice: None (or empty) for every store, else the sorted distinct store names."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence | set | frozenset):
        raise UserError(f"{name} must be a list of store names or nothing for every store, not {value!r}.")
    if not all(isinstance(store, str) and store for store in value):
        raise UserError(f"{name} must hold store names (text), not {list(value)!r}.")
    return tuple(sorted(set(value))) or None


def as_of(name: str, value: Any) -> date:
    """A day (``date`` or ``YYYY-MM-DD``)."""
    if isinstance(value, date):
        return value if type(value) is date else date(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise UserError(f"{name} must be a day written as YYYY-MM-DD, not {value!r}.")


def days(name: str, value: Any) -> tuple[date, ...]:
    """Several days, in the order given (the churn trend's month-ends)."""
    if isinstance(value, str | date) or not isinstance(value, Sequence):
        raise UserError(f"{name} must be a list of days written as YYYY-MM-DD, not {value!r}.")
    return tuple(as_of(name, day) for day in value)


def period(name: str, value: Any) -> tuple[str, str]:
    """A span of months ``(first, last)``; one month stands for itself."""
    if isinstance(value, str | date):
        value = (value, value)
    if not isinstance(value, Sequence) or len(value) != 2:
        raise UserError(f"{name} must be a month or a pair of months (first, last), not {value!r}.")
    first, last = month(name, value[0]), month(name, value[1])
    if first > last:
        raise UserError(f"{name} starts ({first}) after it ends ({last}).")
    return first, last


def text(name: str, value: Any) -> str:
    """A non-empty text (a VIN, a theme id)."""
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{name} must be a non-empty text, not {value!r}.")
    return value.strip()


def count(name: str, value: Any) -> int:
    """A whole number of at least 1 (how many themes to find)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"{name} must be a whole number of at least 1, not {value!r}.")
    return value


def one_of(*choices: str) -> Normalise:
    """A value from a fixed list."""

    def choose(name: str, value: Any) -> str:
        if value not in choices:
            raise UserError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
        return str(value)

    return choose


def side(name: str, value: Any) -> str:
    """A side of the comments: ``praise`` or ``complaint``."""
    return one_of(*themes.SIDES)(name, value)


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a read: its name, how it is normalised, its default (``_REQUIRED``: none),
    and whether the function takes it by keyword (after parameters the read leaves at their default)."""

    name: str
    normalise: Normalise
    default: Any = _REQUIRED
    keyword: bool = False


@dataclass(frozen=True, slots=True)
class Read:
    """A named read: ``fn(con, *params, *fixed)``, the parameters normalised, ``fixed`` appended as is."""

    fn: Callable[..., Any]
    params: tuple[Param, ...] = ()
    fixed: tuple[Any, ...] = ()
    # A chosen stores' result is the group's result of those stores (``result.of_stores(stores)``):
    # a page may show the group's result as last computed that way (``ui.resources.fitted_view``).
    of_group: bool = False

    def call(self, name: str, kwargs: Mapping[str, Any]) -> Call:
        """Return the marts ``Call`` of this read with ``kwargs`` normalised."""
        known = {param.name for param in self.params}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            expected = ", ".join(sorted(known)) or "no arguments"
            raise UserError(f"The read {name} takes {expected}; it was also given {', '.join(unknown)}.")
        args: list[Any] = []
        keywords: dict[str, Any] = {}
        for param in self.params:
            if param.name in kwargs:
                value = param.normalise(param.name, kwargs[param.name])
            elif param.default is _REQUIRED:
                raise UserError(f"The read {name} needs {param.name}.")
            else:
                value = param.default
            if param.keyword:
                keywords[param.name] = value
            else:
                args.append(value)
        return marts.call_of(self.fn, *args, *self.fixed, **keywords)


MONTH = Param("month", month)
STORES = Param("stores", stores, None)
AS_OF = Param("as_of", as_of)
START = Param("start", month)
END = Param("end", month)
SIDE = Param("side", side, "praise")
RETENTION_BY = Param("by", one_of(*churn.RETENTION_GROUPS), "model")

READS: dict[str, Read] = {
    # the sidebar and the Data page
    "facts.months": Read(facts.available_months),
    "facts.stores": Read(facts.stores),
    "facts.summary": Read(facts.data_summary),
    "quality.summary": Read(quality.summary),
    "quality.checked": Read(quality.checked),
    "quality.finding": Read(quality.finding, (Param("check", one_of(*quality.CHECKS)),)),
    "imports.log": Read(ingest.list_imports),
    # the overview (and the ``report`` command: the KPI table alone)
    "kpi.report": Read(kpi.report, (MONTH, STORES)),
    "kpi.missing": Read(kpi.missing_fields),
    # the deck's maintenance slide: the vehicles due in a month
    "kpi.due_vehicles": Read(kpi.due_vehicles, (MONTH, STORES)),
    "overview.kpis": Read(overview.overview, (MONTH, STORES)),
    "overview.as_of": Read(overview.month_as_of, (MONTH,)),
    "overview.followups": Read(overview.open_followups, (MONTH, STORES)),
    # the callbacks of a month no store is named for (a chosen-stores view says how many it leaves out)
    "counts.storeless": Read(counts.storeless_callbacks, (MONTH,)),
    # satisfaction
    "satisfaction.monthly": Read(sat.satisfaction_series, (STORES, START, END)),
    "satisfaction.drivers": Read(sat.dimension_drivers, (STORES, START, END)),
    "satisfaction.dimensions": Read(sat.dimension_scores, (STORES, START, END)),
    "satisfaction.breakdown": Read(
        sat.breakdown, (Param("by", one_of(*sat.BREAKDOWN_BY), "advisor"), Param("period", period), STORES)
    ),
    # themes
    "themes.monthly": Read(themes.monthly_themes, (MONTH, SIDE, STORES, Param("k", count, 8, keyword=True))),
    "themes.by_advisor": Read(themes.themes_by_advisor, (MONTH, STORES)),
    "themes.comments": Read(themes.theme_comments, (Param("theme", text), MONTH, SIDE, STORES)),
    # what themes.theme_comments reads (its default window, number of themes and seed)
    "themes.month_comments": Read(themes.month_comments, (MONTH, SIDE, STORES), (themes.MONTHS_BACK, 8, 0)),
    # churn
    "churn.snapshot": Read(churn.snapshot, (AS_OF, STORES), of_group=True),
    "churn.history_gap": Read(churn.history_gap, (AS_OF,)),
    "churn.trend": Read(churn.status_trend, (Param("as_of_dates", days), STORES)),
    "churn.retention_curve": Read(churn.retention_curve, (AS_OF, RETENTION_BY, STORES)),
    "churn.retention_rates": Read(churn.retention_rates, (AS_OF, RETENTION_BY, STORES)),
    "churn.vehicle_orders": Read(churn.vehicle_orders, (Param("vin", text), AS_OF)),
    "churn.vehicle_callbacks": Read(churn.vehicle_callbacks, (Param("vin", text), AS_OF)),
    # maintenance: one model for the group, the chosen stores' vehicles scored
    "maintenance.snapshot": Read(maintenance.snapshot, (AS_OF, STORES), of_group=True),
}


def call(name: str, **kwargs: Any) -> Call:
    """Return the marts ``Call`` of the read ``name`` with its arguments normalised."""
    entry = READS.get(name)
    if entry is None:
        raise UserError(f"There is no read named {name!r}; the reads are {', '.join(sorted(READS))}.")
    return entry.call(name, kwargs)


def group_call(name: str, **kwargs: Any) -> Call | None:
    """Return the call of the read ``name`` for every store when ``kwargs`` choose stores and a
    chosen stores' result of that read is the group's filtered (``Read.of_group``); else None."""
    entry = READS.get(name)
    if entry is None or not entry.of_group or stores("stores", kwargs.get("stores")) is None:
        return None
    return entry.call(name, {**kwargs, "stores": None})


def default(name: str, param: str) -> Any:
    """Return the default of a read's parameter (a page's widget starts on it: the default view)."""
    entry = READS.get(name)
    found = next((p for p in entry.params if p.name == param), None) if entry else None
    if found is None or found.default is _REQUIRED:
        raise UserError(f"The read {name} has no parameter {param} with a default.")
    return found.default


def read(con: duckdb.DuckDBPyConnection, name: str, **kwargs: Any) -> Any:
    """Return the result of the read ``name`` through the marts (kept per data version)."""
    return marts.cached(con, call(name, **kwargs))
