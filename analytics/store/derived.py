"""SQL marts: derived tables with a stated grain, that the pages' reads aggregate instead of recomputing.

Each mart is one SQL file (``sql/mart_<name>.sql``, its grain in the first line) kept as the table
``mart_<name>``:

- ``callback_facts``: one row per callback attempt with its store, order, vehicle and limit; every
  query that embeds ``callback_facts.sql`` reads the table instead while it is current (``run``);
- ``vehicle_months``: one row per (month-end, vehicle in the active base) with its status;
- ``due_months``: one row per (month, vehicle falling due for maintenance in it) with its return;
- ``vehicle_days``: one row per (vehicle, visit day) with its running values, so that a vehicle's
  history as of any date is a lookup; the queries in ``LOOKUPS`` read it while it is current;
- ``trend_days``: one row per (vehicle, visit day) with its odometer points and km per day then
  (``maintenance_odometer_points.sql``), so that the maintenance scores of any date (the model's
  training dates too) read the trends instead of the pairwise slopes of every vehicle of the group.

``vehicle_months`` and ``due_months`` are run over every month-end of the data. ``mart_state`` records, per mart, the
fingerprint of its SQL and of the settings bound to it, the data version it was built for and the
month-ends it covers. A read uses a mart only when all of these match the database as it reads it
(``ready``); otherwise it runs the query the mart was built from, so a figure never depends on
whether a refresh has run yet. An import or rollback records the vehicles, orders and callbacks it
wrote or replaced (``record_changes``); the refresh after it recomputes the rows that depend on
them, plus every vehicle on the month-ends the data newly reach (``services.sql_marts``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from analytics.core.months import month_end, shift_month
from analytics.store import db, queries

# The marts, in build order; the table is named as the SQL file that builds it.
MARTS: tuple[str, ...] = ("callback_facts", "vehicle_months", "due_months", "vehicle_days", "trend_days")
# Marts an earlier version kept, whose tables a refresh drops.
RETIRED: tuple[str, ...] = ("trend_months",)
# The marts kept per month-end: the date column by which a row belongs to one, over the table.
_AS_OF: dict[str, str] = {
    "vehicle_months": "as_of",
    "due_months": "CAST(month - 1 AS DATE)",
}
# The marts any query embedding their source reads instead (``run``).
SOURCES: frozenset[str] = frozenset({"callback_facts"})
# The queries a query embedding them reads from a mart while it is current, by a lookup of their own
# (``<query>_mart.sql``): the mart each reads.
LOOKUPS: dict[str, str] = {
    "vehicle_history": "vehicle_days",
    "churn_vehicles": "vehicle_days",
    "maintenance_vehicles": "vehicle_days",
}

# Tables of this module: mart_state, mart_changes, and what a refresh recomputes (temporary
# tables on the refreshing connection): mart_refresh_vins, mart_refresh_orders, mart_refresh_callbacks,
# and from those (mart_refresh_links.sql) mart_refresh_keys, mart_refresh_vehicle_callbacks and
# mart_refresh_vehicle_orders (with the working tables mart_refresh_tails, mart_refresh_linked,
# mart_refresh_loose_keys and mart_refresh_loose_tails).
_STATE_DDL = """CREATE TABLE IF NOT EXISTS mart_state (
    name         VARCHAR PRIMARY KEY,
    fingerprint  VARCHAR NOT NULL,
    data_version BIGINT NOT NULL,
    first_as_of  DATE,
    last_as_of   DATE,
    built_at     TIMESTAMP NOT NULL
)"""
# One row per vehicle, order or callback an import or rollback wrote or replaced, by data version,
# and one row naming nothing per data version, so a refresh can tell that it knows every change
# since its mart was built.
_CHANGES_DDL = """CREATE TABLE IF NOT EXISTS mart_changes (
    data_version BIGINT NOT NULL,
    vin          VARCHAR,
    order_id     VARCHAR,
    callback_id  VARCHAR
)"""


def dated(name: str) -> bool:
    """Whether mart ``name`` is kept per month-end (else its rows hold for any date)."""
    return name in _AS_OF


def table(name: str) -> str:
    """Return the table (and SQL file) name of mart ``name``."""
    if name not in MARTS:
        raise ValueError(f"not a mart: {name!r}")
    return f"mart_{name}"


def build_params(name: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return the bound parameters of mart ``name``'s SQL from the KPI parameters (every store), or
    None when ``params`` lack one."""
    used = queries.parameters(queries.load(table(name)))
    wanted = used - {"as_of_dates", "stores"}
    if not wanted <= params.keys():
        return None
    # A mart not kept per month-end whose SQL takes dates is run with none (every vehicle's own days).
    undated = {"as_of_dates": None} if "as_of_dates" in used and name not in _AS_OF else {}
    return {k: params[k] for k in sorted(wanted)} | ({"stores": None} if "stores" in used else {}) | undated


