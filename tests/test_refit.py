"""The refresh after an import of a new month does not fit the models (issue 20's 60 s refresh).

An import that completes a month moves the month the pages open on, and with it the day the churn
and maintenance models are wanted at. Fitting them took two minutes of the 148 s refresh at a
million work orders, so the refresh now scores the new month with the models fitted at the month
before (the newest kept), and ``views.refit`` fits the new ones afterwards, the
file given back to the dashboard's readers while it fits. These tests take the demo's last two
months out, rebuild (the models fitted at the month before), import them again, and check each
half: the refresh fits nothing and says which models score; the refit fits exactly the models a
fresh fit gives, and the views then score with them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.core import memo
from analytics.core.months import month_ends
from analytics.devtools import bench_refresh
from analytics.domain import churn, churn_model, facts, themes
from analytics.domain.maintenance import persistence
from analytics.domain.themes import monthly
from analytics.ingest import load
from analytics.services import marts, reads, views
from analytics.store import db
from tests.db_state import record_runs, run_cli
from ui import data, resources

BEFORE = date(2026, 9, 30)  # the month the pages open on before the import
AFTER = date(2026, 10, 31)  # ... and after it
FITTED = ["churn", "maintenance", "themes"]
APP = Path(__file__).resolve().parents[1] / "app.py"


@pytest.fixture
def month_files(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[Path]]:
    """A demo copy without its work orders from 2026-10-01 on (and their callbacks), rebuilt as a
    store has it before importing them; return its path and the two files that bring them back."""
    path = tmp_path / "refit.duckdb"
    shutil.copy(demo_db, path)
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    con = db.connect(path)
    try:
        files, _, _ = bench_refresh._take_out_month(con, date(2026, 10, 1), tmp_path / "files")
        views.rebuild(con)
        assert facts.model_as_of(con, BEFORE) == BEFORE
        assert churn.model_kept(con, BEFORE) and persistence.is_saved(con, BEFORE)
    finally:
        con.close()
    return path, files


def _import(con, files: list[Path]) -> None:
    for path, kind in zip(files, ("service", "callback"), strict=True):
        for _, result in load.import_files(con, [path], kind=kind, who="test"):
            assert not isinstance(result, Exception), result
            assert result.inserted


def _import_and_refresh(path: Path, files: list[Path]) -> None:
    """Import the month's files and refresh as the import command does before its refit."""
    con = db.connect(path)
    try:
        _import(con, files)
        views.rebuild(con)
    finally:
        con.close()


def _model_files(tmp_path: Path) -> set[Path]:
    return set((tmp_path / "models").glob("*.model"))


def test_the_refresh_after_a_new_month_scores_with_the_models_of_the_month_before(month_files, tmp_path):
    path, files = month_files
    con = db.connect(path)
    try:
        _import(con, files)
        saved = _model_files(tmp_path)
        views.rebuild(con)
        assert facts.model_as_of(con, AFTER) == AFTER  # the pages now open on the new month
        # Nothing was fitted at the new month: no churn model kept, no maintenance model saved.
        assert not churn.model_kept(con, AFTER)
        assert not persistence.is_saved(con, AFTER)
        assert _model_files(tmp_path) == saved
        # The new month's views are there, scored by the models of the month before, and say so.
        shot = reads.read(con, "churn.snapshot", as_of=AFTER)
        upkeep = reads.read(con, "maintenance.snapshot", as_of=AFTER)
        assert shot.as_of == AFTER and shot.model is not None and shot.model.as_of == BEFORE
        assert upkeep.model is not None and upkeep.model.as_of == BEFORE and len(upkeep.scores)
        assert churn.scoring_model(con, AFTER)[0] == BEFORE
        assert persistence.scoring_model(con, AFTER)[0] == BEFORE
        # The themes too: the new month's comments are assigned to the theme models of the month
        # before (none fitted at the new month), and the themes page says which month's they are.
        assert themes.model_month(con, "2026-10") == "2026-09"
        assert not any(
            memo.stored(con, themes.fit_model, "2026-10", side, themes.MONTHS_BACK, 8, 0, _inputs(con))
            for side in themes.SIDES
        )
        key = themes.scoring_models(con, "2026-10")
        assert monthly.assignments_current(con, key, themes.MONTHS_BACK, 8, 0)
        for side in themes.SIDES:
            view = reads.read(con, "themes.monthly", month="2026-10", side=side)
            assert view["model_month"] == "2026-09" and view["n_comments"] > 0 and view["themes"]
        assigned = con.execute(
            "SELECT count(*) FROM theme_assignments WHERE callback_date >= DATE '2026-10-01'"
        ).fetchone()[0]
        assert assigned > 0
    finally:
        con.close()


