"""The engine's floor beside the bench's import rates (issue 21).

The import budgets (CSV ≥ 200,000 and XLSX ≥ 30,000 rows/s at group size, one transaction per
file, the closing checkpoint inside the timed span) are judged against what DuckDB itself does
with the same files on the same machine. Here the bench's files are written into a fresh copy of
the group by bare statements, with none of the import's checks: no rejected rows with reasons, no
history, no import log, no data version, no row counts per sheet, and a simplified vehicles fold.
What is left is the work no import can skip, so its rate bounds every import from above:

- *CSV*: each file decoded from GB18030 in Python (DuckDB reads no GBK without its ``encodings``
  extension), parsed and typed by ``read_csv`` in SQL, compared with the stored work orders by an
  anti-join on the order number, inserted, and its vehicles' first and last visit, visit count
  and spend folded into the stored ones; one transaction a file; then the checkpoint.
- *XLSX*: no workbook is read at all. As many callbacks as the bench's workbooks hold, already
  typed (stored callbacks with new ids, held as Arrow in memory), are compared by an anti-join and
  inserted in one transaction per workbook; then the checkpoint. Reading the cells only adds to it.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from analytics.ingest.mapping import auto_mapping

# The work orders typed from their text cells (columns renamed to the canonical fields first): the
# plain shapes the bench's files are written in, no more.
_TYPED = """
CREATE OR REPLACE TEMP TABLE floor_file AS
SELECT order_id, store, upper(vin) AS vin, plate, customer_name, phone, model,
       TRY_CAST(replace(purchase_date, '/', '-') AS DATE) AS purchase_date,
       TRY_CAST(replace(visit_date, '/', '-') AS DATE) AS visit_date,
       TRY_CAST(replace(mileage_km, ',', '') AS INTEGER) AS mileage_km,
       service_type,
       TRY_CAST(replace(amount, ',', '') AS DECIMAL(18, 2)) AS amount,
       advisor,
       is_appointment IN ('是', 'Y', 'y', '1', 'true', 'TRUE') AS is_appointment,
       -1 AS import_id  -- no import log: no import number
FROM read_csv($path, all_varchar = true, header = true, names = $names)
"""
_TEXT_FIELDS = (
    "order_id", "store", "vin", "plate", "customer_name", "phone", "model", "purchase_date",
    "visit_date", "mileage_km", "service_type", "amount", "advisor", "is_appointment",
)  # fmt: skip

_FOLD = """
CREATE OR REPLACE TEMP TABLE floor_merged AS
WITH new AS (
    SELECT vin, max(store) AS store, max(plate) AS plate, max(customer_name) AS customer_name,
           max(phone) AS phone, max(model) AS model, min(purchase_date) AS purchase_date,
           min(visit_date) AS first_visit, max(visit_date) AS last_visit, count(*) AS visits,
           sum(amount) AS spend, arg_max(mileage_km, visit_date) AS last_mileage_km,
           arg_max(order_id, visit_date) AS latest_order_id
    FROM floor_new WHERE vin IS NOT NULL GROUP BY vin
)
SELECT n.vin, n.store, n.plate, n.customer_name, n.phone, n.model,
       least(n.purchase_date, v.purchase_date) AS purchase_date,
       least(n.first_visit, v.first_visit) AS first_visit,
       greatest(n.last_visit, v.last_visit) AS last_visit,
       n.visits + coalesce(v.visits, 0) AS visits, n.spend + coalesce(v.spend, 0) AS spend,
       n.last_mileage_km, v.km_per_day, n.latest_order_id, v.first_reading, v.last_reading
FROM new AS n LEFT JOIN vehicles AS v USING (vin)
"""


@contextmanager
def _phase(phases: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds the block takes to ``phases[name]``."""
    clock = time.perf_counter()
    try:
        yield
    finally:
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - clock


def _on_copy(
    group_db: Path,
    work: Path,
    name: str,
    prepare: Callable[[duckdb.DuckDBPyConnection], Any],
    write: Callable[[duckdb.DuckDBPyConnection, Any, dict[str, float]], int],
) -> dict[str, Any]:
    """Run ``write`` (which returns the rows it wrote) on a fresh copy of the group, on disk before
    the clock starts as the bench's import's is, then the checkpoint; return its figures.
    ``prepare`` makes what ``write`` is given, untimed."""
    copy = work / name
    for p in (copy, Path(f"{copy}.wal")):
        p.unlink(missing_ok=True)
    shutil.copyfile(group_db, copy)
    with copy.open("rb+") as handle:
        os.fsync(handle.fileno())
    phases: dict[str, float] = {}
    con = duckdb.connect(str(copy))
    try:
        given = prepare(con)
        started = time.perf_counter()
        rows = write(con, given, phases)
        with _phase(phases, "checkpoint"):
            con.execute("CHECKPOINT")
        seconds = time.perf_counter() - started
    finally:
        con.close()
        for p in (copy, Path(f"{copy}.wal")):
            p.unlink(missing_ok=True)
    return {
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds) if seconds > 0 else 0,
        "phases_s": {key: round(value, 3) for key, value in phases.items()},
    }


