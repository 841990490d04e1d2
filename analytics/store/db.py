"""DuckDB store: connection, canonical schema, migrations and the data version.

Grain of the canonical tables (PRODUCT.md §2):
- ``service_orders``: one row per work order, keyed by ``order_id``.
- ``callbacks``: one row per callback attempt, keyed by ``callback_id``.
- ``imports``: one row per imported file; ``rejected_rows``: one row per rejected cell/row.
- ``*_history``: the previous image of a row an import replaced, so a rollback can restore it.
- ``vehicles``: derived, one row per VIN, brought up to date by every import or rollback.
- ``audit_log``: one row per sign-in (or failed one), sign-out, import, rollback or list export:
  when, who, in which role, and a JSON detail. (Schema 2's ``downloads`` table moved into it.)

One writer, many readers (issue 21). DuckDB lets one process open a file for writing and then
no other process may open it at all; several processes may open it read-only together while
nobody writes. So no program keeps the file open longer than it uses it: every ``connect``
that finds the file held tries again with growing pauses for ``[database] lock_wait_seconds``
(30 s; ``ANALYTICS_LOCK_WAIT_SECONDS``) before it gives up with a sentence, and the dashboard
borrows its handles from ``Handles``: reads on a read-only handle, writes (imports, rollbacks,
audit rows, the views after an import) on a writable one, each borrower with a cursor of its
own for the length of its ``with`` block, the file closed once the last one is done (a
read-only handle ``keep_open_seconds`` later, so the queries of one page share one open).
Measured on this 2-core machine: opening the demo read-only, reading the data version and
closing takes 30-50 ms (median; 0.4 ms for a cursor of an open handle). The alternative, a
writer publishing a read-only copy after every commit for readers to open, was measured too:
12 ms (3 MB demo) to 22 ms (11 MB) for a file copy, and 0.1-0.4 s for DuckDB's consistent
``COPY FROM DATABASE``, growing with a group's database (hundreds of MB) after every import and
every audit row, with twice the disk and copies to clean up; it was not needed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from analytics.core.config import db_path, settings
from analytics.core.errors import DatabaseDamaged, DatabaseLocked, DiskFull, UserError
from analytics.core.private_files import FILE_MODE

SCHEMA_VERSION = 14
# The schema from which the marts table has every column ``services.marts`` reads (``MIGRATIONS``
# 13 gave it the last). A migration that changes the table raises this with it.
MARTS_SCHEMA = 13

SERVICE_COLUMNS: tuple[str, ...] = (
    "order_id",
    "store",
    "vin",
    "plate",
    "customer_name",
    "phone",
    "model",
    "purchase_date",
    "visit_date",
    "mileage_km",
    "service_type",
    "amount",
    "advisor",
    "is_appointment",
)

CALLBACK_COLUMNS: tuple[str, ...] = (
    "callback_id",
    "order_id",
    "vin",
    "customer_name",
    "phone",
    "store",
    "callback_type",
    "callback_date",
    "agent",
    "reached",
    "overall_score",
    "attitude_score",
    "quality_score",
    "timeliness_score",
    "price_score",
    "environment_score",
    "recommend_score",
    "comment",
    "is_complaint",
    "complaint_category",
    "complaint_level",
    "resolved_at",
)

SERVICE_TYPES: tuple[str, ...] = (
    "first_maintenance",
    "maintenance",
    "repair",
    "warranty",
    "body_paint",
    "other",
)
CALLBACK_TYPES: tuple[str, ...] = ("3DC", "7DC", "other")

_SERVICE_DDL = """
    order_id       VARCHAR PRIMARY KEY,
    store          VARCHAR,
    vin            VARCHAR,
    plate          VARCHAR,
    customer_name  VARCHAR,
    phone          VARCHAR,
    model          VARCHAR,
    purchase_date  DATE,
    visit_date     DATE NOT NULL,
    mileage_km     INTEGER,
    service_type   VARCHAR NOT NULL,
    amount         DECIMAL(18, 2),
    advisor        VARCHAR,
    is_appointment BOOLEAN,
    import_id      INTEGER NOT NULL
"""

# The callbacks as schemas 1-9 made them: the migrations that built those schemas keep building
# them so, and migration 10 adds the customer's name and phone the callback files carry.
_CALLBACK_DDL_V1 = """
    callback_id        VARCHAR PRIMARY KEY,
    order_id           VARCHAR,
    vin                VARCHAR,
    callback_type      VARCHAR NOT NULL,
    callback_date      TIMESTAMP NOT NULL,
    agent              VARCHAR,
    reached            BOOLEAN,
    overall_score      DOUBLE,
    attitude_score     DOUBLE,
    quality_score      DOUBLE,
    timeliness_score   DOUBLE,
    price_score        DOUBLE,
    environment_score  DOUBLE,
    recommend_score    DOUBLE,
    comment            VARCHAR,
    is_complaint       BOOLEAN,
    complaint_category VARCHAR,
    complaint_level    INTEGER,
    resolved_at        TIMESTAMP,
    import_id          INTEGER NOT NULL
"""

# The callbacks as schema 10 made them (migration 10 keeps building them so); migration 11 adds the
# store the callback files name.
_CALLBACK_DDL_V10 = """
    callback_id        VARCHAR PRIMARY KEY,
    order_id           VARCHAR,
    vin                VARCHAR,
    customer_name      VARCHAR,
    phone              VARCHAR,
    callback_type      VARCHAR NOT NULL,
    callback_date      TIMESTAMP NOT NULL,
    agent              VARCHAR,
    reached            BOOLEAN,
    overall_score      DOUBLE,
    attitude_score     DOUBLE,
    quality_score      DOUBLE,
    timeliness_score   DOUBLE,
    price_score        DOUBLE,
    environment_score  DOUBLE,
    recommend_score    DOUBLE,
    comment            VARCHAR,
    is_complaint       BOOLEAN,
    complaint_category VARCHAR,
    complaint_level    INTEGER,
    resolved_at        TIMESTAMP,
    import_id          INTEGER NOT NULL