def fingerprint(name: str, params: Mapping[str, Any]) -> str | None:
    """Return the fingerprint of mart ``name``: its SQL (refs expanded) and the settings bound to it
    (None when ``params`` lack one of them)."""
    bound = build_params(name, params)
    if bound is None:
        return None
    digest = hashlib.sha256(queries.load(table(name)).encode())
    digest.update(json.dumps(bound, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = $name AND NOT temporary "
        "AND database_name = current_database()",
        {"name": name},
    ).fetchone()
    return bool(row and row[0])


def covered_ends(con: duckdb.DuckDBPyConnection) -> list[date]:
    """Return the month-ends the marts cover: from the one before the first data month (the due
    dates of the first month are seen from it) to the last data month's."""
    start = queries.run(con, "data_start", {}).iloc[0]
    known = [v for v in (start["orders_start"], start["callbacks_start"]) if not pd.isna(v)]
    end = queries.run(con, "data_end", {})["data_end"].iloc[0]
    if not known or pd.isna(end):
        return []
    first = shift_month(min(_day(v) for v in known).replace(day=1), -1)
    last = _day(end).replace(day=1)
    ends = []
    while first <= last:
        ends.append(month_end(first))
        first = shift_month(first, 1)
    return ends


def _day(value: Any) -> date:
    return pd.Timestamp(value).date()


def state(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
    """Return ``{name: {fingerprint, data_version, first_as_of, last_as_of}}`` of the marts built (whose
    table is there)."""
    if not _has_table(con, "mart_state"):
        return {}
    rows = con.execute(
        "SELECT name, fingerprint, data_version, first_as_of, last_as_of FROM mart_state WHERE 'mart_' || name IN "
        "(SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary)"
    ).fetchall()
    return {
        r[0]: {"fingerprint": r[1], "data_version": r[2], "first_as_of": r[3], "last_as_of": r[4]}
        for r in rows
    }


def ready(
    con: duckdb.DuckDBPyConnection,
    names: Sequence[str],
    params: Mapping[str, Any],
    as_of_dates: Sequence[date],
) -> bool:
    """Whether the marts ``names`` hold exactly what their SQL would give now for ``as_of_dates``: built
    for this data version and these settings, and covering those dates (all of them month-ends)."""
    built = state(con)
    if not built or not all(name in built for name in names):
        return False
    version = db.data_version(con)
    for name in names:
        entry = built[name]
        if entry["data_version"] != version or entry["fingerprint"] != fingerprint(name, params):
            return False
        if name not in _AS_OF:
            continue
        first, last = entry["first_as_of"], entry["last_as_of"]
        if first is None or last is None:
            return False
        for day in as_of_dates:
            if not first <= day <= last or day + timedelta(days=1) != (day + timedelta(days=1)).replace(
                day=1
            ):
                return False
    return True


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> pd.DataFrame:
    """Run a named query as ``queries.run`` does, reading the marts of the queries it embeds (``SOURCES``)
    that are current for ``params``: the same rows, without recomputing them."""
    embedded = queries.refs(name)
    current = frozenset(m for m in SOURCES & embedded if ready(con, [m], params, []))
    looked_up = frozenset(q for q in LOOKUPS.keys() & embedded if ready(con, [LOOKUPS[q]], params, []))
    return queries.run(con, name, params, current | looked_up)


def _home(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT current_database()").fetchone()
    quoted = str(row[0] if row else "memory").replace('"', '""')
    return f'"{quoted}".main'


# The temporary views a refresh puts over the tables (``{home}``: the database's own catalog, quoted).
# A callback counts for the work order its number links to (linked_callbacks.sql), which the
# refresh resolves over the whole tables (mart_refresh_links.sql) before the views narrow them.
_SHADOWS: dict[str, dict[str, str]] = {
    # The callbacks changed, those naming a changed order (or one whose link it may move), those
    # of a changed vehicle.
    "callback_facts": {
        "callbacks": """
    SELECT c.* FROM {home}.callbacks AS c
    WHERE c.callback_id IN (SELECT callback_id FROM mart_refresh_vehicle_callbacks)
    OR c.callback_id IN (SELECT callback_id FROM mart_refresh_callbacks)
    OR c.order_id IN (SELECT order_id FROM mart_refresh_orders)"""
    },
    # The changed vehicles' callbacks, their orders, and every order their callbacks' numbers may
    # link to (a callback takes its order's store; a link needs every order of its number's key).
    "vehicle_months": {
        "callbacks": """
    SELECT * FROM {home}.callbacks WHERE callback_id IN (SELECT callback_id FROM mart_refresh_vehicle_callbacks)""",
        "service_orders": """
    SELECT * FROM {home}.service_orders WHERE order_id IN (SELECT order_id FROM mart_refresh_vehicle_orders)""",
    },
}
_SHADOWS["due_months"] = _SHADOWS["vehicle_months"]
# The changed vehicles' orders: a vehicle's visit days, and its odometer trend, depend on its own orders alone.
_SHADOWS["vehicle_days"] = {
    "service_orders": "SELECT * FROM {home}.service_orders WHERE vin IN (SELECT vin FROM mart_refresh_vins)"
}
_SHADOWS["trend_days"] = _SHADOWS["vehicle_days"]


def _shadows(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    """Return the temporary views that make mart ``name``'s SQL see only what a refresh recomputes."""
    return {table: body.replace("{home}", _home(con)) for table, body in _SHADOWS[name].items()}


def build(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: Mapping[str, Any],
    ends: Sequence[date],
    *,
    only_changed: bool = False,
) -> int:
    """Insert mart ``name``'s rows (for ``ends``, when it is kept per month-end) into its table, created
    when missing; return the row count.

    ``only_changed``: only the rows that depend on what ``changed_since`` found, whose old rows must
    be gone (``delete``). The mart's own SQL then runs over those vehicles' (or callbacks') rows alone,
    temporary views shadowing the tables while it runs: a row depends on nothing else, so the rows
    are those a run over everything would give.
    """
    if name in _AS_OF and not ends:
        return 0
    target = table(name)
    sql = queries.load(target)
    bound = {**(build_params(name, params) or {}), **({"as_of_dates": list(ends)} if name in _AS_OF else {})}
    if not _has_table(con, target):
        if not only_changed:
            # Created with its rows in one statement: DuckDB 2.0.0 keeps the statistics of a table
            # created empty and filled in the same transaction (more than one row group), so the
            # other connections of this process read it as empty until they reopen the file.
            con.execute(f"CREATE TABLE {target} AS {sql}", bound)  # noqa: S608 - a mart's name and file
            return _count(con, target)
        con.execute(f"CREATE TABLE {target} AS SELECT * FROM ({sql}) WHERE false", bound)  # noqa: S608 - a mart's name and file
    before = _count(con, target)
    if not only_changed:
        con.execute(f"INSERT INTO {target} {sql}", bound)
        return _count(con, target) - before
    shadows = _shadows(con, name)
    keep = "" if name in SOURCES else " WHERE vin IN (SELECT vin FROM mart_refresh_vins)"
    try:
        for shadowed, body in shadows.items():
            con.execute(f"CREATE OR REPLACE TEMP VIEW {shadowed} AS {body}")
        con.execute(f"INSERT INTO {target} SELECT * FROM ({sql}){keep}", bound)  # noqa: S608 - a mart's name and file
    finally:
        for shadowed in shadows:
            con.execute(f"DROP VIEW IF EXISTS temp.main.{shadowed}")
    return _count(con, target) - before


def _count(con: duckdb.DuckDBPyConnection, target: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {target}").fetchone()  # noqa: S608 - a mart's name
    return int(row[0]) if row else 0


def delete(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    outside: tuple[date, date] | None = None,
    only_changed: bool = False,
) -> None:
    """Delete mart ``name``'s rows: all of them (the table goes), those of month-ends outside
    ``outside`` (first, last), or those that depend on what ``changed_since`` found."""
    target = table(name)
    if not _has_table(con, target):
        return
    if outside is not None:
        if name in _AS_OF:
            con.execute(
                f"DELETE FROM {target} WHERE {_AS_OF[name]} NOT BETWEEN $first AND $last",  # noqa: S608 - constants
                {"first": outside[0], "last": outside[1]},
            )
    elif only_changed:
        where = "vin IN (SELECT vin FROM mart_refresh_vins)"
        if name in SOURCES:
            where += (
                " OR callback_id IN (SELECT callback_id FROM mart_refresh_callbacks)"
                " OR order_id IN (SELECT order_id FROM mart_refresh_orders)"
            )
        con.execute(f"DELETE FROM {target} WHERE {where}")  # noqa: S608 - constants
    else:
        # Dropped, not emptied: a changed SQL file may give other columns.
        con.execute(f"DROP TABLE {target}")


def retire(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the tables of the marts an earlier version kept (``RETIRED``) and their state."""
    for name in RETIRED:
        con.execute(f"DROP TABLE IF EXISTS mart_{name}")  # noqa: S608 - a constant
    if _has_table(con, "mart_state"):
        con.execute("DELETE FROM mart_state WHERE list_contains($names, name)", {"names": list(RETIRED)})


def mark_built(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any], version: int, ends: Sequence[date]
) -> None:
    """Record that mart ``name`` holds its SQL's rows (for ``ends``) at data ``version``."""
    con.execute(_STATE_DDL)
    dated = name in _AS_OF and bool(ends)
    con.execute(
        "INSERT OR REPLACE INTO mart_state VALUES ($name, $fp, $version, $first, $last, now())",
        {
            "name": name,
            "fp": fingerprint(name, params),
            "version": version,
            "first": min(ends) if dated else None,
            "last": max(ends) if dated else None,
        },
    )


def record_changes(
    con: duckdb.DuckDBPyConnection, version: int, changes_sql: str, params: Mapping[str, Any]
) -> None:
    """Record, inside an import's or rollback's transaction, what its data ``version`` wrote or replaced
    (``changes_sql`` selects ``vin``, ``order_id`` and ``callback_id`` columns), so the refresh after
    it recomputes only what depends on those. Nothing is recorded while no mart is built (the first
    refresh builds everything)."""
    if not _has_table(con, "mart_state"):
        return
    con.execute(_CHANGES_DDL)
    con.execute("INSERT INTO mart_changes VALUES ($version, NULL, NULL, NULL)", {"version": version})
    con.execute(
        f"INSERT INTO mart_changes SELECT DISTINCT $version, vin, order_id, callback_id FROM ({changes_sql}) "  # noqa: S608 - ingest's constants
        "WHERE vin IS NOT NULL OR order_id IS NOT NULL OR callback_id IS NOT NULL",
        {**params, "version": version},
    )


# What changed, by kind: the temporary table a refresh reads it from, and how that table is filled.
_REFRESH: dict[str, tuple[str, str]] = {
    "mart_refresh_vins": (
        "CREATE OR REPLACE TEMP TABLE mart_refresh_vins (vin VARCHAR)",
        "INSERT INTO mart_refresh_vins SELECT DISTINCT vin FROM mart_changes "
        "WHERE data_version > $v AND data_version <= $c AND vin IS NOT NULL",
    ),
    "mart_refresh_orders": (
        "CREATE OR REPLACE TEMP TABLE mart_refresh_orders (order_id VARCHAR)",
        "INSERT INTO mart_refresh_orders SELECT DISTINCT order_id FROM mart_changes "
        "WHERE data_version > $v AND data_version <= $c AND order_id IS NOT NULL",
    ),
    "mart_refresh_callbacks": (
        "CREATE OR REPLACE TEMP TABLE mart_refresh_callbacks (callback_id VARCHAR)",
        "INSERT INTO mart_refresh_callbacks SELECT DISTINCT callback_id FROM mart_changes "
        "WHERE data_version > $v AND data_version <= $c AND callback_id IS NOT NULL",
    ),
}


def changed_since(con: duckdb.DuckDBPyConnection, version: int, current: int) -> bool:
    """Fill ``mart_refresh_vins``, ``mart_refresh_orders`` and ``mart_refresh_callbacks`` with what changed
    after ``version`` up to ``current``; return False when a data version in between recorded nothing
    (data written by other means): then only a full build is sure to be right."""
    for create, _fill in _REFRESH.values():
        con.execute(create)
    if current == version:
        return True
    if not _has_table(con, "mart_changes"):
        return False
    span = {"v": version, "c": current}
    known = con.execute(
        "SELECT count(DISTINCT data_version) FROM mart_changes WHERE data_version > $v AND data_version <= $c",
        span,
    ).fetchone()
    if not known or int(known[0]) != current - version:
        return False
    for _create, fill in _REFRESH.values():
        con.execute(fill, span)
    # Widened to the callbacks whose link to a work order a change may move, and their vehicles.
    con.execute(queries.load("mart_refresh_links"))
    return True


def forget_changes(con: duckdb.DuckDBPyConnection, current: int) -> None:
    """Drop the recorded changes up to data version ``current`` (the marts include them now)."""
    if _has_table(con, "mart_changes"):
        con.execute("DELETE FROM mart_changes WHERE data_version <= $c", {"c": current})
    con.execute("DROP TABLE IF EXISTS mart_refresh_vins")
    con.execute("DROP TABLE IF EXISTS mart_refresh_orders")
    con.execute("DROP TABLE IF EXISTS mart_refresh_callbacks")
    con.execute("DROP TABLE IF EXISTS mart_refresh_keys")
    con.execute("DROP TABLE IF EXISTS mart_refresh_vehicle_callbacks")
    con.execute("DROP TABLE IF EXISTS mart_refresh_vehicle_orders")
    con.execute("DROP TABLE IF EXISTS mart_refresh_tails")
    con.execute("DROP TABLE IF EXISTS mart_refresh_linked")
    con.execute("DROP TABLE IF EXISTS mart_refresh_loose_keys")
    con.execute("DROP TABLE IF EXISTS mart_refresh_loose_tails")