def _inputs(con):
    return monthly._inputs(con, "2026-10")


def test_the_refit_fits_the_new_models_as_a_fresh_fit_would_and_the_views_score_with_them(
    month_files, tmp_path, monkeypatch
):
    path, files = month_files
    con = db.connect(path)
    try:
        _import(con, files)
        views.rebuild(con)
        stamp = db.models_stamp(con)
    finally:
        con.close()

    done = views.refit(db.Handles(path, keep_open=0))
    assert done["as_of"] == AFTER.isoformat()
    assert done["fitted"] == FITTED, done
    assert "discarded" not in done and not done.get("views_failed")

    con = db.connect(path)
    try:
        assert churn.model_kept(con, AFTER) and persistence.is_saved(con, AFTER)
        assert churn.scoring_model(con, AFTER)[0] == AFTER == persistence.scoring_model(con, AFTER)[0]
        assert db.models_stamp(con) != stamp  # the dashboard's cache of the old scores is not read again
        shot = reads.read(con, "churn.snapshot", as_of=AFTER)
        upkeep = reads.read(con, "maintenance.snapshot", as_of=AFTER)
        assert shot.model is not None and shot.model.as_of == AFTER
        assert upkeep.model is not None and upkeep.model.as_of == AFTER
        # The kept churn model is the one a fit from scratch gives: the same list, the same scores.
        with marts.bypassed():
            fresh = churn.snapshot(con, AFTER)
        pd.testing.assert_frame_equal(shot.vehicles, fresh.vehicles)
        model, _ = churn_model.group_model(con, AFTER)
        assert model is not None
        # The themes: named by the new month's models, every comment assigned to them, and each
        # view what assigning its window afresh under models fitted from scratch gives.
        assert themes.model_month(con, "2026-10") == "2026-10"
        key = themes.scoring_models(con, "2026-10")
        assert key == ("2026-10", _inputs(con))
        assert monthly.assignments_current(con, key, themes.MONTHS_BACK, 8, 0)
        for side in themes.SIDES:
            kept = reads.read(con, "themes.monthly", month="2026-10", side=side)
            earlier = reads.read(con, "themes.monthly", month="2026-07", side=side)
            assert kept["model_month"] == earlier["model_month"] == "2026-10"
            with marts.bypassed(), monkeypatch.context() as patch:
                patch.setattr(monthly, "assignments_current", lambda *a: False)
                assert themes.monthly_themes(con, "2026-10", side, None) == kept
                assert themes.monthly_themes(con, "2026-07", side, None) == earlier
    finally:
        con.close()

    # Nothing is left to fit: a second refit does nothing and writes nothing.
    again = views.refit(db.Handles(path, keep_open=0))
    assert again["fitted"] == [] and "views_s" not in again


def test_a_fit_whose_records_an_import_changed_meanwhile_is_not_kept(month_files, monkeypatch):
    path, files = month_files
    _import_and_refresh(path, files)
    fit_side_by_side = views._fit_side_by_side

    def fit_then_correct(handles, wanted, inputs, todo):
        fitted = fit_side_by_side(handles, wanted, inputs, ["churn"])
        # A correction to a work order of the month arrives while the model is being fitted.
        with handles.writing() as cur, db.write_transaction(cur) as tx:
            tx.execute(
                "UPDATE service_orders SET amount = amount + 1 WHERE order_id = "
                "(SELECT min(order_id) FROM service_orders WHERE visit_date > $d)",
                {"d": BEFORE},
            )
            db.bump_data_version(tx)
        return fitted

    monkeypatch.setattr(views, "_fit_side_by_side", fit_then_correct)
    done = views.refit(db.Handles(path, keep_open=0))
    assert done["fitted"] == [] and "discarded" in done
    con = db.connect(path)
    try:
        assert not churn.model_kept(con, AFTER)
    finally:
        con.close()