"""

_CALLBACK_DDL = """
    callback_id        VARCHAR PRIMARY KEY,
    order_id           VARCHAR,
    vin                VARCHAR,
    customer_name      VARCHAR,
    phone              VARCHAR,
    store              VARCHAR,
    callback_type      VARCHAR NOT NULL,
    callback_date      TIMESTAMP NOT NULL,
    agent              VARCHAR,
    reached            BOOLEAN,
    overall_score      DOUBLE,
    attitude_score     DOUBLE,
    quality_score      DOUBLE,
    timeliness_score   DOUBLE,
    price_score        DOUBLE,
    environment_score  DOUBLE,
    recommend_score    DOUBLE,
    comment            VARCHAR,
    is_complaint       BOOLEAN,
    complaint_category VARCHAR,
    complaint_level    INTEGER,
    resolved_at        TIMESTAMP,
    import_id          INTEGER NOT NULL
"""


_VEHICLES_DDL = """
    vin            VARCHAR PRIMARY KEY,
    store          VARCHAR,
    plate          VARCHAR,
    customer_name  VARCHAR,
    phone          VARCHAR,
    model          VARCHAR,
    purchase_date  DATE,
    first_visit    DATE,
    last_visit     DATE,
    visits         INTEGER,
    spend          DECIMAL(18, 2),
    last_mileage_km INTEGER,
    km_per_day     DOUBLE
"""

_TOKENS_DDL = """
    callback_id VARCHAR PRIMARY KEY,
    comment     VARCHAR,
    tokens      VARCHAR
"""


# The columns of _CALLBACK_DDL_V1, which migration 10 copies, and of _CALLBACK_DDL_V10, which
# migration 11 copies.
_CALLBACK_COLUMNS_V1 = ", ".join(
    c for c in (*CALLBACK_COLUMNS, "import_id") if c not in ("customer_name", "phone", "store")
)
_CALLBACK_COLUMNS_V10 = ", ".join(c for c in (*CALLBACK_COLUMNS, "import_id") if c != "store")


def _unkeyed(ddl: str) -> str:
    return ddl.replace(" PRIMARY KEY", "")


def _history_ddl(ddl: str) -> str:
    # History rows repeat keys (one per replaced version), so no primary key there.
    return ddl.replace(" PRIMARY KEY", "").replace(" NOT NULL", "") + ",\n    replaced_by INTEGER NOT NULL"


# One pass per VIN: the latest work order (by visit date, then order number) gives the
# vehicle's store, plate, customer and model; the aggregates give its visits and spend. The
# first and last mileage readings are those of the earliest and latest visits that have one
# (ties on a day broken by order number). The last three columns are the running values that
# let an import of new visits fold them into their vehicles without reading the history
# (``refresh_vehicles(new_visits=True)``): the latest order's number and the first and last
# readings with the visit that gave them.
_VEHICLES_SQL = """
    WITH agg AS (
        SELECT vin,
               arg_max(
                   struct_pack(order_id, store, plate, customer_name, phone, model, purchase_date),
                   (visit_date, order_id)
               ) AS latest,
               min(visit_date) AS first_visit,
               max(visit_date) AS last_visit,
               count(*) AS visits,
               coalesce(sum(amount), 0) AS spend,
               max(mileage_km) AS last_mileage_km,
               min(struct_pack(visit_date, order_id, km := mileage_km)) FILTER (WHERE mileage_km IS NOT NULL)
                   AS first_reading,
               max(struct_pack(visit_date, order_id, km := mileage_km)) FILTER (WHERE mileage_km IS NOT NULL)
                   AS last_reading
        FROM {source}
        WHERE vin IS NOT NULL {only}
        GROUP BY vin
    )
"""
_VEHICLES_ROW = """
    SELECT vin, latest.store, latest.plate, latest.customer_name, latest.phone, latest.model,
           latest.purchase_date, first_visit, last_visit, visits, spend, last_mileage_km,
           -- km per day from the first and last readings, only when they move forward
           CASE WHEN last_visit > first_visit AND last_reading.km >= first_reading.km
                THEN (last_reading.km - first_reading.km) / date_diff('day', first_visit, last_visit)
           END AS km_per_day,
           latest.order_id AS latest_order_id, first_reading, last_reading
    FROM {agg}
