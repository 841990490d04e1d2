"""Results fitted once per data version: the hook through which domain code reuses them.

The churn model and the themes' fitted windows cost seconds to minutes; the marts (in the
services layer, above the domain) keep them per data version. The domain cannot import the
marts, so it asks this hook: ``remembered(con, fn, *args)`` returns ``fn(con, *args)``, from
the marts once they are loaded (``analytics.services.marts`` installs its lookup when it is
imported), computed afresh otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import duckdb

T = TypeVar("T")

Args = tuple[Any, ...]
Lookup = Callable[[duckdb.DuckDBPyConnection, Callable[..., Any], Args], Any]
Compute = Callable[[list[Args]], list[Any]]
LookupMany = Callable[[duckdb.DuckDBPyConnection, Callable[..., Any], list[Args], Compute], list[Any]]

Peek = Callable[[duckdb.DuckDBPyConnection, Callable[..., Any], Args], tuple[bool, Any]]
Has = Callable[[duckdb.DuckDBPyConnection, Callable[..., Any], Args], bool]
Newest = Callable[[duckdb.DuckDBPyConnection, Callable[..., Any]], Args | None]
Put = Callable[[duckdb.DuckDBPyConnection, Callable[..., Any], Args, Any], None]

_lookup: list[tuple[Lookup, LookupMany]] = []
_peek: list[Peek] = []
_hold: list[Lookup] = []
_has: list[Has] = []
_newest: list[Newest] = []
_put: list[Put] = []


def install(
    lookup: Lookup,
    lookup_many: LookupMany,
    peek: Peek | None = None,
    hold: Lookup | None = None,
    has: Has | None = None,
    newest: Newest | None = None,
    put: Put | None = None,
) -> None:
    """Make ``lookup``/``lookup_many`` answer every later ``remembered``/``remembered_many`` call,
    ``peek`` every ``kept`` call, ``hold`` every ``held`` call, ``has`` every ``stored`` call,
    ``newest`` every ``newest_args`` call and ``put`` every ``hold_given`` call."""
    _lookup[:] = [(lookup, lookup_many)]
    _peek[:] = [peek] if peek is not None else []
    _hold[:] = [hold] if hold is not None else []
    _has[:] = [has] if has is not None else []
    _newest[:] = [newest] if newest is not None else []
    _put[:] = [put] if put is not None else []


_carried: set[str] = set()


def carried(fn: Callable[..., T]) -> Callable[..., T]:
    """Mark ``fn`` as a function whose arguments name everything it reads (a digest of the records
    among them): its kept result stays right for a later data version whenever the same
    arguments are asked, so the store carries it over instead of dropping it with its version."""
    _carried.add(f"{fn.__module__}.{fn.__qualname__}")
    return fn


def carried_names() -> frozenset[str]:
    """Return the dotted names of the functions marked ``carried``."""
    return frozenset(_carried)


Inputs = Callable[[duckdb.DuckDBPyConnection, date], str]
_carried_while: dict[str, Inputs] = {}


def carried_while(inputs: Inputs) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Mark a function whose first argument (after the connection) is an as-of day and whose result
    depends on nothing but its arguments, the code and settings, and the records ``inputs(con,
    as_of)`` names: its kept result stays right for a later data version while ``inputs`` gives
    the same, so the store carries it over instead of computing it again (a view of a month that
    an import of later days leaves as it was: the churn list and the maintenance scores of the
    month the pages open on, after a store's nightly import)."""

    def mark(fn: Callable[..., T]) -> Callable[..., T]:
        _carried_while[f"{fn.__module__}.{fn.__qualname__}"] = inputs
        return fn

    return mark


def inputs_of(name: str) -> Inputs | None:
    """Return the ``inputs`` function the function of dotted ``name`` was marked ``carried_while`` with."""
    return _carried_while.get(name)