def test_the_import_command_refreshes_then_fits_the_new_models(month_files):
    path, files = month_files
    done = run_cli("import", *map(str, files), "--db", str(path), timeout=900)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    prepared = next(i for i, line in enumerate(lines) if line.startswith("dashboard results prepared"))
    fitted = next(i for i, line in enumerate(lines) if line.startswith("models fitted at 2026-10-31"))
    assert prepared < fitted, lines
    # Seen in CI: churn missing from this line when an earlier test in the same worker had made
    # the model's key under another setting (``marts.context`` held it for the process's life),
    # so the command dropped the model kept before and its refresh fitted the new one.
    assert "churn, maintenance, themes" in lines[fitted], "\n".join([*lines, "--- stderr", done.stderr])
    con = db.connect(path, read_only=True)
    try:
        assert churn.model_kept(con, AFTER) and persistence.is_saved(con, AFTER)
    finally:
        con.close()


def test_the_dashboard_shows_the_new_models_scores_once_the_refit_has_kept_them(month_files):
    """The pages' caches are keyed by the data version, which a refit keeps: they are keyed by
    ``meta.models_fitted`` too, or a server would show the old model's list until the next import."""
    path, files = month_files
    _import_and_refresh(path, files)
    data.handles(str(path)).close()
    resources.forget_fitted()
    data._cached_call.clear()
    before = resources.fitted("churn.snapshot", as_of=AFTER, stores=None)
    upkeep = resources.fitted("maintenance.snapshot", as_of=AFTER, stores=None)
    assert before.model.as_of == BEFORE and upkeep.model.as_of == BEFORE
    assert data.load("themes.monthly", month="2026-10", side="praise")["model_month"] == "2026-09"
    data.handles(str(path)).close()  # the server gives the file back between reads

    assert views.refit(db.Handles(path, keep_open=0))["fitted"] == FITTED

    after = resources.fitted("churn.snapshot", as_of=AFTER, stores=None)
    upkeep = resources.fitted("maintenance.snapshot", as_of=AFTER, stores=None)
    assert after.model.as_of == AFTER and upkeep.model.as_of == AFTER
    assert data.load("themes.monthly", month="2026-10", side="praise")["model_month"] == "2026-10"
    data.handles(str(path)).close()


def test_other_programs_read_the_database_while_the_models_are_fitted(month_files, monkeypatch):
    """The refit fits on read-only cursors: while it fits, another program (the dashboard's
    server) opens the file read-only and reads the new month, instead of waiting for the fit."""
    path, files = month_files
    _import_and_refresh(path, files)
    fit = views.maintenance_model.fit
    seen: list[subprocess.CompletedProcess[str]] = []

    def fit_while_read(con, as_of, *args, **kwargs):
        seen.append(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
                    "print(con.execute('SELECT max(visit_date) FROM service_orders').fetchone()[0])",
                    str(path),
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
        )
        return fit(con, as_of, *args, **kwargs)

    monkeypatch.setattr(views.maintenance_model, "fit", fit_while_read)
    done = views.refit(db.Handles(path, keep_open=0))
    assert "maintenance" in done["fitted"]
    assert len(seen) == 1 and seen[0].returncode == 0, seen[0].stderr[-500:]
    assert seen[0].stdout.strip().startswith("2026-")
    assert seen[0].stdout.strip() > BEFORE.isoformat()  # the new month's work orders, committed


def _page_captions(page: str) -> list[str]:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["lang"] = "en"
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return [c.value for c in at.caption]