"""
READING_TYPE = "STRUCT(visit_date DATE, order_id VARCHAR, km INTEGER)"
# The incremental form reads only the rows of the VINs to refresh: a semi-join on the VIN column
# (inside an import's transaction it beat collecting their row ids first and fetching those).
_ONLY_AFFECTED = "AND vin IN (SELECT vin FROM derived_affected_vins)"
_REBUILD_SQL = _VEHICLES_SQL.format(source="service_orders", only="{only}") + _VEHICLES_ROW.format(agg="agg")
# New visits folded into the stored running values: sums add up, first and last values are the
# least and greatest of the stored and the new (NULL, for a vehicle not stored yet, gives way).
# The new latest order is found by its number and joined back (an arg_max carrying the whole
# row was five times slower).
_FOLD_SQL = """
    WITH agg AS (
        SELECT vin,
               arg_max(order_id, (visit_date, order_id)) AS latest_order_id,
               min(visit_date) AS first_visit,
               max(visit_date) AS last_visit,
               count(*) AS visits,
               coalesce(sum(amount), 0) AS spend,
               max(mileage_km) AS last_mileage_km,
               min(struct_pack(visit_date, order_id, km := mileage_km)) FILTER (WHERE mileage_km IS NOT NULL)
                   AS first_reading,
               max(struct_pack(visit_date, order_id, km := mileage_km)) FILTER (WHERE mileage_km IS NOT NULL)
                   AS last_reading
        FROM derived_new_visits
        GROUP BY vin
    ),
    folded AS (
        SELECT n.vin,
               v.vin IS NULL OR (n.last_visit, n.latest_order_id) > (v.last_visit, v.latest_order_id) AS newer,
               CASE WHEN newer THEN l.store ELSE v.store END AS store,
               CASE WHEN newer THEN l.plate ELSE v.plate END AS plate,
               CASE WHEN newer THEN l.customer_name ELSE v.customer_name END AS customer_name,
               CASE WHEN newer THEN l.phone ELSE v.phone END AS phone,
               CASE WHEN newer THEN l.model ELSE v.model END AS model,
               CASE WHEN newer THEN l.purchase_date ELSE v.purchase_date END AS purchase_date,
               least(v.first_visit, n.first_visit) AS first_visit,
               greatest(v.last_visit, n.last_visit) AS last_visit,
               coalesce(v.visits, 0) + n.visits AS visits,
               coalesce(v.spend, 0) + n.spend AS spend,
               greatest(v.last_mileage_km, n.last_mileage_km) AS last_mileage_km,
               CASE WHEN newer THEN n.latest_order_id ELSE v.latest_order_id END AS latest_order_id,
               least(v.first_reading, n.first_reading) AS first_reading,
               greatest(v.last_reading, n.last_reading) AS last_reading
        FROM agg AS n
        JOIN derived_new_visits AS l ON l.order_id = n.latest_order_id
        LEFT JOIN vehicles AS v ON v.vin = n.vin
    )
    SELECT vin, store, plate, customer_name, phone, model, purchase_date, first_visit, last_visit,
           visits, spend, last_mileage_km,
           CASE WHEN last_visit > first_visit AND last_reading.km >= first_reading.km
                THEN (last_reading.km - first_reading.km) / date_diff('day', first_visit, last_visit)
           END AS km_per_day,
           latest_order_id, first_reading, last_reading
    FROM folded