def _utf8_table(path: Path, work: Path, index: int) -> tuple[Path, dict[str, str]]:
    """Write the file's table from its header line on as UTF-8; return it and field -> header."""
    lines = path.read_bytes().decode("gb18030").splitlines()
    for at, line in enumerate(lines[:20]):
        mapping = auto_mapping(line.split(","), "service")
        if {"order_id", "visit_date"} <= set(mapping):
            out = work / f"floor_{index}.csv"
            out.write_text("\n".join(lines[at:]), encoding="utf-8")
            return out, mapping
    raise ValueError(f"{path.name}: no work-order header in its first 20 lines")


def _names(table: Path, mapping: dict[str, str]) -> list[str]:
    """Return the file's column names as the fields they hold (other columns keep a name of their own)."""
    header = next(csv.reader(io.StringIO(table.read_text(encoding="utf-8").split("\n", 1)[0])))
    field = {source: name for name, source in mapping.items()}
    missing = set(_TEXT_FIELDS) - set(field.values())
    if missing:
        raise ValueError(f"{table.name}: no column for {', '.join(sorted(missing))}")
    return [field.get(name, f"column_{i}") for i, name in enumerate(header)]


def csv_floor(group_db: Path, work: Path, files: list[Path]) -> dict[str, Any]:
    """Return the rows, seconds and phases of the bare statements writing the CSV files."""

    def write(con: duckdb.DuckDBPyConnection, _: None, phases: dict[str, float]) -> int:
        rows = 0
        for index, path in enumerate(files):
            with _phase(phases, "decode"):
                table, mapping = _utf8_table(path, work, index)
            with _phase(phases, "parse_and_type"):
                con.execute(_TYPED, {"path": str(table), "names": _names(table, mapping)})
            with _phase(phases, "compare"):
                con.execute("BEGIN")
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE floor_new AS SELECT f.* FROM floor_file AS f "
                    "ANTI JOIN service_orders USING (order_id) "
                    "WHERE f.order_id IS NOT NULL AND f.visit_date IS NOT NULL"
                )
            with _phase(phases, "insert"):
                con.execute("INSERT INTO service_orders BY NAME SELECT * FROM floor_new")
            with _phase(phases, "vehicles"):
                con.execute(_FOLD)
                con.execute("DELETE FROM vehicles WHERE vin IN (SELECT vin FROM floor_merged)")
                con.execute("INSERT INTO vehicles SELECT * FROM floor_merged")
            rows += int(con.execute("SELECT count(*) FROM floor_new").fetchall()[0][0])
            with _phase(phases, "commit"):
                con.execute("COMMIT")
            table.unlink(missing_ok=True)
        return rows

    return _on_copy(group_db, work, "floor_csv.duckdb", lambda _con: None, write)


def xlsx_floor(group_db: Path, work: Path, rows_per_file: list[int]) -> dict[str, Any]:
    """Return the rows, seconds and phases of writing that many typed callbacks, one transaction a
    workbook, without reading any workbook."""

    def sample(con: duckdb.DuckDBPyConnection) -> list[Any]:
        # Stored callbacks in a hashed order, a different one per workbook, under new ids.
        return [
            con.sql(
                "SELECT * REPLACE ('FLOOR' || $i || '-' || callback_id AS callback_id) FROM callbacks "
                "ORDER BY hash(callback_id, $i) LIMIT $n",
                params={"i": i, "n": int(n)},
            ).to_arrow_table()
            for i, n in enumerate(rows_per_file)
        ]

    def write(con: duckdb.DuckDBPyConnection, batches: list[Any], phases: dict[str, float]) -> int:
        rows = 0
        for batch in batches:
            with _phase(phases, "compare"):
                con.register("floor_batch", batch)
                con.execute("BEGIN")
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE floor_new AS SELECT b.* FROM floor_batch AS b "
                    "ANTI JOIN callbacks USING (callback_id)"
                )
            with _phase(phases, "insert"):
                con.execute("INSERT INTO callbacks SELECT * FROM floor_new")
            rows += int(con.execute("SELECT count(*) FROM floor_new").fetchall()[0][0])
            with _phase(phases, "commit"):
                con.execute("COMMIT")
                con.unregister("floor_batch")
        return rows

    return _on_copy(group_db, work, "floor_xlsx.duckdb", sample, write)