def test_the_pages_say_which_models_name_the_new_month_until_the_refit(month_files):
    """Between the refresh and the refit the churn list is ranked, and the new month's comments
    are sorted into themes, by models fitted at the month before: the pages say so, and stop
    saying so once the refit has kept the new month's."""
    path, files = month_files
    _import_and_refresh(path, files)
    data.handles(str(path)).close()
    pending = "until the themes of 2026-10 are found"
    ranked = "Ranked by the newest model fitted so far, trained on the history up to 2026-09-30"
    assert any(pending in c and "up to 2026-09" in c for c in _page_captions("pages/themes.py"))
    assert any(ranked in c for c in _page_captions("pages/churn.py"))
    data.handles(str(path)).close()

    assert views.refit(db.Handles(path, keep_open=0))["fitted"] == FITTED

    assert not any(pending in c for c in _page_captions("pages/themes.py"))
    assert not any("Ranked by the newest model" in c for c in _page_captions("pages/churn.py"))
    data.handles(str(path)).close()


def _same(kept, fresh) -> None:
    """Assert that a kept view equals the one computed afresh (frames cell by cell)."""
    if isinstance(kept, pd.DataFrame):
        pd.testing.assert_frame_equal(kept, fresh)
    elif hasattr(kept, "__dataclass_fields__"):
        assert type(kept) is type(fresh)
        for name in kept.__dataclass_fields__:
            _same(getattr(kept, name), getattr(fresh, name))
    elif isinstance(kept, dict):
        assert kept.keys() == fresh.keys()
        for name in kept:
            _same(kept[name], fresh[name])
    else:
        assert repr(kept) == repr(fresh)


def test_after_the_refit_the_earlier_months_views_of_every_page_are_kept(month_files, monkeypatch):
    """Choosing an earlier month on the churn or maintenance page scored every vehicle of the group
    (4-6 s at a million work orders), and on the overview or themes page took 1.5-2.3 s there;
    after the refit, ``[database] months_ahead`` months before the one the pages open on are
    computed ahead with the new models, each view equal to what the page computes itself, and no
    page of such a month computes any of them."""
    path, files = month_files
    _import_and_refresh(path, files)
    monkeypatch.setattr(views.settings().database, "months_ahead", 3)
    heard: list[str] = []
    done = views.refit_after_import(db.Handles(path, keep_open=0), heard.append)
    assert done is not None and done["fitted"] == FITTED
    assert done["earlier"]["months"] == ["2026-09", "2026-08", "2026-07"], done["earlier"]
    assert not done["earlier"]["failed"] and "stopped" not in done["earlier"]
    assert any("views of 3 earlier months kept (2026-07 to 2026-09)" in line for line in heard), heard

    con = db.connect(path, read_only=True)
    try:
        version = db.data_version(con)
        planned = views.earlier_calls(con)
        assert [month for month, _, _ in planned] == ["2026-09", "2026-08", "2026-07"]
        for month, calls, lane in planned:
            window = facts.window_months(facts.available_months(con), month, views.DEFAULT_WINDOW)
            assert calls + lane == views.page_calls(month, window, None) and len(lane) == 1
            for call in (*calls, *lane):
                found, kept = marts.fetch(con, call, version)
                assert found, (month, call.fn)
                _same(kept, call.run(con))  # with the models the refit kept: as the page computes it
            [churn_call] = [
                c
                for c in calls
                if c == reads.call("churn.snapshot", as_of=month_ends([month])[0], stores=None)
            ]
            shot, upkeep = marts.fetch(con, churn_call, version)[1], marts.fetch(con, lane[0], version)[1]
            assert shot.model.as_of == AFTER and upkeep.model.as_of == AFTER and len(upkeep.scores)
            assert month_ends([month])[0] == shot.as_of
        older = reads.call("churn.snapshot", as_of=date(2026, 6, 30), stores=None)
        assert not marts.is_kept(con, older, version)  # three months only
    finally:
        con.close()

    # Every page of such a month reads what was kept.
    computed = _pages_from_scratch(monkeypatch, path)
    for page in (
        "pages/overview.py",
        "pages/satisfaction.py",
        "pages/themes.py",
        "pages/churn.py",
        "pages/maintenance.py",
    ):
        _captions_at(page, "2026-08")
    expensive = {call.fn for _, calls, lane in planned for call in (*calls, *lane)}
    assert sorted(set(computed) & expensive) == []
    data.handles(str(path)).close()

    # Nothing left to do: a second pass computes nothing.
    again = views.keep_earlier(db.Handles(path, keep_open=0))
    assert again["months"] == [] and not again["failed"]

    # A store's maintenance view of such a month is the group's kept scores of that month, filtered:
    # no vehicle scored, and the same rows as scoring that store's vehicles afresh.
    scored: list[int] = []
    real_score = persistence.score
    monkeypatch.setattr(persistence, "score", lambda *a, **k: scored.append(1) or real_score(*a, **k))
    con = db.connect(path, read_only=True)
    try:
        store = facts.stores(con)[-1]
        view = reads.read(con, "maintenance.snapshot", as_of=date(2026, 8, 31), stores=[store])
        assert scored == [] and len(view.scores) and set(view.scores["store"]) == {store}
        with marts.bypassed():
            fresh = reads.read(con, "maintenance.snapshot", as_of=date(2026, 8, 31), stores=[store])
        assert scored == [1]
        _same(view, fresh)
    finally:
        con.close()


