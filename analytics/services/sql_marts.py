"""Refresh the SQL marts (``store.derived``) after an import or rollback, incrementally when it can.

A mart is built in full when it is missing, when its SQL or the settings bound to it changed
(its fingerprint), or when a data version since its build recorded no changes (data written by
other means than an import or rollback). Otherwise the refresh recomputes the vehicles the imports
and rollbacks since then touched, on every month-end it keeps, adds every vehicle on the month-ends
the data newly reach, and drops the month-ends the data no longer reach. All in one transaction:
a reader sees the marts before or after, and uses them only when they match its data version.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import duckdb

from analytics.domain import kpi
from analytics.store import db, derived


def refresh(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, Any]:
    """Bring every mart to the current data version; return ``{name: {mode, rows, seconds}}`` with
    ``mode`` one of ``full``, ``incremental`` or ``current``."""
    params = kpi.sql_params(None)
    out: dict[str, Any] = {}
    with db.write_transaction(con) as cur:
        version = db.data_version(cur)
        derived.retire(cur)
        ends = derived.covered_ends(cur)
        built = derived.state(cur)
        # What changed since a version, found once per version the marts were built at (usually one
        # for all of them): finding it reads the whole tables (the callbacks' links), about 2 s a
        # time at a million work orders, which each of the five marts used to pay.
        found: dict[int, bool] = {}
        for name in derived.MARTS:
            clock = time.perf_counter()
            entry = built.get(name)
            incremental = (
                not full
                and entry is not None
                and entry["fingerprint"] == derived.fingerprint(name, params)
                and (not derived.dated(name) or entry["first_as_of"] is not None)
                and _changed_since(cur, entry["data_version"], version, found)
            )
            if entry is not None and incremental and entry["data_version"] == version:
                out[name] = {"mode": "current", "rows": 0, "seconds": 0.0}
                continue
            if incremental and entry is not None:
                derived.delete(cur, name, only_changed=True)
                if not derived.dated(name):
                    rows = derived.build(cur, name, params, ends, only_changed=True)
                else:
                    # Month-ends the data no longer reach go; those they newly reach come for every vehicle.
                    old = {e for e in ends if entry["first_as_of"] <= e <= entry["last_as_of"]}
                    derived.delete(
                        cur, name, outside=(min(ends), max(ends)) if ends else (date.max, date.min)
                    )
                    rows = derived.build(cur, name, params, sorted(old), only_changed=True)
                    rows += derived.build(cur, name, params, sorted(set(ends) - old))
                mode = "incremental"
            else:
                derived.delete(cur, name)
                rows = derived.build(cur, name, params, ends)
                mode = "full"
            derived.mark_built(cur, name, params, version, ends)
            out[name] = {"mode": mode, "rows": rows, "seconds": round(time.perf_counter() - clock, 2)}
        derived.forget_changes(cur, version)
    return out


def _changed_since(cur: duckdb.DuckDBPyConnection, since: int, version: int, found: dict[int, bool]) -> bool:
    """``derived.changed_since`` of ``since``, its tables filled anew only when the last call was
    for another version (each mart's refresh reads them for its own version)."""
    if since not in found:
        found.clear()
        found[since] = derived.changed_since(cur, since, version)
    return found[since]
