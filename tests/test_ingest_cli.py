"""The import, imports and rollback commands, including refusals through a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import cli
from analytics.ingest import import_file, load_mapping
from analytics.store import db
from tests.db_state import run_cli as run

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
JUNK = sorted((DATA / "junk").glob("*"))


def state(path: Path) -> tuple[object, ...]:
    con = db.connect(path)
    try:
        return (
            con.execute("SELECT * FROM service_orders ORDER BY order_id").fetchall(),
            con.execute("SELECT * FROM callbacks ORDER BY callback_id").fetchall(),
            con.execute("SELECT import_id, status FROM imports ORDER BY import_id").fetchall(),
            con.execute("SELECT count(*) FROM rejected_rows").fetchall(),
            db.data_version(con),
        )
    finally:
        con.close()


@pytest.fixture
def database(tmp_path) -> Path:
    path = tmp_path / "cli.duckdb"
    con = db.connect(path)
    import_file(con, DATA / "service_orders_gbk.csv")
    con.close()
    return path


def test_the_junk_folder_holds_the_refusal_cases():
    assert [p.name for p in JUNK] == [
        "empty.csv",
        "header_only.csv",
        "no_key_columns.csv",
        "picture.csv",
        "report.xls",
    ]


def test_junk_is_refused_with_one_line_per_file_and_exit_2(database):
    # One process for all the junk files keeps the suite fast; each file is still its own import.
    before = state(database)
    done = run("import", *map(str, JUNK), "--db", str(database))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == len(JUNK)
    for line, junk in zip(lines, JUNK, strict=True):
        assert line.startswith(f"error: {junk}: {junk.name} ")
        assert line.endswith(".")
    assert "Traceback" not in done.stderr
    assert state(database) == before


def test_a_callback_file_imported_as_service_is_refused_in_one_line(database):
    before = state(database)
    done = run("import", str(DATA / "callbacks_bom.csv"), "--kind", "service", "--db", str(database))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {DATA / 'callbacks_bom.csv'}: callbacks_bom.csv looks like a callback file "
        "(it has 回访类型, 回访日期, 回访人 columns), not service orders; "
        "import it as callback records (--kind callback)."
    ]
    assert state(database) == before


def test_good_files_still_import_beside_a_refused_one_and_json_lists_them(database):
    corrected = DATA / "service_orders_gbk_corrected.csv"
    empty = DATA / "junk" / "empty.csv"
    done = run("import", str(corrected), str(empty), "--json", "--db", str(database))
    assert done.returncode == 2
    assert json.loads(done.stdout) == [
        {
            "file": str(corrected),
            "import_id": 2,
            "kind": "service",
            "rows_read": 9,
            "inserted": 1,
            "updated": 2,
            "unchanged": 6,
            "rejected": 0,
            "reasons": [],
            "blanked": 0,
            "notes": [],
            "unmapped": [],
            "guessed": {},
            "sheets": [{"sheet": "", "rows": 9, "landed": 9, "rejected": 0, "skipped": 0, "reason": ""}],
            "scales": {},
            "unrated_zeros": {},
            "unrecognised": {},
        }
    ]
    assert len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_import_prints_a_readable_summary(tmp_path, capsys):
    path = tmp_path / "s.duckdb"
    bad = DATA / "service_orders_bad_rows.csv"
    assert cli.main(["import", str(bad), "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"{bad}: import 1 (service): 9 rows read, 4 inserted, 0 updated, 0 unchanged, 4 rejected, "
        "1 exact duplicates imported once (missing work-order number; unreadable date; "
        "duplicate key in file, later row kept; missing visit date) in "
    )
    assert "\n  1 rows landed with a cell not read (number not readable, left blank)" in out


def test_the_import_log_counts_exact_duplicates_so_its_counts_add_up(tmp_path, capsys):
    """Session 42: the log said "9 read, 4 inserted, 0 updated, 0 unchanged, 4 rejected" for a file
    with an exact duplicate row, and nothing in it (nor in ``imports --json``) named the ninth row."""
    path = tmp_path / "s.duckdb"
    bad = DATA / "service_orders_bad_rows.csv"
    assert cli.main(["import", str(bad), "--db", str(path)]) == 0
    capsys.readouterr()
    assert cli.main(["imports", "--json", "--db", str(path)]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["rows_duplicate"] == 1
    parts = ("rows_inserted", "rows_updated", "rows_unchanged", "rows_duplicate", "rows_rejected")
    assert entry["rows_read"] == sum(entry[k] for k in parts) == 9
    assert cli.main(["imports", "--db", str(path)]) == 0
    assert (
        capsys.readouterr()
        .out.rstrip()
        .endswith("9 read, 4 inserted, 0 updated, 0 unchanged, 4 rejected, 1 exact duplicates imported once")
    )


def test_a_saved_mapping_is_reused_for_files_with_unusual_headers(tmp_path, capsys):
    source = tmp_path / "odd.csv"
    source.write_text("单号,日期,回访日,评分\nA1,2024-03-05,2024-03-06 10:00,4\n", encoding="utf-8")
    given = tmp_path / "given.toml"
    given.write_text(
        'kind = "callback"\n[columns]\norder_id = "单号"\ncallback_date = "回访日"\noverall_score = "评分"\n'
        '[scales]\noverall_score = "0-10"\n',
        encoding="utf-8",
    )
    saved = tmp_path / "saved.toml"
    path = tmp_path / "m.duckdb"
    assert (
        cli.main(["import", str(source), "--map", str(given), "--save-map", str(saved), "--db", str(path)])
        == 0
    )
    assert load_mapping(saved) == {
        "kind": "callback",
        "columns": {"order_id": "单号", "callback_date": "回访日", "overall_score": "评分"},
        "scales": {"overall_score": "0-10"},
    }
    capsys.readouterr()
    assert cli.main(["import", str(source), "--map", str(saved), "--json", "--db", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["unchanged"] == 1


def test_imports_lists_the_log_and_rollback_undoes_an_import(database, capsys):
    corrected = DATA / "service_orders_gbk_corrected.csv"
    assert cli.main(["import", str(corrected), "--db", str(database)]) == 0
    capsys.readouterr()
    assert cli.main(["imports", "--json", "--db", str(database)]) == 0
    log = json.loads(capsys.readouterr().out)
    assert [(r["import_id"], r["file_name"], r["rows_updated"], r["status"]) for r in log] == [
        (2, "service_orders_gbk_corrected.csv", 2, "done"),
        (1, "service_orders_gbk.csv", 0, "done"),
    ]
    assert cli.main(["rollback", "1", "--db", str(database)]) == 2
    assert (
        capsys.readouterr().err
        == "error: Import 2 has since changed rows that import 1 wrote; roll back import 2 first.\n"
    )
    assert cli.main(["rollback", "2", "--db", str(database)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "rolled back import 2: 1 rows removed, 2 rows restored to their earlier values"
    assert out[1].startswith("dashboard results prepared for the new data in ")
    assert cli.main(["imports", "--db", str(database)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(
        "service_orders_gbk_corrected.csv [rolled_back]: 9 read, 1 inserted, 2 updated, 6 unchanged, 0 rejected"
    )


def _with_closed_output(args: list[str]) -> tuple[int, str]:
    """Run ``python -m analytics ARGS`` with its output read by nobody (``| head`` gone); return its
    exit code and what it wrote on stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "analytics", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read().decode("utf-8")
    return process.wait(timeout=120), err