def _pages_from_scratch(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[str]:
    """Drop the dashboard's handles and cached results; return the list every function the marts
    compute from now on is recorded in."""
    computed = record_runs(monkeypatch)
    data.handles(str(path)).close()
    resources.forget_fitted()
    data._cached_call.clear()
    return computed


def _captions_at(page: str, month: str) -> list[str]:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["lang"] = "en"
    at.query_params.update({"month": month})
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return [c.value for c in at.caption]


def _stand_ins(path: Path) -> tuple[list[tuple[str, str]], list[Path]]:
    """The stand-ins a database keeps (function and as-of day) and their payload files."""
    con = db.connect(path, read_only=True)
    try:
        rows = con.execute(
            "SELECT name, inputs_as_of::VARCHAR FROM marts WHERE data_version < 0 ORDER BY ALL"
        ).fetchall()
        files = sorted(marts.folder(con).glob("*.aside.payload"))
    finally:
        con.close()
    return [(str(name).rpartition(".")[2], str(day)) for name, day in rows], files


def test_until_the_pass_reaches_an_earlier_month_its_page_shows_the_view_as_last_computed_and_says_so(
    month_files, monkeypatch, tmp_path
):
    """After an import, the earlier months' churn and maintenance views are computed again with the
    new records and models, newest first, once the refit is done (three minutes and then eight at a
    million work orders, where a month not reached yet cost 4-6 s to score on its first visit).
    Until then each month's view as last computed stands in: the page computes nothing and says
    what it shows; once the pass has kept the month's new view, the page shows that one. Stand-ins
    are kept only for the months the pass computes, and go when their month's new view is kept or
    at the next data version."""
    path, files = month_files
    monkeypatch.setattr(views.settings().database, "months_ahead", 2)
    # Before the import the pages open on 2026-09: its two earlier months kept with its models.
    assert views.keep_earlier(db.Handles(path, keep_open=0))["months"] == ["2026-08", "2026-07"]
    _import_and_refresh(path, files)
    assert views.refit(db.Handles(path, keep_open=0))["fitted"] == FITTED

    # The pass computes 2026-09 and 2026-08 next: their views stand in; 2026-07's are gone.
    names, aside = _stand_ins(path)
    # the churn list and the maintenance scores of each
    assert sorted(names) == [
        ("snapshot", day) for day in ("2026-08-31", "2026-08-31", "2026-09-30", "2026-09-30")
    ]
    assert len(aside) == len(names)
    con = db.connect(path, read_only=True)
    try:
        version = db.data_version(con)
        august = reads.call("churn.snapshot", as_of=date(2026, 8, 31), stores=None)
        upkeep = reads.call("maintenance.snapshot", as_of=date(2026, 8, 31), stores=None)
        july = reads.call("churn.snapshot", as_of=date(2026, 7, 31), stores=None)
        assert not marts.is_kept(con, august, version)
        found, shot = marts.stand_in(con, august, version)
        assert found and shot.model.as_of == BEFORE and shot.as_of == date(2026, 8, 31)
        found, scores = marts.stand_in(con, upkeep, version)
        assert found and scores.model.as_of == BEFORE and len(scores.scores)
        assert marts.stand_in(con, july, version) == (False, None)
        assert marts.fetch(con, august, version) == (False, None)  # never read as this version's
    finally:
        con.close()

    # The pages of 2026-08 show them without scoring anything, and say so.
    computed = _pages_from_scratch(monkeypatch, path)
    later = "before the latest import or model fit"
    for page in ("pages/churn.py", "pages/maintenance.py"):
        captions = _captions_at(page, "2026-08")
        assert any(later in c and "trained on the history up to 2026-09-30" in c for c in captions), captions
        assert not any("this data version's model" in c for c in captions), captions
    assert not {marts.call_of(churn.snapshot).fn, marts.call_of(persistence.snapshot).fn} & set(computed)
    # A store's views of that month (never kept themselves) are the group's stand-ins' rows of that
    # store, computed by nothing either.
    con = db.connect(path, read_only=True)
    try:
        store = facts.stores(con)[0]
        _, group_scores = marts.stand_in(con, upkeep, version)
        _, group_list = marts.stand_in(con, august, version)
    finally:
        con.close()
    shot, stood = resources.fitted_view("maintenance.snapshot", as_of=date(2026, 8, 31), stores=[store])
    assert stood and shot.model.as_of == BEFORE
    mine = group_scores.scores[group_scores.scores["store"] == store].reset_index(drop=True)
    pd.testing.assert_frame_equal(shot.scores, mine)
    shot, stood = resources.fitted_view("churn.snapshot", as_of=date(2026, 8, 31), stores=[store])
    assert stood and shot.model.as_of == BEFORE
    pd.testing.assert_frame_equal(shot.vehicles, group_list.of_stores([store]).vehicles)
    assert not {marts.call_of(churn.snapshot).fn, marts.call_of(persistence.snapshot).fn} & set(computed)
    data.handles(str(path)).close()

    # A purge of the same version (a rebuild) keeps them; the next data version's drops them, files too.
    con = _copy_of(path, tmp_path / "copy.duckdb")
    try:
        marts.purge(con, version)
        assert len(_stand_ins_on(con)) == len(names)
        marts.purge(con, version + 1)
        assert _stand_ins_on(con) == [] and not list(marts.folder(con).glob("*.aside.payload"))
    finally:
        con.close()
    # The pass computes both months again; each new view replaces its stand-in, row and file.
    assert views.keep_earlier(db.Handles(path, keep_open=0))["months"] == ["2026-09", "2026-08"]
    assert _stand_ins(path) == ([], [])
    computed.clear()
    for page in ("pages/churn.py", "pages/maintenance.py"):
        captions = _captions_at(page, "2026-08")
        assert any("trained on the history up to 2026-10-31" in c for c in captions), captions
        assert not any(later in c for c in captions), captions
    assert not {marts.call_of(churn.snapshot).fn, marts.call_of(persistence.snapshot).fn} & set(computed)
    data.handles(str(path)).close()
    # After a rollback none of the version before (2026-09's and 2026-08's views now) stands in:
    # they counted the rows it took out. Another new data version would set them aside.
    con = _copy_of(path, tmp_path / "bumped.duckdb")
    try:
        with db.write_transaction(con) as cur:
            db.bump_data_version(cur)
        marts.purge(con, db.data_version(con), views.computed_later(con))
        assert len(_stand_ins_on(con)) == 4
    finally:
        con.close()
    con = _copy_of(path, tmp_path / "rolled.duckdb")
    try:
        last = con.execute("SELECT max(import_id) FROM imports WHERE status = 'done'").fetchone()[0]
        assert load.rollback(con, last)["deleted"]
        views.rebuild(con)
        assert _stand_ins_on(con) == [] and not list(marts.folder(con).glob("*.aside.payload"))
    finally:
        con.close()


def _copy_of(path: Path, copy: Path) -> duckdb.DuckDBPyConnection:
    """Copy the database and its kept results to ``copy``; return a connection to the copy."""
    shutil.copy(path, copy)
    shutil.copytree(f"{path}.marts", f"{copy}.marts")
    return db.connect(copy)


def _stand_ins_on(con) -> list[tuple[str, str]]:
    return con.execute("SELECT name, args FROM marts WHERE data_version < 0").fetchall()


@pytest.mark.parametrize("ahead", ["all", 5, 0])
def test_months_ahead_all_plans_every_month_the_pages_offer(demo_db, monkeypatch, ahead):
    """``months_ahead = "all"`` (the default) plans every month the month picker offers before the
    one the pages open on, newest first, so that no month's churn or maintenance page scores the
    group on its first visit; a number plans that many, 0 none."""
    monkeypatch.setattr(views.settings().database, "months_ahead", ahead)
    con = db.connect(demo_db, read_only=True)
    try:
        months = facts.available_months(con)
        opened = facts.default_month(months, str(facts.data_summary(con)["last_visit"]))
        planned = [month for month, _, _ in views.earlier_calls(con)]
    finally:
        con.close()
    before = sorted((m for m in months if m < opened), reverse=True)
    assert len(before) > 24  # the demo's history: three years
    assert planned == (before if ahead == "all" else before[:ahead])


def test_earlier_months_are_not_kept_when_an_import_commits_while_they_are_computed(month_files, monkeypatch):
    """A month computed from records an import changed meanwhile is not kept, and the pass stops
    there (the refresh after that import starts its own)."""
    path, files = month_files
    _import_and_refresh(path, files)
    assert views.refit(db.Handles(path, keep_open=0))["fitted"] == FITTED
    monkeypatch.setattr(views.settings().database, "months_ahead", 2)
    compute = views._compute
    corrected: list[bool] = []

    def compute_then_correct(handles, calls):
        out = compute(handles, calls)
        if not corrected:
            corrected.append(True)
            # A correction to a work order arrives while the month is computed.
            with handles.writing() as cur, db.write_transaction(cur) as tx:
                tx.execute(
                    "UPDATE service_orders SET amount = amount + 1 WHERE order_id = "
                    "(SELECT min(order_id) FROM service_orders WHERE visit_date > $d)",
                    {"d": BEFORE},
                )
                db.bump_data_version(tx)
        return out

    monkeypatch.setattr(views, "_compute", compute_then_correct)
    done = views.keep_earlier(db.Handles(path, keep_open=0))
    assert done["months"] == [] and "changed while 2026-09 was computed" in done["stopped"]
    con = db.connect(path, read_only=True)
    try:
        version = db.data_version(con)
        kept = con.execute(
            "SELECT count(*) FROM marts WHERE data_version = $v AND name LIKE '%snapshot' "
            "AND args LIKE '%2026, 9, 30%'",
            {"v": version},
        ).fetchone()[0]
        assert kept == 0
    finally:
        con.close()


def test_no_earlier_month_is_computed_without_kept_models(month_files, monkeypatch):
    """Before the refit has kept the new month's models, a page of an earlier month would fit them
    on a handle that cannot keep them, once per month: the pass computes nothing then."""
    path, files = month_files
    _import_and_refresh(path, files)
    monkeypatch.setattr(
        views.marts,
        "cached",
        lambda *a, **k: pytest.fail("an earlier month was computed without kept models"),
    )
    done = views.keep_earlier(db.Handles(path, keep_open=0))
    assert done["months"] == [] and done["skipped"] == "the models are not fitted" and "stopped" not in done
    # And not announced: where no model could be fitted (too little history, a first small
    # import) the refit says why, and a drop folder's log gains no line for this.
    monkeypatch.setattr(views, "refit", lambda handles, say=None: {"as_of": AFTER.isoformat(), "fitted": []})
    heard: list[str] = []
    done = views.refit_after_import(db.Handles(path, keep_open=0), heard.append)
    assert done["earlier"]["skipped"] and heard == []
