"""An eleventh attack (session 22), each reproduced first and failing before its fix: the newer outputs
(the drop folder's reports, the commands' JSON, error sentences, the ``send`` summary) and the drop
folder's file handling, attacked with what whoever can drop a file, type a user name at the sign-in
form or name a store in the DMS controls."""

from __future__ import annotations

import json
import os
from pathlib import Path

from analytics import cli
from analytics.services import watch
from analytics.store import audit, db

# A C1 control (CSI, which a terminal in 8-bit mode runs as ESC [), a right-to-left override and an
# isolate: JSON leaves them as they are (it escapes only C0), so they reached the terminal raw.
HOSTILE = "\x9b2J\u202e\u2067gpj"
ORDERS = "工单号,进厂日期,车架号,结算金额\nWO1,2026-08-01,LSVAU2A37N2800001,100\n"
ORDERS_2 = "工单号,进厂日期,车架号,结算金额\nWO2,2026-08-02,LSVAU2A37N2800002,200\n"
OLD = 1_700_000_000  # a modification time long past: the pass need not wait for the file to settle


def _is_printable(output: str) -> bool:
    """Whether every character of ``output`` shows as itself (line breaks apart)."""
    return all(ch.isprintable() for line in output.split("\n") for ch in line)


def _drop(folder: Path, name: str, content: str = ORDERS) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(content, encoding="utf-8")
    os.utime(path, (OLD, OLD))
    return path


# --------------------------------------------------------------------------- JSON with raw controls


def test_a_dropped_files_report_json_writes_controls_and_direction_overrides_as_escapes(tmp_path):
    """The README: the reports write a file name's control characters as escapes. NAME.report.txt
    did; NAME.report.json held a C1 control and a right-to-left override raw (``cat`` of the
    report drove the terminal or reversed the line)."""
    drop = tmp_path / "drop"
    name = f"回访{HOSTILE}.csv"
    _drop(drop, name)
    outcomes, _ = watch.run_once(drop, str(tmp_path / "w.duckdb"), [], 0, "en", None)
    assert [o.status for o in outcomes] == [watch.DONE]
    report = outcomes[0].report_json.name
    written = (drop / "done" / report).read_text(encoding="utf-8")
    assert _is_printable(written), written
    assert json.loads(written)["file"] == name  # the data unchanged


def test_the_commands_json_writes_controls_and_direction_overrides_as_escapes(tmp_path, capsys):
    """``audit --json``, ``imports --json`` and ``import --json`` printed file names and user names as
    stored: a user name typed at the sign-in form by anyone (a failed sign-in is audited with it) or
    a dropped file's name reached the terminal with its C1 controls and overrides (``audit`` without
    ``--json`` escapes them)."""
    database = tmp_path / "c.duckdb"
    source = _drop(tmp_path / "files", f"工单{HOSTILE}.csv")
    assert cli.main(["import", str(source), "--json", "--no-marts", "--db", str(database)]) == 0
    imported = capsys.readouterr().out
    con = db.connect(database)
    try:
        audit.record(con, f"guess{HOSTILE}", "viewer", "sign_in_failed", {"reason": "password"})
    finally:
        con.close()
    assert cli.main(["imports", "--json", "--db", str(database)]) == 0
    listed = capsys.readouterr().out
    assert cli.main(["audit", "--json", "--db", str(database)]) == 0
    logged = capsys.readouterr().out
    for output in (imported, listed, logged):
        assert _is_printable(output), output
    assert json.loads(imported)[0]["file"] == str(source)
    assert json.loads(listed)[0]["file_name"] == source.name
    assert {e["who"] for e in json.loads(logged)} >= {f"guess{HOSTILE}"}