def kept(con: duckdb.DuckDBPyConnection, fn: Callable[..., T], *args: Any) -> tuple[bool, T | None]:
    """Return ``(True, fn(con, *args))`` when the installed store can hand that result over
    without computing it (the marts: during a rebuild, the result it computed last; otherwise the
    result kept for this data version, read but not held), else ``(False, None)``: never computes it."""
    if not _peek:
        return False, None
    found, value = _peek[0](con, fn, args)
    return (True, value) if found else (False, None)


def stored(con: duckdb.DuckDBPyConnection, fn: Callable[..., Any], *args: Any) -> bool:
    """Return whether ``remembered(con, fn, *args)`` would read a kept result for the data version
    ``con`` reads instead of computing it (without reading the result); False without a store."""
    return bool(_has) and _has[0](con, fn, args)


def newest_args(con: duckdb.DuckDBPyConnection, fn: Callable[..., Any]) -> Args | None:
    """Return the arguments of the newest result of ``fn`` kept for the data version ``con`` reads
    (a carried function's newest results are filed under each new version), or None."""
    return _newest[0](con, fn) if _newest else None


def remembered(con: duckdb.DuckDBPyConnection, fn: Callable[..., T], *args: Any) -> T:
    """Return ``fn(con, *args)``, kept for the data version ``con`` reads when a lookup is installed."""
    if not _lookup:
        return fn(con, *args)
    result: T = _lookup[0][0](con, fn, args)
    return result


def remembered_many(
    con: duckdb.DuckDBPyConnection, fn: Callable[..., Any], calls: list[Args], compute: Compute
) -> list[Any]:
    """Return ``fn(con, *args)`` for each ``args`` of ``calls``: the kept ones from the lookup, the
    others from ``compute`` (given the missing argument tuples, it returns their results in order)."""
    if not _lookup:
        return compute(list(calls))
    return _lookup[0][1](con, fn, calls, compute)


_of_records: set[str] = set()


def of_records(fn: Callable[..., T]) -> Callable[..., T]:
    """Mark ``fn`` as a function whose result follows from the records alone (what the data version
    names), not from the derived tables a refresh writes without a new version (the comments'
    clauses): ``held`` keeps it through a rebuild's own writes, which change the file but not the
    records."""
    _of_records.add(f"{fn.__module__}.{fn.__qualname__}")
    return fn


def of_records_names() -> frozenset[str]:
    """Return the dotted names of the functions marked ``of_records``."""
    return frozenset(_of_records)


def held(con: duckdb.DuckDBPyConnection, fn: Callable[..., T], *args: Any) -> T:
    """Return ``fn(con, *args)``, held in this process while the database file is unchanged (never
    kept in the marts): for a result several calls of one page ask for that is cheap to compute
    again but not free. A function marked ``of_records`` is held through a rebuild while the data
    version is unchanged."""
    if not _hold:
        return fn(con, *args)
    result: T = _hold[0](con, fn, args)
    return result


def hold_given(con: duckdb.DuckDBPyConnection, fn: Callable[..., T], args: Args, value: T) -> None:
    """Hold ``value`` as what ``held(con, fn, *args)`` returns while the database file is unchanged,
    without calling ``fn`` (a result worked out together with others, by one query)."""
    if _put:
        _put[0](con, fn, args, value)


Prime = Callable[[duckdb.DuckDBPyConnection, list[date]], None]
_primers: list[Prime] = []


def primes(fn: Prime) -> Prime:
    """Mark ``fn(con, days)`` as working out in one pass, for many as-of days, what the
    ``carried_while`` inputs ask of each day (and holding it, ``hold_given``): the store checks
    the kept views of every month at once after an import, one day's records at a time otherwise."""
    _primers.append(fn)
    return fn


def prime(con: duckdb.DuckDBPyConnection, days: list[date]) -> None:
    """Run every function marked ``primes`` for ``days``, before many ``carried_while`` inputs are asked."""
    for fn in _primers:
        fn(con, days)