"""


AFFECTED_VINS = "derived_affected_vins"


def refresh_vehicles(
    con: duckdb.DuckDBPyConnection, *, only_affected: bool = False, new_visits: bool = False
) -> None:
    """Rebuild the derived ``vehicles`` table (one row per vehicle) from the canonical tables.

    ``only_affected``: the caller filled the temporary table ``derived_affected_vins`` (one
    ``vin`` column) with the VINs whose work orders changed, and only those vehicles are
    rebuilt (an import's cost is then the file's, not the database's); the table is dropped.
    ``new_visits``: the caller made ``derived_new_visits`` (a temporary table or view with the
    columns of ``service_orders``) holding work orders just inserted, none replacing a stored
    order, of vehicles not otherwise changed; they are folded into their vehicles' running
    values without reading any history, which gives what a rebuild gives. That table or view is
    the caller's to drop. Without either flag every vehicle is rebuilt.
    """
    if not (only_affected or new_visits):
        con.execute("DELETE FROM vehicles")
        con.execute("INSERT INTO vehicles " + _REBUILD_SQL.format(only=""))
        return
    # The two sets of vehicles are apart; the new visits go first, as they may be listed by
    # leaving out the affected VINs.
    if new_visits:
        con.execute("CREATE OR REPLACE TEMP TABLE derived_vehicles_folded AS " + _FOLD_SQL)
        try:
            con.execute("DELETE FROM vehicles WHERE vin IN (SELECT vin FROM derived_vehicles_folded)")
            con.execute("INSERT INTO vehicles SELECT * FROM derived_vehicles_folded")
        finally:
            con.execute("DROP TABLE IF EXISTS derived_vehicles_folded")
    if only_affected:
        try:
            con.execute("DELETE FROM vehicles WHERE vin IN (SELECT vin FROM derived_affected_vins)")
            con.execute("INSERT INTO vehicles " + _REBUILD_SQL.format(only=_ONLY_AFFECTED))
        finally:
            con.execute("DROP TABLE IF EXISTS derived_affected_vins")


MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        "CREATE SEQUENCE IF NOT EXISTS import_id_seq START 1",
        """CREATE TABLE IF NOT EXISTS imports (
            import_id      INTEGER PRIMARY KEY,
            file_name      VARCHAR NOT NULL,
            sha256         VARCHAR NOT NULL,
            kind           VARCHAR NOT NULL,
            rows_read      INTEGER NOT NULL,
            rows_inserted  INTEGER NOT NULL,
            rows_updated   INTEGER NOT NULL,
            rows_unchanged INTEGER NOT NULL,
            rows_rejected  INTEGER NOT NULL,
            started_at     TIMESTAMP NOT NULL,
            finished_at    TIMESTAMP,
            imported_by    VARCHAR,
            status         VARCHAR NOT NULL DEFAULT 'done',
            rolled_back_at TIMESTAMP,
            mapping        VARCHAR
        )""",
        """CREATE TABLE IF NOT EXISTS rejected_rows (
            import_id   INTEGER NOT NULL,
            source_row  INTEGER NOT NULL,
            column_name VARCHAR,
            reason      VARCHAR NOT NULL,
            raw_values  VARCHAR
        )""",
        f"CREATE TABLE IF NOT EXISTS service_orders ({_SERVICE_DDL})",
        f"CREATE TABLE IF NOT EXISTS callbacks ({_CALLBACK_DDL_V1})",
        f"CREATE TABLE IF NOT EXISTS service_orders_history ({_history_ddl(_SERVICE_DDL)})",
        f"CREATE TABLE IF NOT EXISTS callbacks_history ({_history_ddl(_CALLBACK_DDL_V1)})",
        f"CREATE TABLE IF NOT EXISTS vehicles ({_VEHICLES_DDL})",
        # Segmented comment tokens, computed once per comment at import time (themes.py).
        f"CREATE TABLE IF NOT EXISTS comment_tokens ({_TOKENS_DDL})",
        "CREATE INDEX IF NOT EXISTS idx_orders_vin ON service_orders (vin)",
        "CREATE INDEX IF NOT EXISTS idx_callbacks_order ON callbacks (order_id)",
    ],
    # The download audit: one row per list a user saved; lists with phone numbers must be traceable.
    2: [
        "CREATE SEQUENCE IF NOT EXISTS download_id_seq START 1",
        """CREATE TABLE IF NOT EXISTS downloads (
            download_id   INTEGER PRIMARY KEY DEFAULT nextval('download_id_seq'),
            downloaded_at TIMESTAMP NOT NULL,
            who           VARCHAR NOT NULL,
            what          VARCHAR NOT NULL,
            file_format   VARCHAR NOT NULL,
            row_count     INTEGER NOT NULL,
            has_phone     BOOLEAN NOT NULL
        )""",
    ],
    # The audit log: sign-ins, imports, rollbacks and exports. Downloads recorded under schema 2
    # move into it as exports; they were made in local single-user mode, which has cs_lead rights.
    3: [
        "CREATE SEQUENCE IF NOT EXISTS audit_id_seq START 1",
        """CREATE TABLE IF NOT EXISTS audit_log (
            audit_id INTEGER PRIMARY KEY DEFAULT nextval('audit_id_seq'),
            happened_at TIMESTAMP NOT NULL,
            who      VARCHAR NOT NULL,
            role     VARCHAR NOT NULL,
            action   VARCHAR NOT NULL CHECK (action IN
                         ('sign_in', 'sign_in_failed', 'sign_out', 'import', 'rollback', 'export')),
            detail   VARCHAR
        )""",
        """INSERT INTO audit_log (happened_at, who, role, action, detail)
           SELECT downloaded_at, who, 'cs_lead', 'export',
                  json_object('what', what, 'file_format', file_format, 'rows', row_count,
                              'has_phone', has_phone)
           FROM downloads ORDER BY download_id""",
        "DROP TABLE downloads",
        "DROP SEQUENCE download_id_seq",
    ],
    # Page results kept per data version (analytics/services/marts.py).
    4: [
        """CREATE TABLE IF NOT EXISTS marts (
            name         VARCHAR NOT NULL,
            args         VARCHAR NOT NULL,
            data_version INTEGER NOT NULL,
            payload      BLOB NOT NULL,
            seconds      DOUBLE NOT NULL,
            built_at     TIMESTAMP NOT NULL,
            PRIMARY KEY (name, args, data_version)
        )""",
    ],
    # Keys without index: DuckDB rewrites a table's whole key index at every checkpoint, which made
    # an import into a million work orders pay seconds per file. The import keeps keys unique
    # itself (update by key, duplicates in a file collapsed) and checks the keys it wrote.
    5: [
        "DROP INDEX IF EXISTS idx_orders_vin",
        "DROP INDEX IF EXISTS idx_callbacks_order",
        *(
            statement
            for table, ddl in (
                ("service_orders", _SERVICE_DDL),
                ("callbacks", _CALLBACK_DDL_V1),
                ("vehicles", _VEHICLES_DDL),
                ("comment_tokens", _TOKENS_DDL),
            )
            for statement in (
                f"CREATE TABLE {table}_v5 ({_unkeyed(ddl)})",
                f"INSERT INTO {table}_v5 SELECT * FROM {table}",  # noqa: S608 - names from the tuple above
                f"DROP TABLE {table}",
                f"ALTER TABLE {table}_v5 RENAME TO {table}",
            )
        ),
    ],
    # Mart payloads move to files beside the database (a lookup read every payload's segment).
    6: [
        "DROP TABLE IF EXISTS marts",
        """CREATE TABLE marts (
            name         VARCHAR NOT NULL,
            args         VARCHAR NOT NULL,
            data_version INTEGER NOT NULL,
            payload      BLOB,
            file         VARCHAR,
            seconds      DOUBLE NOT NULL,
            built_at     TIMESTAMP NOT NULL,
            PRIMARY KEY (name, args, data_version)
        )""",
    ],
    # Issue 14: money is exact (DECIMAL(18,2), so two imports of the same files give the same sums),
    # and rejected_rows names the sheet of a workbook row and keeps the cells an import left
    # blank in a row that landed (an unreadable score) apart from the rows it rejected.
    7: [
        "ALTER TABLE service_orders ALTER amount SET DATA TYPE DECIMAL(18, 2)",
        "ALTER TABLE service_orders_history ALTER amount SET DATA TYPE DECIMAL(18, 2)",
        "ALTER TABLE vehicles ALTER spend SET DATA TYPE DECIMAL(18, 2)",
        "ALTER TABLE rejected_rows ADD COLUMN IF NOT EXISTS sheet VARCHAR",
        "ALTER TABLE rejected_rows ADD COLUMN IF NOT EXISTS kept BOOLEAN DEFAULT false",
    ],
    # issue 19: the audit log records retraining, refused writes, backups and restores (its CHECK
    # cannot be altered in place, so the table is copied); mart payloads become files that cannot
    # run code when read, with their SHA-256 kept here and checked before a payload is read.
    8: [
        """CREATE TABLE audit_log_v8 (
            audit_id INTEGER PRIMARY KEY DEFAULT nextval('audit_id_seq'),
            happened_at TIMESTAMP NOT NULL,
            who      VARCHAR NOT NULL,
            role     VARCHAR NOT NULL,
            action   VARCHAR NOT NULL CHECK (action IN
                         ('sign_in', 'sign_in_failed', 'sign_out', 'import', 'rollback', 'export',
                          'retrain', 'refused', 'backup', 'restore')),
            detail   VARCHAR
        )""",
        "INSERT INTO audit_log_v8 SELECT audit_id, happened_at, who, role, action, detail FROM audit_log",
        "DROP TABLE audit_log",
        "ALTER TABLE audit_log_v8 RENAME TO audit_log",
        "DELETE FROM marts",
        "ALTER TABLE marts ADD COLUMN sha256 VARCHAR",
    ],
    # issue 21: vehicles keep the running values an import of new visits folds its rows into
    # (the latest order's number, the first and last mileage readings with their visits), so
    # such an import no longer rereads the history of every vehicle it touches.
    9: [
        "ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS latest_order_id VARCHAR",
        f"ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS first_reading {READING_TYPE}",
        f"ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS last_reading {READING_TYPE}",
        "DELETE FROM vehicles",
        "INSERT INTO vehicles " + _REBUILD_SQL.format(only=""),
    ],
    # Callbacks keep the customer's name and phone their files carry (a delivery call's buyer has
    # no work order yet, so nothing else names him). The tables are copied rather than altered so
    # that the columns stand where a new database has them (after vin; history rows end with
    # replaced_by), which the import's history copy (``t.*`` then the import id) relies on.
    10: [
        f"CREATE TABLE callbacks_v10 ({_unkeyed(_CALLBACK_DDL_V10)})",
        f"INSERT INTO callbacks_v10 ({_CALLBACK_COLUMNS_V1}) SELECT {_CALLBACK_COLUMNS_V1} FROM callbacks",  # noqa: S608 - fixed names
        "DROP TABLE callbacks",
        "ALTER TABLE callbacks_v10 RENAME TO callbacks",
        f"CREATE TABLE callbacks_history_v10 ({_history_ddl(_CALLBACK_DDL_V10)})",
        f"INSERT INTO callbacks_history_v10 ({_CALLBACK_COLUMNS_V1}, replaced_by) "  # noqa: S608 - fixed names
        f"SELECT {_CALLBACK_COLUMNS_V1}, replaced_by FROM callbacks_history",
        "DROP TABLE callbacks_history",
        "ALTER TABLE callbacks_history_v10 RENAME TO callbacks_history",
    ],
    # Callbacks keep the store their files name (a delivery call belongs to the store that sold the
    # car, which a new car's missing work orders cannot tell). Copied as in migration 10, so the
    # column stands where a new database has it (after phone).
    11: [
        f"CREATE TABLE callbacks_v11 ({_unkeyed(_CALLBACK_DDL)})",
        f"INSERT INTO callbacks_v11 ({_CALLBACK_COLUMNS_V10}) SELECT {_CALLBACK_COLUMNS_V10} FROM callbacks",  # noqa: S608 - fixed names
        "DROP TABLE callbacks",
        "ALTER TABLE callbacks_v11 RENAME TO callbacks",
        f"CREATE TABLE callbacks_history_v11 ({_history_ddl(_CALLBACK_DDL)})",
        f"INSERT INTO callbacks_history_v11 ({_CALLBACK_COLUMNS_V10}, replaced_by) "  # noqa: S608 - fixed names
        f"SELECT {_CALLBACK_COLUMNS_V10}, replaced_by FROM callbacks_history",
        "DROP TABLE callbacks_history",
        "ALTER TABLE callbacks_history_v11 RENAME TO callbacks_history",
    ],
    # The rows each import found as stored (unchanged), by key: a rollback of the import that wrote
    # them hands them to the latest later import still in force that holds them, instead of deleting
    # rows that import's file still holds.
    12: [
        "CREATE TABLE IF NOT EXISTS import_held (import_id INTEGER NOT NULL, row_key VARCHAR NOT NULL)",
    ],
    # A kept page result of an as-of day records what it read (``memo.carried_while``): the refresh
    # after an import of later days carries it to the new data version instead of computing it again.
    13: [
        "ALTER TABLE marts ADD COLUMN IF NOT EXISTS inputs_as_of DATE",
        "ALTER TABLE marts ADD COLUMN IF NOT EXISTS inputs VARCHAR",
    ],
    # The rows of a file that repeat an earlier row exactly, imported once: the log's counts add up
    # (read = inserted + updated + unchanged + duplicates + rejected). Earlier imports did not count them.
    14: [
        "ALTER TABLE imports ADD COLUMN IF NOT EXISTS rows_duplicate INTEGER DEFAULT 0",
        "UPDATE imports SET rows_duplicate = 0 WHERE rows_duplicate IS NULL",
    ],
}


# A ``meta`` row under this key makes every write transaction refuse with its value (a sentence):
# the dashboard's connection to a Parquet export (analytics/services/warehouse.py) carries one.
READ_ONLY_KEY = "read_only"

_LOCK_PID = re.compile(r"\(PID (\d+)\)")
# One writing transaction at a time per process: two imports on cursors of the one shared
# connection would otherwise both update the data version and one would fail with a conflict.
_WRITE_LOCK = threading.Lock()


def _command_line(pid: int) -> list[str]:
    """Return the arguments of a running process (empty where /proc is not available)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def lock_holder(message: str) -> tuple[str, str]:
    """Return (kind, description) of the program DuckDB names in a lock error.

    kind is "dashboard" (a Streamlit server), "command" (``python -m analytics ...``) or "program".
    """
    found = _LOCK_PID.search(message)
    if found is None:
        return "program", "another program"
    pid = int(found.group(1))
    args = _command_line(pid)
    words = [Path(a).name for a in args]
    if any(w.startswith("streamlit") for w in words):
        return "dashboard", f"the dashboard, process {pid}"
    if "analytics" in args:
        at = args.index("analytics")
        return "command", " ".join(["python -m analytics", *args[at + 1 : at + 2]]) + f", process {pid}"
    program = f"{words[0]}, " if words else ""
    return "program", f"{program}process {pid}"


def _locked(target: Path, exc: duckdb.Error, waited: float = 0.0) -> DatabaseLocked:
    kind, holder = lock_holder(str(exc))
    lead = f"The database {target} is in use by another program ({holder})"
    if waited > 0:
        lead += f", which kept it for more than {waited:g} s"
    if kind == "dashboard":
        advice = (
            "the dashboard holds it only while it writes (an import, a rollback, the views after "
            "one), so run this command again in a minute, or import on its Data page instead"
        )
    elif kind == "command":
        advice = "wait for that command to finish, then run this one again"
    else:
        advice = "wait for it to finish (an import or a backup, say), then run this command again"
    return DatabaseLocked(f"{lead}; {advice}.", path=str(target), holder=holder, kind=kind)


LOCK_WAIT_ENV = "ANALYTICS_LOCK_WAIT_SECONDS"


def lock_wait_seconds() -> float:
    """Return how long to wait for another program's hold on the database (``ANALYTICS_LOCK_WAIT_SECONDS``
    or ``[database] lock_wait_seconds``)."""
    raw = os.environ.get(LOCK_WAIT_ENV)
    if raw:
        try:
            return max(float(raw), 0.0)
        except ValueError:
            raise UserError(f"{LOCK_WAIT_ENV}={raw!r} is not a number of seconds.") from None
    return settings().database.lock_wait_seconds


def backup_dir(database: str | os.PathLike[str]) -> Path:
    """Return the folder of a database's backups: ``<database>.backups/`` beside the file."""
    target = Path(database)
    return target.with_name(f"{target.name}.backups")


def latest_backup(database: str | os.PathLike[str]) -> Path | None:
    """Return the newest backup of ``database`` (by name, which holds its time), or None."""
    found = sorted(backup_dir(database).glob("*.duckdb"))
    return found[-1] if found else None


def _restore_advice(target: Path) -> str:
    latest = latest_backup(target)
    if latest is None:
        return (
            "there is no backup of it in "
            f"{backup_dir(target)}; rebuild it by importing the DMS files again into a new database (--db NEW)"
        )
    return f"restore the latest backup with `python -m analytics restore {latest} --db {target}`"


def damaged(target: str | os.PathLike[str], exc: BaseException) -> DatabaseDamaged | None:
    """Return the sentence for a database that cannot be read (None when ``exc`` is another fault)."""
    message = str(exc)
    where = Path(target)
    if "replaying WAL" in message or "WAL does not match" in message:
        wal = where.with_name(f"{where.name}.wal")
        return DatabaseDamaged(
            f"The database {where} cannot be opened: its write-ahead log {wal} does not belong to it "
            "(left from another copy of the file, or the file was copied without it). Move "
            f"{wal.name} out of the folder and open the database again (it then holds what was last "
            f"saved into the file itself); otherwise {_restore_advice(where)}."
        )
    if (
        "Corrupt database file" in message
        or "not a valid DuckDB database file" in message
        or "checksum" in message.lower()
    ):
        return DatabaseDamaged(
            f"The database {where} is damaged and cannot be read ({message.splitlines()[0][:160]}); "
            f"{_restore_advice(where)}."
        )
    return None


def _held(exc: duckdb.Error) -> bool:
    """Whether opening failed because the file is open elsewhere: another process's lock, or a
    handle of this process in the other mode (given back within moments: ``Handles``)."""
    message = str(exc)
    if isinstance(exc, duckdb.IOException):
        return "lock" in message.lower()
    return isinstance(exc, duckdb.ConnectionException) and "different configuration" in message


# A writer that finds the file held says so beside it, touching the flag at every try (at least
# once a second); a flag older than this was left by a writer that is gone.
_WANTED_FRESH_SECONDS = 5.0


def _wanted_flag(target: Path) -> Path:
    return target.with_name(f"{target.name}.write-wanted")


def write_wanted(path: str | os.PathLike[str]) -> bool:
    """Return whether another program is waiting to open the database for writing (a fresh flag beside it)."""
    try:
        age = time.time() - _wanted_flag(Path(path)).stat().st_mtime
    except OSError:
        return False
    return age < _WANTED_FRESH_SECONDS


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    wait: float | None = None,
    on_wait: Callable[[], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the database (``--db``, ``ANALYTICS_DB`` or the default) and bring its schema up to date.

    A file another program holds (DuckDB: one writer and nobody else, or many readers) is tried
    again with growing pauses for ``wait`` seconds (default ``lock_wait_seconds()``);
    ``on_wait`` hears once that it is waiting. Still held then, it raises DatabaseLocked, whose
    sentence names the program.
    """
    target = db_path(path)
    if str(target) != ":memory:":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    limit = lock_wait_seconds() if wait is None else wait
    deadline = time.monotonic() + limit
    pause = 0.05
    told = wanted = False
    try:
        while True:
            try:
                con = duckdb.connect(str(target), read_only=read_only)
                break
            except duckdb.Error as exc:
                if not _held(exc):
                    raise damaged(target, exc) or UserError(
                        f"The database {target} cannot be opened: {exc}"
                    ) from exc
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _locked(target, exc, waited=limit) from exc
                if not read_only:
                    # A dashboard's readers let a waiting writer in (``write_wanted``, ``Handles``).
                    with contextlib.suppress(OSError):
                        _wanted_flag(target).touch()
                        wanted = True
                if on_wait is not None and not told:
                    on_wait()
                    told = True
                # Jittered, so that two programs waiting for the same file do not retry in step.
                time.sleep(min(left, pause * random.uniform(0.5, 1.5)))  # noqa: S311 - timing, not secrecy
                pause = min(pause * 2, 1.0)
    finally:
        if wanted:
            _wanted_flag(target).unlink(missing_ok=True)
    if not read_only:
        if str(target) != ":memory:":
            _owner_only(Path(target))
        try:
            migrate(con)
        except duckdb.Error as exc:
            con.close()
            fault = damaged(target, exc)
            if fault is None:
                raise
            raise fault from exc
    return con


def _owner_only(target: Path) -> None:
    # The file holds every customer's phone number, as its backups do (0600): DuckDB creates it
    # by the umask (0644, readable by every local user). Its log, made again at a later write,
    # is made owner-only at the next open for writing.
    for path in (target, target.with_name(target.name + ".wal")):
        with contextlib.suppress(OSError):  # missing, or a file of another owner: not ours to set
            os.chmod(path, FILE_MODE)


class Handles:
    """One process's handles on one database file, lent for the length of a ``with`` block.

    Readers share a read-only handle (other programs may read meanwhile); a writer waits until
    this process's readers are done, then opens the file for writing, and readers arriving while
    a writer works read through its handle (they see the last committed state). Every borrower
    gets a cursor of its own, closed when its block ends; the handle itself is closed only when
    no borrower is left, never under another thread (a read-only one ``keep_open`` seconds
    later, so that a page's queries share one open; a writable one at once, so that other
    programs can open the file). A thread that already borrows joins the open handle without
    waiting; a write cannot start inside a read of the same thread (it would wait for itself).
    """

    def __init__(self, path: str | os.PathLike[str], *, keep_open: float = 1.0) -> None:
        self.path = Path(path)
        self.keep_open = keep_open
        self.opened = 0  # how many times the file was opened (for tests and the bench)
        self._cond = threading.Condition()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._writable = False
        self._users = 0
        self._writers = 0
        self._writers_waiting = 0
        self._idle_round = 0
        self._migrated = False
        self._mine = threading.local()

    @contextmanager
    def reading(self, on_wait: Callable[[], None] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a cursor for reading (on a read-only handle unless a writer of this process is at work)."""
        with self._lend(False, on_wait) as cur:
            yield cur

    @contextmanager
    def writing(self, on_wait: Callable[[], None] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a cursor on a writable handle (the caller makes its transactions, e.g. ``write_transaction``)."""
        with self._lend(True, on_wait) as cur:
            yield cur

    def _may_enter(self, write: bool) -> bool:
        if write:
            return self._con is None or self._writable
        if self._writers_waiting:
            return False  # a waiting writer goes first, or readers could keep it out for ever
        if self._writable:
            return self._writers > 0
        # Another program waiting to write goes first too: this process's readers give the file
        # back as soon as they are done and open it again after that writer.
        return not write_wanted(self.path)

    @contextmanager
    def _lend(self, write: bool, on_wait: Callable[[], None] | None) -> Iterator[duckdb.DuckDBPyConnection]:
        depth: int = getattr(self._mine, "depth", 0)
        told = False
        with self._cond:
            if depth:
                if write and not self._writable:
                    raise RuntimeError("a write cannot start inside a read on the same thread")
            else:
                self._writers_waiting += write
                try:
                    while not self._may_enter(write):
                        if (
                            self._con is not None
                            and self._users == 0
                            and (write or not self._writers_waiting)
                        ):
                            self._close()  # idle, and in the other mode or wanted elsewhere
                            continue
                        if on_wait is not None and not told:
                            on_wait()
                            told = True
                        # Polled: another program's flag wakes nobody here.
                        self._cond.wait(0.05)
                    if self._con is None:
                        # Under the lock: the others would wait for this open anyway.
                        self._con = self._first_read(on_wait) if not write and not self._migrated else None
                        if self._con is None:
                            self._con = connect(self.path, read_only=not write, on_wait=on_wait)
                        self._writable = write
                        self._migrated = True
                        self.opened += 1
                finally:
                    self._writers_waiting -= write
                    self._cond.notify_all()
            assert self._con is not None
            cur = self._con.cursor()
            self._users += 1
            self._writers += write
        self._mine.depth = depth + 1
        try:
            yield cur
        finally:
            self._mine.depth = depth
            with contextlib.suppress(duckdb.Error):
                cur.close()
            with self._cond:
                self._users -= 1
                self._writers -= write
                if self._users == 0:
                    self._idle()
                self._cond.notify_all()

    def _first_read(self, on_wait: Callable[[], None] | None = None) -> duckdb.DuckDBPyConnection | None:
        """Open the file for this process's first read: read-only when its schema is current (other
        programs may hold it read-only meanwhile, and nobody waits for a writer's lock); a new
        file or an older schema is first created or brought up to date by a writable open."""
        if Path(self.path).is_file():
            con = connect(self.path, read_only=True, on_wait=on_wait)
            # A file this check cannot read is left to the writable open, which says why.
            with contextlib.suppress(duckdb.Error):
                if schema_version(con) >= SCHEMA_VERSION:
                    return con
            con.close()
        connect(self.path, on_wait=on_wait).close()
        return None

    def _idle(self) -> None:
        if self._writable or self.keep_open <= 0:
            self._close()
            return
        self._idle_round += 1
        timer = threading.Timer(self.keep_open, self._expire, args=(self._idle_round,))
        timer.daemon = True
        timer.start()

    def _expire(self, idle_round: int) -> None:
        with self._cond:
            if self._users == 0 and self._idle_round == idle_round:
                self._close()

    def _close(self) -> None:
        if self._con is not None:
            with contextlib.suppress(duckdb.Error):
                self._con.close()
        self._con = None
        self._writable = False
        self._cond.notify_all()

    def is_open(self) -> bool:
        """Whether this process holds the file open right now."""
        with self._cond:
            return self._con is not None

    def close(self) -> None:
        """Close the handle now if nobody borrows it (at exit, and in tests)."""
        with self._cond:
            if self._users == 0:
                self._close()


@contextmanager
def write_transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a cursor inside one transaction, committed when the block ends and rolled back if it raises.

    Writers in this process take turns (the dashboard's sessions share one writable handle);
    readers on other cursors keep seeing the last committed state until the commit.
    """
    with _WRITE_LOCK:
        cur = con.cursor()
        try:
            refusal = cur.execute(
                "SELECT value FROM meta WHERE key = $key", {"key": READ_ONLY_KEY}
            ).fetchone()
            if refusal:
                raise UserError(str(refusal[0]))
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException as exc:
                # DuckDB may have ended a failed transaction itself ("cannot rollback - no
                # transaction is active"): that must not hide why it failed.
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                if is_disk_full(exc) and not isinstance(exc, DiskFull):
                    raise disk_full(_file_of(con)) from exc
                raise
        finally:
            cur.close()


def _file_of(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return str(row[0]) if row and row[0] else "."


def is_disk_full(exc: BaseException) -> bool:
    """Return whether ``exc`` says the disk is full (an OSError ENOSPC, or DuckDB's IO error for it)."""
    if isinstance(exc, DiskFull):
        return True
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    message = str(exc).lower()
    return isinstance(exc, duckdb.Error) and ("no space left on device" in message or "disk quota" in message)


def disk_full(
    where: str | os.PathLike[str], exc: BaseException | None = None, needed: int | None = None
) -> DiskFull:
    """Return the sentence for a full disk at ``where``: that nothing was saved and how much to free.

    Without a known need, the estimate is the database's size (a checkpoint may rewrite that
    much) and at least 100 MB.
    """
    place = Path(where)
    folder = place if place.is_dir() else place.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = 0
    if needed is None:
        database = place if place.is_file() else None
        needed = max(100_000_000, database.stat().st_size if database else 0)
    return DiskFull(
        f"The disk holding {folder} is full ({free / 1e6:,.0f} MB free): the work was stopped and "
        f"nothing half-written was kept; free at least {needed / 1e6:,.0f} MB there, then run it again.",
        zh=f"{folder} 所在的磁盘已满（剩余 {free / 1e6:,.0f} MB）：操作已停止，没有留下写了一半的数据；请在该磁盘上至少"
        f"腾出 {needed / 1e6:,.0f} MB 空间，然后重试。",
    )


def is_interrupt(exc: BaseException) -> bool:
    """Return whether ``exc`` is Ctrl-C, in Python's form or DuckDB's (``InterruptException``, or
    the ``RuntimeError('Query interrupted')`` DuckDB 2 raises when SIGINT arrives mid-query)."""
    return isinstance(exc, (KeyboardInterrupt, duckdb.InterruptException)) or (
        type(exc) is RuntimeError and str(exc) == "Query interrupted"
    )


def has_current_marts(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the marts table has every column this program reads: a database opened read-only
    is not migrated and may predate it, and a source that refuses writes (the Parquet export,
    ``READ_ONLY_KEY`` in its ``meta``) has none. One query of ``meta``, as ``data_version`` reads
    (0.8 ms on the group's file; looking the column up in ``duckdb_columns()`` took 2-2.5 ms of
    every lookup)."""
    found = dict(
        con.execute(
            "SELECT key, value FROM meta WHERE key = 'schema_version' OR key = $ro", {"ro": READ_ONLY_KEY}
        ).fetchall()
    )
    return READ_ONLY_KEY not in found and int(found.get("schema_version") or 0) >= MARTS_SCHEMA


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """Return the schema version recorded in the database (0 for an empty one)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply pending migrations (idempotent) and return the schema version now in force."""
    current = schema_version(con)
    for version in sorted(MIGRATIONS):
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in MIGRATIONS[version]:
                con.execute(statement)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', $v)", {"v": str(version)})
            con.execute("INSERT OR IGNORE INTO meta VALUES ('data_version', '0')")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        current = version
    return current


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    """Return a counter that changes whenever imported data change (cache key for pages)."""
    # fetchall: the result read to its end, so the connection is free for ``register`` at once.
    rows = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()
    return int(rows[0][0]) if rows else 0


def models_stamp(con: duckdb.DuckDBPyConnection) -> str:
    """Return when models were last fitted after an import (``stamp_models``; "" before): the
    data version does not change then, but the views the models score do (a page cache key)."""
    row = con.execute("SELECT value FROM meta WHERE key = 'models_fitted'").fetchone()
    return str(row[0]) if row else ""


def stamp_models(con: duckdb.DuckDBPyConnection) -> None:
    """Record that models were fitted just now (``models_stamp``)."""
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ('models_fitted', $at)", {"at": datetime.now().isoformat()}
    )


def mark_rolled_back(con: duckdb.DuckDBPyConnection) -> None:
    """Record that the current data version is a rollback's (``rolled_back``), in the caller's
    transaction."""
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ('rolled_back_version', CAST($v AS VARCHAR))",
        {"v": data_version(con)},
    )


def rolled_back(con: duckdb.DuckDBPyConnection) -> bool:
    """Return whether the current data version is a rollback's: the views of the version before
    it were computed on rows it took out, and must not stand in for its own
    (``marts.stand_in``)."""
    row = con.execute("SELECT value FROM meta WHERE key = 'rolled_back_version'").fetchone()
    return row is not None and str(row[0]) == str(data_version(con))


def bump_data_version(con: duckdb.DuckDBPyConnection) -> int:
    """Increase the data version inside the caller's transaction and return the new value."""
    con.execute(
        "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS VARCHAR) WHERE key = 'data_version'"
    )
    return data_version(con)
