"""Marts: results kept per data version, read back by any process, rebuilt after imports."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics.core.config import settings
from analytics.domain import churn, churn_model, counts, facts, kpi, maintenance, overview, quality, themes
from analytics.services import marts, views
from analytics.store import db
from tests.db_state import record_runs

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
PAGES = (
    "pages/overview.py",
    "pages/satisfaction.py",
    "pages/themes.py",
    "pages/churn.py",
    "pages/maintenance.py",
)


@pytest.fixture
def copy(demo_db, tmp_path, monkeypatch):
    path = tmp_path / "marts.duckdb"
    shutil.copy(demo_db, path)
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    return path


def test_a_kept_result_is_read_back_until_the_data_change(copy, monkeypatch):
    con = db.connect(copy)
    month = facts.available_months(con)[1]
    call = marts.call_of(overview.overview, month, None)
    first = marts.cached(con, call, keep=True)
    version = db.data_version(con)
    assert marts.fetch(con, call, version)[0]

    def must_not_run(self, con):
        raise AssertionError(f"{self.fn} computed again")

    monkeypatch.setattr(marts.Call, "run", must_not_run)
    again = marts.cached(con, call)
    assert again.kpis == first.kpis and again.series.equals(first.series)
    # A new data version (an import) is a miss: the old result is never served.
    db.bump_data_version(con)
    monkeypatch.undo()
    assert not marts.fetch(con, call, db.data_version(con))[0]
    assert marts.cached(con, call, keep=True).kpis == first.kpis
    con.close()


def test_a_read_only_database_without_the_table_still_answers(tmp_path):
    # A database from before the marts existed, opened read-only, cannot be migrated.
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    for version in (1, 2):
        for statement in db.MIGRATIONS[version]:
            con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', '2'), ('data_version', '0')")
    con.close()
    con = db.connect(path, read_only=True)
    assert marts.cached(con, marts.call_of(facts.available_months), keep=True) == []
    con.close()


@pytest.mark.parametrize("schema", [7, db.MARTS_SCHEMA - 1])
def test_a_read_only_database_with_an_older_marts_table_computes_instead_of_reading_it(tmp_path, schema):
    # Before migration 8 the table had no checksums; before MARTS_SCHEMA it lacked a column this
    # program reads. Opened read-only it stays so: lookups compute, none fails on a missing column.
    path = tmp_path / "older.duckdb"
    con = duckdb.connect(str(path))
    for version in range(1, schema + 1):
        for statement in db.MIGRATIONS[version]:
            con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', $v), ('data_version', '0')", {"v": str(schema)})
    con.close()
    con = db.connect(path, read_only=True)
    assert not marts.has_marts(con)
    call = marts.call_of(facts.available_months)
    assert marts.cached(con, call, keep=True) == []
    assert not marts.is_kept(con, call, 0)
    con.close()
    con = db.connect(path)  # migrated to the current schema: the table is read again
    assert marts.has_marts(con)
    con.close()


def test_the_key_carries_the_code_and_settings_fingerprint():
    call = marts.call_of(overview.overview, "2026-10", None)
    assert call.key.startswith(marts.context(call.fn) + "|")
    assert call.key != marts.call_of(overview.overview, "2026-10", ["杭州西湖店"]).key


def test_the_key_follows_the_settings_of_the_moment_not_those_it_was_first_made_with(monkeypatch):
    """A key made while a setting differed (a test's setting, for a moment) was held for the
    process's life: results kept afterwards carried a key the next program did not make, and its
    import dropped them as made by other settings (seen in CI: the churn model refitted by a refresh)."""
    fn = marts.call_of(churn_model.group_model).fn
    with monkeypatch.context() as patch:
        patch.setattr(settings().maintenance, "training_cutoffs", settings().maintenance.training_cutoffs + 1)
        during = marts.context(fn)
    now = marts.context(fn)
    assert during != now
    fresh = subprocess.run(
        [sys.executable, "-c", f"from analytics.services import marts; print(marts.context({fn!r}))"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert fresh.stdout.strip() == now


def test_a_result_is_discarded_only_by_a_change_to_what_it_reads():
    # Issue 20: editing the themes lexicon (or the deck, or the importer) keeps the churn list,
    # the overview and the maintenance scores; it refreshes the themes.
    root = Path(marts.__file__).resolve().parents[2]

    def files(fn) -> set[str]:
        return {str(p.relative_to(root)) for p in marts.inputs(marts.call_of(fn).fn)}

    churn_inputs, theme_inputs = files(churn.snapshot), files(themes.monthly_themes)
    assert {
        "analytics/domain/churn.py",
        "analytics/domain/churn_model.py",
        "analytics/domain/kpi.py",
    } <= churn_inputs
    assert {"data/schedule.toml", "data/i18n.toml", "analytics/store/sql/churn_features.sql"} <= churn_inputs
    assert not {p for p in churn_inputs if "themes" in p or "ingest" in p or "reports" in p}
    assert {
        "data/themes/aspects.toml",
        "data/themes/sentiment.toml",
        "analytics/domain/themes/polarity.py",
    } <= theme_inputs
    assert "analytics/domain/churn.py" not in theme_inputs
    for fn in (overview.overview, maintenance.snapshot, quality.summary, facts.stores):
        assert not {
            p for p in files(fn) if p.startswith(("data/themes", "analytics/reports", "analytics/ingest"))
        }
    # Every project module a result's module imports is in its inputs, the layer below included.


def test_the_import_scan_finds_what_a_full_parse_finds_in_every_module_and_in_awkward_source():
    # The fingerprints read each module's imports without parsing the whole package (0.5-0.7 s
    # in every fresh process before its first page); they must be the imports a full parse finds.
    for name, path in marts.package_modules().items():
        source = path.read_bytes()
        full = marts.module_imports(name, path, ast.walk(ast.parse(source)))
        assert marts.module_imports(name, path, marts.import_statements(source)) == full, name
    awkward = (
        b'"""A docstring.\n\nfrom the table import the rows, says the prose.\nimport them all.\n"""\n'
        b"from __future__ import annotations\n"
        b"import os, analytics.core.months as months\n"
        b"from typing import TYPE_CHECKING\n"
        b"from analytics.domain import (\n    churn,  # the list\n    kpi,\n)\n"
        b"from analytics.store.db import connect, \\\n    data_version\n"
        b"from . import sibling\nfrom .. import cousin\nfrom ..core import stats\n"
        b"if TYPE_CHECKING:\n    from analytics.services import reads\n"
        b"try:\n    import analytics.reports.deck\nexcept ImportError:\n    pass\n"
        b"x = 'import not_this'\n"
        b"def f():\n    return 1\n"
    )
    path = Path("analytics/domain/example.py")
    name = "analytics.domain.example"
    expected = marts.module_imports(name, path, ast.walk(ast.parse(awkward)))
    assert marts.module_imports(name, path, marts.import_statements(awkward)) == expected
    assert {"analytics.domain.churn", "analytics.store.db.data_version", "analytics.core.stats"} <= expected
    assert {"analytics.services.reads", "analytics.reports.deck", "analytics.core.months"} <= expected


def test_fitted_models_and_month_counts_are_kept_when_a_text_is_edited():
    # Issue 20: editing a translation (data/i18n.toml), the KPI labels or the churn list's wording
    # used to discard the churn model (72 s to fit again at a million work orders) and every
    # month's counts. The kept intermediate results are numbers and models: their inputs hold no
    # text catalogue and no module that writes text; the page results that show text still do.
    root = Path(marts.__file__).resolve().parents[2]

    def files(fn) -> set[str]:
        return {str(p.relative_to(root)) for p in marts.inputs(marts.call_of(fn).fn)}

    text = {
        "data/i18n.toml",
        "analytics/core/i18n.py",
        "analytics/core/formatting.py",
        "analytics/domain/kpi.py",
    }
    for fn in (
        churn_model.group_model,
        counts.month_counts,
        themes.monthly.fit_model,
        themes.monthly.fit_window,
    ):
        assert not files(fn) & text, fn.__qualname__
    assert "analytics/domain/churn.py" not in files(churn_model.group_model)
    assert {"analytics/domain/churn_model.py", "analytics/store/sql/churn_features.sql"} <= files(
        churn_model.group_model
    )
    assert "data/i18n.toml" in files(churn.snapshot)
    assert "data/i18n.toml" in files(overview.overview)
    assert "analytics/store/queries.py" in files(overview.overview)


def test_after_a_rebuild_every_page_opens_without_computing_anything_expensive(copy, tmp_path, monkeypatch):
    con = db.connect(copy)
    outcome = views.rebuild(con)
    assert outcome["calls"] == len(views.page_calls("2026-10", ["2026-10"], None)) + len(views.global_calls())
    assert not outcome["failed"]
    # The maintenance page reads its kept snapshot (scores and model card): a model file that went
    # missing is not needed by the page at all.
    for model in (tmp_path / "models").glob("*.model"):
        model.unlink()
    con.close()

    expensive = {call.fn for call in views.page_calls("2026-10", ["2026-10"], None)}
    expensive |= {call.fn for call in views.global_calls()}
    computed = record_runs(monkeypatch)
    monkeypatch.setattr(
        maintenance, "fit", lambda *a, **k: pytest.fail("the maintenance page trained a model")
    )
    st.cache_data.clear()
    st.cache_resource.clear()
    for page in PAGES:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.switch_page(page)
        at.run()
        assert not at.exception, [e.message for e in at.exception]
    # The praise-board and drill-down reuse the month's fitted themes, kept by the rebuild.
    assert sorted(set(computed) & expensive) == []
    assert "analytics.domain.themes.fit_window" not in computed


def test_a_rebuild_drops_results_that_older_code_kept_for_the_same_data_version(copy):
    # A program updated without an import: its rebuild finds the earlier build's results under
    # the current data version, which no lookup will ever match again (their key's fingerprint is
    # the old code's). They go, rows and files; the current code's stay.
    con = db.connect(copy)
    version = db.data_version(con)
    current = marts.call_of(facts.stores)
    assert marts.store(con, current, version, ["A店"], 1.0)
    old = marts.Call(current.fn, ("old",))
    assert marts.store(con, old, version, ["B店"], 1.0)
    old_key = "0123456789abcdef|" + old.key.partition("|")[2]
    con.execute("UPDATE marts SET args = $old WHERE args = $key", {"old": old_key, "key": old.key})
    where = marts.folder(con)
    old_file = con.execute("SELECT file FROM marts WHERE args = $a", {"a": old_key}).fetchone()[0]
    assert (where / old_file).exists()

    marts.rebuild(con, calls=[])
    rows = con.execute("SELECT args FROM marts WHERE name = $n", {"n": current.fn}).fetchall()
    assert rows == [(current.key,)]
    assert not (where / old_file).exists()
    assert marts.fetch(con, current, version) == (True, ["A店"])
    con.close()


def test_import_from_the_command_line_prepares_the_marts(copy, tmp_path):
    data = ROOT / "tests" / "data" / "service_orders_gbk.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "analytics", "import", str(data), "--db", str(copy)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "ANALYTICS_MODEL_DIR": str(tmp_path / "models")},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "dashboard results prepared" in proc.stdout
    con = db.connect(copy, read_only=True)
    version = db.data_version(con)
    kept = con.execute("SELECT count(*), min(data_version), max(data_version) FROM marts").fetchone()
    expected = len(views.default_calls(con))
    con.close()
    assert kept is not None and kept[0] >= expected and kept[1:] == (version, version)


def test_payloads_are_files_beside_the_database_and_a_lost_file_is_computed_again(copy):
    con = db.connect(copy)
    call = marts.call_of(facts.available_months)
    months = marts.cached(con, call, keep=True)
    version = db.data_version(con)
    payload, name = con.execute(
        "SELECT payload, file FROM marts WHERE name = $n AND data_version = $v", {"n": call.fn, "v": version}
    ).fetchone()
    assert payload is None and (copy.parent / f"{copy.name}.marts" / name).is_file()
    (copy.parent / f"{copy.name}.marts" / name).unlink()
    assert marts.fetch(con, call, version) == (False, None)
    assert marts.cached(con, call, keep=True) == months
    # A new data version drops the old version's rows and files.
    db.bump_data_version(con)
    marts.rebuild(con, calls=[])
    assert con.execute("SELECT count(*) FROM marts").fetchone() == (0,)
    assert list((copy.parent / f"{copy.name}.marts").iterdir()) == []
    con.close()


def test_each_months_counts_are_kept_so_another_focus_month_queries_only_its_new_months(copy, monkeypatch):
    con = db.connect(copy)
    con.execute(
        "DELETE FROM marts WHERE name = 'analytics.domain.counts.month_counts'"
    )  # kept by the demo's build
    october = kpi.counts_by_month(con, kpi.overview_months("2026-10"))
    assert con.execute(
        "SELECT count(*) FROM marts WHERE name = 'analytics.domain.counts.month_counts'"
    ).fetchone() == (13,)
    asked: list[list[date]] = []
    original = counts.monthly_counts

    def recording(con, months, stores=None):
        asked.append(list(months))
        return original(con, months, stores)

    monkeypatch.setattr(counts, "monthly_counts", recording)
    september = kpi.counts_by_month(con, kpi.overview_months("2026-09"))
    assert asked == [[date(2025, 9, 1)]]
    with marts.bypassed():
        fresh = kpi.counts_by_month(con, kpi.overview_months("2026-09"))
    assert september == fresh
    assert all(september[m] == october[m] for m in september if m in october)
    # A store choice is its own set of rows; a new data version queries everything again.
    kpi.counts_by_month(con, [date(2026, 10, 1)], ["杭州西湖店"])
    assert asked[-1] == [date(2026, 10, 1)]
    db.bump_data_version(con)
    kpi.counts_by_month(con, kpi.overview_months("2026-09"))
    assert len(asked[-1]) == 13
    con.close()


def test_one_stores_view_after_a_rebuild_scores_with_the_groups_models(tmp_path, monkeypatch):
    """The rebuild computes the all-stores views (and each store's maintenance scores); a store's
    churn and maintenance pages then score with the models it fitted for the group, and train
    nothing on their first open."""
    from analytics.devtools import demo

    path = tmp_path / "two_stores.duckdb"
    demo.build_demo(path, demo.DemoConfig(stores=2, scale=0.05), files_dir=tmp_path / "files")
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    con = db.connect(path)
    stores = facts.stores(con)
    assert len(stores) == 2
    calls = views.default_calls(con)
    # Only the maintenance scores are kept per store; every other call is the all-stores one.
    named = [call for call in calls if any(isinstance(a, tuple) and set(a) & set(stores) for a in call.args)]
    assert sorted(call.fn for call in named) == ["analytics.domain.maintenance.persistence.snapshot"] * 2
    from analytics.domain.maintenance import persistence

    scored: list[object] = []
    original_score = persistence.score

    def counted(*args, **kwargs):
        scored.append(kwargs.get("stores"))
        return original_score(*args, **kwargs)

    monkeypatch.setattr(persistence, "score", counted)
    # Each store's scores are sliced on the lane that computes the group's, right after them.
    lane = views.ahead_calls(calls, con)
    assert lane[0].args[1] is None and sorted(call.args[1] for call in lane[1:3]) == sorted(
        (s,) for s in stores
    )
    outcome = views.rebuild(con)
    assert not outcome["failed"], outcome["failed"]
    # The group was scored once; each store's scores are its rows, handed on by the rebuild.
    assert scored == [None]
    monkeypatch.setattr(persistence, "score", original_score)
    # Each store's kept maintenance scores (the group's snapshot filtered) are what scoring that
    # store afresh gives.
    for call in named:
        kept = marts.cached(con, call)
        with marts.bypassed():
            fresh = call.run(con)
        assert len(kept.scores) > 0
        pd.testing.assert_frame_equal(kept.scores, fresh.scores)
        assert kept.note == fresh.note and kept.as_of == fresh.as_of
        for field in ("as_of", "data_version", "trained_at", "rows", "cutoffs"):
            assert getattr(kept.model, field) == getattr(fresh.model, field), field
    con.close()

    from analytics.domain import churn_model

    monkeypatch.setattr(
        churn_model, "fit", lambda *a, **k: pytest.fail("a store's churn page trained a model")
    )
    monkeypatch.setattr(
        maintenance, "fit", lambda *a, **k: pytest.fail("a store's maintenance page trained a model")
    )
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.switch_page("pages/churn.py")
    at.run()
    at.sidebar.multiselect(key="_w_stores").set_value([stores[1]]).run()
    assert not at.exception, [e.message for e in at.exception]
    for page in ("pages/churn.py", "pages/maintenance.py"):
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert at.sidebar.multiselect(key="_w_stores").value == [stores[1]], page
        # The page shows that store's list, not an empty one.
        assert any(len(frame.value) > 0 for frame in at.dataframe), page


def test_a_pages_calls_share_one_read_of_a_kept_intermediate_result(copy, monkeypatch):
    """The themes' fitted window of a month is asked for by several of the page's calls: the
    process reads its kept payload once and hands the same value to the others (it was read
    back for each, 0.4-0.7 s apiece at a million orders)."""
    from analytics.domain.themes import monthly

    con = db.connect(copy)
    month = facts.available_months(con)[2]
    args = (month, "praise", None, monthly.MONTHS_BACK, 8, 0)
    with marts.bypassed():
        fresh = monthly._window(con, *args)
    # First ask: computed and kept (a page's first call of this month).
    first = monthly._window(con, *args)
    reads: list[int] = []
    decode = marts._deserialise
    monkeypatch.setattr(marts, "_deserialise", lambda data: reads.append(len(data)) or decode(data))
    marts.forget_held()  # a fresh process: nothing held yet
    again = [monthly._window(con, *args) for _ in range(3)]
    assert len(reads) == 1, reads
    assert again[0] is again[1] is again[2]
    for window in (first, again[0]):
        assert window.frame.equals(fresh.frame) and window.months == fresh.months
    # A new data version is a new payload: read afresh, never answered from the old one.
    db.bump_data_version(con)
    with marts.bypassed():
        assert monthly._window(con, *args) is not again[0]
    newer = monthly._window(con, *args)
    assert newer is not again[0] and newer.frame.equals(fresh.frame)
    con.close()


def _count_calls(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[tuple]:
    """Replace ``module.name`` by a wrapper (same module and name, so a call keeps its key) that
    records each call's arguments after the connection; return the record."""
    import functools

    calls: list[tuple] = []
    original = getattr(module, name)

    @functools.wraps(original)
    def counting(*args, **kwargs):
        calls.append(args[1:])
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_a_read_only_handle_holds_what_it_computed_for_the_pages_other_calls(copy, monkeypatch):
    """The dashboard reads on read-only handles, which keep nothing: another month's themes page
    computed the month's fitted window once for each of its five calls (0.5 s apiece at a million
    orders). The process holds it for the others, keyed by the file's identity and data version."""
    from analytics.domain.themes import monthly

    computed = _count_calls(monkeypatch, monthly, "fit_window")
    marts.forget_held()
    con = db.connect(copy, read_only=True)
    month = facts.available_months(con)[3]
    args = (month, "praise", None, monthly.MONTHS_BACK, 8, 0)
    windows = [monthly._window(con, *args) for _ in range(3)]
    assert len(computed) == 1 and windows[0] is windows[1] is windows[2]
    assert con.execute("SELECT count(*) FROM marts WHERE name LIKE '%fit_window'").fetchone() == (0,)
    # Another store choice is another result.
    monthly._window(con, month, "praise", ("杭州西湖店",), monthly.MONTHS_BACK, 8, 0)
    assert len(computed) == 2
    # A file written since (or put in its place) is not answered from what was held.
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    again = monthly._window(con, *args)
    assert len(computed) == 3 and again is not windows[0] and again.frame.equals(windows[0].frame)
    con.close()


def test_held_results_serve_a_pages_calls_until_the_file_is_written(copy, monkeypatch):
    """``memo.held``: the month's stored clause readings, asked for by both sides of the themes
    page, are read once; a write to the database (the readings are rewritten without a new data
    version) makes the next ask read them again; nothing goes into the marts."""
    from analytics.domain.themes import monthly

    reads_done = _count_calls(monkeypatch, monthly, "stored_readings")
    marts.forget_held()
    con = db.connect(copy)
    views.prepare(con)
    month = facts.available_months(con)[2]
    first = monthly.known_readings(con, month, None)
    assert first and monthly.known_readings(con, month, None) is first
    assert len(reads_done) == 1
    with db.write_transaction(con) as cur:
        cur.execute(
            "UPDATE comment_clauses SET praise = praise || '（改）' "
            "WHERE comment IN (SELECT comment FROM comment_clauses ORDER BY comment LIMIT 1)"
        )
    again = monthly.known_readings(con, month, None)
    assert len(reads_done) == 2 and again is not first and again.keys() == first.keys()
    assert con.execute("SELECT count(*) FROM marts WHERE name LIKE '%stored_readings'").fetchone() == (0,)
    con.close()


def test_a_rebuild_holds_the_records_digest_through_its_own_writes_but_not_what_it_rewrites(
    copy, monkeypatch
):
    """``memo.of_records``: during a rebuild, the records' digest (``model_inputs.digest``, asked
    by every scored view) is worked out once per day, though each view the rebuild keeps writes
    the file; the clause readings the rebuild rewrites without a new data version are read again
    after a write, and outside a rebuild a write makes the digest be worked out again too."""
    from analytics.domain import model_inputs
    from analytics.domain.themes import monthly
    from analytics.services import sql_marts

    digests = _count_calls(monkeypatch, model_inputs, "_fingerprint")
    readings = _count_calls(monkeypatch, monthly, "stored_readings")
    marts.forget_held()
    con = db.connect(copy)
    sql_marts.refresh(con)  # the digest reads the callbacks as the current mart resolves them
    views.prepare(con)
    month = facts.available_months(con)[2]
    day = date(int(month[:4]), int(month[5:7]), 28)

    def write(cur: duckdb.DuckDBPyConnection) -> None:
        with db.write_transaction(cur) as w:
            w.execute(
                "UPDATE comment_clauses SET praise = praise || '（改）' "
                "WHERE comment IN (SELECT comment FROM comment_clauses ORDER BY comment LIMIT 1)"
            )

    other = day - timedelta(days=31)
    seen: list[tuple[str, str]] = []

    def during(cur: duckdb.DuckDBPyConnection) -> None:
        for _ in range(3):
            seen.append((model_inputs.digest(cur, day), model_inputs.digest(cur, other)))
            monthly.known_readings(cur, month, None)
            write(cur)

    def worked_out(when: date) -> int:
        return sum(1 for (d,) in digests if d == when)

    marts.rebuild(con, [], prepare=during)
    assert len(set(seen)) == 1 and worked_out(day) == worked_out(other) == 1
    assert len(readings) == 3  # read again after each write
    # Outside a rebuild, the file's identity keys it: held until a write, then worked out again.
    assert model_inputs.digest(con, day) == model_inputs.digest(con, day) == seen[0][0]
    assert worked_out(day) == 2
    write(con)
    assert model_inputs.digest(con, day) == seen[0][0] and worked_out(day) == 3
    # A second rebuild does not reuse the first one's.
    marts.rebuild(con, [], prepare=lambda cur: model_inputs.digest(cur, day))
    assert worked_out(day) == 4
    con.close()


def test_the_maintenance_model_is_fitted_beside_the_other_views_once_and_as_alone(copy, monkeypatch):
    """Issue 20's refresh: the maintenance snapshot of every store (its model fit, the longest
    step) runs on a thread of its own while the rebuild's thread runs ``prepare`` and the other
    calls (the churn model among them); each model is fitted once, the stores' maintenance scores
    are handed the group's, and what was kept is what each call computes alone."""
    import functools
    import threading

    from analytics.domain.maintenance import persistence

    con = db.connect(copy)
    db.bump_data_version(con)  # nothing kept for this version: everything is computed
    ran: list[tuple[str, str]] = []
    original_churn, original_fit = churn_model.fit, persistence.fit

    def churn_fit(*args, **kwargs):
        ran.append(("churn", threading.current_thread().name))
        return original_churn(*args, **kwargs)

    def maintenance_fit(*args, **kwargs):
        ran.append(("maintenance", threading.current_thread().name))
        return original_fit(*args, **kwargs)

    monkeypatch.setattr(churn_model, "fit", churn_fit)
    monkeypatch.setattr(persistence, "fit", maintenance_fit)
    calls = views.default_calls(con)
    ahead = views.ahead_calls(calls, con)
    # The group's maintenance scores (and each store's, sliced there: one store here); the churn
    # list is not on the lane, since its model is to be fitted (beside the maintenance model, here).
    assert [call.fn for call in ahead] == ["analytics.domain.maintenance.persistence.snapshot"]
    assert ahead[0].args[1] is None  # every store's
    outcome = views.rebuild_views(con)
    assert not outcome["failed"], outcome["failed"]
    assert outcome["prepared"] is not None and outcome["prepare_s"] > 0
    assert outcome["calls"] == len(calls) and len(outcome["each"]) == len(calls)
    # Each model fitted once: the maintenance model on the lane, the churn model on this thread.
    assert sorted(ran) == [("churn", threading.current_thread().name), ("maintenance", "marts-ahead")], ran
    monkeypatch.undo()
    # What was kept is what computing each call alone gives.
    for call in calls:
        if call.fn not in (
            "analytics.domain.churn.snapshot",
            "analytics.domain.maintenance.persistence.snapshot",
            "analytics.domain.quality.summary",
            "analytics.domain.quality.finding",
        ):
            continue
        kept = marts.cached(con, call)
        with marts.bypassed():
            fresh = call.run(con)
        if call.fn.endswith("quality.summary"):
            assert kept == fresh
        elif call.fn.endswith("quality.finding"):
            pd.testing.assert_frame_equal(kept, fresh)
        elif call.fn.endswith("churn.snapshot"):
            pd.testing.assert_frame_equal(kept.vehicles, fresh.vehicles)
        else:
            pd.testing.assert_frame_equal(kept.scores, fresh.scores)
    # Another data version (an import of later days): the churn model is kept, so the churn list
    # is scored on the lane too, after the maintenance scores; nothing is fitted again.
    db.bump_data_version(con)
    listed: list[str] = []
    original_snapshot = churn.snapshot

    @functools.wraps(original_snapshot)
    def churn_snapshot(*args, **kwargs):
        listed.append(threading.current_thread().name)
        return original_snapshot(*args, **kwargs)

    monkeypatch.setattr(churn_model, "fit", churn_fit)
    monkeypatch.setattr(persistence, "fit", maintenance_fit)
    monkeypatch.setattr(churn, "snapshot", churn_snapshot)
    ran.clear()
    again = views.rebuild_views(con)
    assert not again["failed"], again["failed"]
    assert ran == [] and listed == ["marts-ahead"], (ran, listed)
    monkeypatch.undo()
    for call in calls:
        if call.fn.endswith("churn.snapshot"):
            with marts.bypassed():
                pd.testing.assert_frame_equal(marts.cached(con, call).vehicles, call.run(con).vehicles)
    con.close()
