"""The bench command end to end on a tiny group: the JSON shape of issue 9, every page, real numbers."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"overview", "satisfaction", "themes", "churn", "maintenance", "data", "about"}


def test_bench_json_has_every_part_with_measured_numbers(tmp_path):
    database = tmp_path / "bench.duckdb"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "analytics",
            "bench",
            "--orders",
            "3000",
            "--csv-rows",
            "2000",
            "--xlsx-rows",
            "400",
            "--db",
            str(database),
            "--skip",
            "browser",
            "--skip",
            "refresh",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "ANALYTICS_MODEL_DIR": str(tmp_path / "models")},
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert 2_500 <= result["orders"] <= 3_500
    assert result["import_rows_per_s"]["csv"] > 0 and result["import_rows_per_s"]["xlsx"] > 0
    assert result["import_detail"]["csv"]["rows"] == 2000
    # Beside each rate, the engine's floor: bare DuckDB statements writing the same rows into a
    # fresh copy of the group (the CSV files read, typed and compared; the workbooks' rows typed
    # already), its checkpoint included; a miss names it.
    for kind in ("csv", "xlsx"):
        detail = result["import_detail"][kind]
        floor = detail["engine_floor"]
        assert 0.99 * detail["rows"] <= floor["rows"] <= detail["rows"], (kind, floor, detail["rows"])
        assert floor["rows_per_s"] > 0 and floor["phases_s"]["checkpoint"] >= 0
        assert floor["seconds"] >= sum(floor["phases_s"].values()) * 0.99
    assert set(result["import_detail"]["csv"]["engine_floor"]["phases_s"]) == {
        "decode", "parse_and_type", "compare", "insert", "vehicles", "commit", "checkpoint",
    }  # fmt: skip
    assert set(result["pages"]) == PAGES
    for timing in result["pages"].values():
        assert 0 < timing["warm_s"] and 0 < timing["cold_s"]
    # Views other than the defaults: two months whose views were computed
    # ahead (``build.earlier``: every month before the default one, ``months_ahead = "all"``), the
    # second a year and a half back: every page, first visit and next run.
    earlier = result["build"]["earlier"]
    assert not earlier["failed"] and "stopped" not in earlier
    assert earlier["months"] == sorted(earlier["months"], reverse=True) and len(earlier["months"]) >= 18
    named = list(result["views"])
    assert len(named) == 2 and named[0].startswith("month ") and named[1].endswith(" (18 months back)")
    assert {name.split(" ")[1] for name in named} <= set(earlier["months"])
    for pages in result["views"].values():
        assert set(pages) == PAGES
        assert all(0 < t["warm_s"] and 0 < t["cold_s"] for t in pages.values())
    # Every analytics function the pages called, timed through the app and as bare SQL.
    names = {name.split(" ")[0] for name in result["queries"]}
    assert {
        "overview.overview",
        "churn.snapshot",
        "themes.monthly_themes",
        "maintenance.snapshot",
    } <= names
    for entry in result["queries"].values():
        assert entry["app_s"] >= 0 and entry["compute_s"] > 0 and entry["statements"] >= 0
    assert result["queries"]["overview.overview"]["from_mart"] is True
    assert (
        0 < result["models"]["themes_100k"]["mine_assign_s"]
        and result["models"]["themes_100k"]["docs"] == 100_000
    )
    assert result["models"]["churn_vehicles_scored"] > 0
    assert result["peak_rss_mb"] > 100
    assert result["verdict"]["budgets"]["csv_rows_per_s"] == 200_000
    assert result["verdict"]["budgets"]["xlsx_rows_per_s"] == 30_000
    assert isinstance(result["verdict"]["met"], bool)
    # A second run reuses the database it built instead of building it again.
    again = subprocess.run(
        [sys.executable, "-m", "analytics", "bench", "--orders", "3000", "--db", str(database)]
        + ["--skip", "import", "--skip", "pages", "--skip", "models", "--skip", "browser", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["build"]["built"] is False


def test_bench_only_import_measures_both_rates_against_their_budgets(tmp_path):
    database = tmp_path / "bench.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "analytics", "bench", "--orders", "3000", "--csv-rows", "1500"]
        + ["--xlsx-rows", "300", "--db", str(database), "--only", "import", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert "marts" not in result["build"] and result["pages"] == {} and result["models"] == {}
    for kind, rows in (("csv", 1500), ("xlsx", 300)):
        detail = result["import_detail"][kind]
        assert 0.9 * rows <= detail["rows"] <= rows and len(detail["runs_s"]) == 3
        assert detail["seconds"] == min(detail["runs_s"])
        # The checkpoint the close would do is part of each run's time, and given on its own.
        assert all(0 <= c <= run for c, run in zip(detail["checkpoint_s"], detail["runs_s"], strict=True))
        assert detail["rows_per_s"] >= detail["median_rows_per_s"] > 0
        # The verdict names a rate below its budget, and only then.
        below = detail["rows_per_s"] < result["verdict"]["budgets"][f"{kind}_rows_per_s"]
        assert below == any(m.startswith(f"{kind.upper()} import") for m in result["verdict"]["misses"])
    assert result["import_detail"]["xlsx"]["tokenize_s"] >= 0


def test_bench_refresh_times_the_command_after_importing_the_last_month_again(tmp_path):
    database = tmp_path / "bench.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "analytics", "bench", "--orders", "3000", "--db", str(database)]
        + ["--only", "refresh", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "ANALYTICS_MODEL_DIR": str(tmp_path / "models")},
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    refresh = result["refresh"]
    # The last month's rows went out and came back in through the importer (it checks the counts).
    assert refresh["orders"] > 0 and refresh["callbacks"] > 0 and refresh["import_s"] > 0
    # After an import the SQL marts are refreshed for what it touched, not rebuilt.
    assert {m["mode"] for m in refresh["sql_marts"].values()} == {"incremental"}
    assert refresh["default_views_failed"] == {}
    parts = refresh["sql_marts_s"] + refresh["views_s"]
    assert abs(refresh["refresh_s"] - parts) < 0.2
    # The themes' tables are part of the views' step (the models are fitted beside them).
    assert 0 < refresh["prepare_s"] <= refresh["views_s"]
    assert set(refresh["prepare"]) == {"tokens", "assignments", "clauses"}
    # The month the pages opened on before the import is an earlier one now: until the pass after
    # the refit has computed it again, its churn list and maintenance scores are read as last
    # computed (the refresh set them aside, unless it carried them), not scored.
    meanwhile = refresh["earlier_meanwhile"]
    assert meanwhile["month"] < refresh["month"]
    for name in ("churn.snapshot", "maintenance.snapshot"):
        assert meanwhile[name]["read"] in {"kept", "as last computed"}, meanwhile
        assert meanwhile[name]["seconds"] >= 0
    # The models the new month calls for are fitted after the refresh, timed on their own.
    assert refresh["refit_s"] >= 0 and set(refresh["refit"]["fitted"]) <= {"churn", "maintenance", "themes"}
    assert not refresh["refit"].get("views_failed")
    # Then the earlier months' views under the new models, timed on their own.
    assert refresh["earlier_s"] >= 0 and not refresh["earlier"]["failed"]
    assert refresh["earlier"]["months"] and "stopped" not in refresh["earlier"]
    # A night's export of the day after the last one: the records up to the models' as-of date
    # are unchanged, so neither model is fitted again, and the refresh's parts add up.
    # The first night opens a month (the marts gain its month-end); the next is a day within it.
    first, second = refresh["nightly"], refresh["nightly_next"]
    assert dt.date.fromisoformat(second["day"]) == dt.date.fromisoformat(first["day"]) + dt.timedelta(days=1)
    for night in (first, second):
        assert night["orders"] > 0 and night["default_views_failed"] == {}
        assert night["models_fitted"] == {"maintenance": False, "churn": False}
        assert abs(night["refresh_s"] - night["sql_marts_s"] - night["views_s"]) < 0.2
        assert {m["mode"] for m in night["sql_marts"].values()} <= {"incremental", "current"}
    over = refresh["refresh_s"] > result["verdict"]["budgets"]["refresh_s"]
    assert over == any(m.startswith("refresh after") for m in result["verdict"]["misses"])
    # The bench's database itself is left as it was: the month was taken out of a copy.
    from analytics.store import db

    con = db.connect(database, read_only=True)
    try:
        month = con.execute("SELECT strftime(max(visit_date), '%Y-%m') FROM service_orders").fetchone()
    finally:
        con.close()
    assert month == (refresh["month"],)


def test_bench_never_deletes_a_database_it_did_not_build(tmp_path):
    from analytics.store import db

    database = tmp_path / "mine.duckdb"
    db.connect(database).close()
    proc = subprocess.run(
        [sys.executable, "-m", "analytics", "bench", "--db", str(database), "--rebuild", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 2
    assert "was not built by the bench" in proc.stderr and "Traceback" not in proc.stderr
    assert database.exists()