def test_output_into_a_pipe_closed_by_its_reader_ends_without_a_traceback(database):
    # `python -m analytics imports | head -1`: the reader has gone when the command writes.
    code, err = _with_closed_output(["imports", "--db", str(database)])
    assert code == 141
    assert err == ""


def test_an_import_into_a_closed_pipe_still_imports_every_file_and_says_so(tmp_path):
    # `python -m analytics import a.csv b.csv | head -1`: the import is what was asked for; the
    # output is by the way, so a reader that has gone does not leave the later files out.
    path = tmp_path / "piped.duckdb"
    files = [DATA / "service_orders_gbk.csv", DATA / "callbacks_bom.csv"]
    code, err = _with_closed_output(["import", *map(str, files), "--no-marts", "--db", str(path)])
    assert code == 0
    assert "Traceback" not in err
    assert err == (
        "note: the output was closed by its reader (| head); the import went on: "
        "all 2 files were imported (see `python -m analytics imports`).\n"
    )
    con = db.connect(path)
    try:
        assert con.execute("SELECT kind, status FROM imports ORDER BY import_id").fetchall() == [
            ("service", "done"),
            ("callback", "done"),
        ]
    finally:
        con.close()


@pytest.mark.parametrize("command", ["import", "imports", "rollback"])
def test_every_ingest_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m analytics {command}")
    assert "--db PATH" in out


def test_zeros_read_as_not_rated_are_said_and_a_map_reads_them_as_scores(tmp_path, capsys):
    """Session 43: a 0-10 file whose answers all fell within 0-5 read as 1-5: its 0 landed blank and
    its 3 and 5 as 6 and 10, and the import said nothing of it (blanked 0, no notes)."""
    from tests.test_data_page import LOW_SURVEY

    source = tmp_path / "低分.csv"
    source.write_text(LOW_SURVEY, encoding="utf-8")
    path = tmp_path / "z.duckdb"
    assert cli.main(["import", str(source), "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "read on the 1-5 scale, where a 0 means not rated and lands blank: 总体满意度 (1 × 0)" in out
    assert cli.main(["import", str(source), "--json", "--db", str(path)]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["unrated_zeros"] == {"overall_score": 1}
    assert entry["scales"]["overall_score"] == "1-5"
    given = tmp_path / "scales.toml"
    given.write_text('kind = "callback"\n[scales]\noverall_score = "0-10"\n', encoding="utf-8")
    assert cli.main(["import", str(source), "--map", str(given), "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert "not rated" not in out and "3 updated" in out
    with db.connect(path) as con:
        assert con.execute("SELECT overall_score FROM callbacks ORDER BY callback_id").fetchall() == [
            (0.0,),
            (3.0,),
            (5.0,),
        ]
