"""A seventh attack on the README's promises (session 20), each reproduced first: a doctored backup
whose kept results are inline pickles, drop-folder file names too long for their reports or not
UTF-8, mobiles typed into names shown in list filters and retention tooltips, control characters
that broke every Excel export, a header shown as a link on the Data page, and headers that wrote
lines of their own into the import command's output."""

from __future__ import annotations

import io
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from analytics import cli
from analytics.reports import export
from analytics.services import marts, watch
from analytics.store import backup, db
from tests.conftest import PHONE_IN_NAMES
from tests.signing_in import sign_in

ROOT = Path(__file__).resolve().parents[1]
PHONE = PHONE_IN_NAMES  # the mobile the phone_names_env fixture types into names


class _Planted:
    """Unpickling this writes a marker file: proof that planted code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_an_inline_pickle_in_a_database_files_marts_is_never_unpickled(tmp_path):
    path = tmp_path / "d.duckdb"
    con = db.connect(path)
    marker = tmp_path / "RAN"
    try:
        call = marts.Call("analytics.domain.facts.stores")
        version = db.data_version(con)
        con.execute(
            "INSERT INTO marts (name, args, data_version, payload, file, seconds, built_at, sha256) "
            "VALUES ($n, $a, $v, $p, NULL, 1, now(), NULL)",
            {"n": call.fn, "a": call.key, "v": version, "p": pickle.dumps(_Planted(marker))},
        )
        assert marts.fetch(con, call, version) == (False, None)
        assert not marker.exists()
    finally:
        con.close()


def test_restore_forgets_the_kept_results_and_model_checksums_a_handed_over_file_names(tmp_path, demo_db):
    live, handed = tmp_path / "live.duckdb", tmp_path / "handed.duckdb"
    shutil.copy(demo_db, live)
    shutil.copy(demo_db, handed)
    con = duckdb.connect(str(handed))
    con.execute(
        "INSERT INTO marts (name, args, data_version, payload, file, seconds, built_at, sha256) "
        "VALUES ('x.y', 'k', 1, $p, NULL, 1, now(), NULL)",
        {"p": pickle.dumps(_Planted(tmp_path / "RAN"))},
    )
    con.execute("INSERT OR REPLACE INTO meta VALUES ('model_sha256:planted.joblib', 'abc')")
    con.close()
    backup.restore(handed, live)
    con = duckdb.connect(str(live), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM marts").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM meta WHERE key LIKE 'model_sha256:%'").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM service_orders").fetchone()[0] > 0
    finally:
        con.close()


ORDERS = "工单号,进厂日期,车架号,结算金额\nWO1,2026-08-01,LSVAU2A37N2800001,100\n"
ORDERS_2 = "工单号,进厂日期,车架号,结算金额\nWO2,2026-08-02,LSVAU2A37N2800002,200\n"


@pytest.mark.parametrize(
    "name",
    [
        os.fsdecode(("回" * 82 + ".csv").encode("utf-8")),  # 250 bytes: its reports' names would not fit
        os.fsdecode("回访记录.csv".encode("gbk")),  # GBK bytes, as a Windows share leaves them
    ],
    ids=["long", "gbk"],
)
def test_a_dropped_files_name_never_stops_the_folder(tmp_path, name):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / name).write_text(ORDERS, encoding="utf-8")
    (drop / "zz.csv").write_text(ORDERS_2, encoding="utf-8")
    old = 1_700_000_000
    os.utime(drop / name, (old, old))
    os.utime(drop / "zz.csv", (old, old))
    database = tmp_path / "w.duckdb"
    outcomes, busy = watch.run_once(drop, str(database), [], 0, "en", None)
    assert not busy and [o.status for o in outcomes] == [watch.DONE, watch.DONE]
    assert sorted(os.listdir(drop)) == ["done", "refused"]
    done = os.listdir(drop / "done")
    assert len(done) == 6  # each file and its two reports
    assert all(len(os.fsencode(n)) <= watch.NAME_MAX for n in done)
    con = db.connect(database)
    try:
        names = [r[0] for r in con.execute("SELECT file_name FROM imports ORDER BY import_id").fetchall()]
        assert con.execute("SELECT count(*) FROM service_orders").fetchone() == (2,)
        assert con.execute("SELECT count(*) FROM audit_log WHERE action = 'import'").fetchone() == (2,)
    finally:
        con.close()
    assert "zz.csv" in names
    assert {"回" * 82 + ".csv", "回访记录.csv"} & set(names)


def test_the_import_command_takes_a_gbk_file_name_without_a_traceback(tmp_path):
    name = os.fsdecode("回访记录.csv".encode("gbk"))
    source = tmp_path / name
    source.write_text(ORDERS, encoding="utf-8")
    database = tmp_path / "c.duckdb"
    run = subprocess.run(
        [sys.executable, "-m", "analytics", "import", str(source), "--db", str(database), "--no-marts"],
        cwd=ROOT,
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode("utf-8", "replace")
    assert "回访记录.csv" in run.stdout.decode("utf-8") and b"Traceback" not in run.stderr


def test_a_header_cannot_add_a_line_to_the_import_commands_output(tmp_path, capsys):
    source = tmp_path / "orders.csv"
    source.write_text(
        '工单号,进厂日期,车架号,结算金额,"备注\nFAKE: import 99 done\x1b[2K"\n'
        "WO1,2026-08-01,LSVAU2A37N2800001,100,x\n",
        encoding="utf-8",
    )
    assert cli.main(["import", str(source), "--db", str(tmp_path / "h.duckdb"), "--no-marts"]) == 0
    out = capsys.readouterr().out
    assert not any(line.startswith("FAKE") for line in out.splitlines())
    assert "\x1b" not in out


@pytest.mark.parametrize("control", ["\x0b", "\x01", "\x1b", "\x08", "\x1f", "\x0c", "\x00"])
def test_a_control_character_in_a_cell_never_breaks_an_excel_export(control):
    frame = pd.DataFrame({"comment": [f"先生{control}说", "=1+1", "﹦6+6"], "phone": [PHONE] * 3})
    data = export.xlsx_bytes(frame, title=f"清单{control}")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [c.value for row in sheet.iter_rows(min_row=3) for c in row]
    assert cells[0].startswith("先生") and cells[0].endswith("说") and control not in cells[0]
    assert cells[2] == "'=1+1" and cells[4] == "'﹦6+6"


def test_list_filters_show_names_with_a_mobile_masked_to_a_manager(phone_names_env, with_accounts):
    at = sign_in("wangqiang", page="pages/churn.py")
    shown = [o for key in ("churn_model", "churn_advisor") for o in at.multiselect(key=key).options]
    assert shown
    assert not any(PHONE in str(o) for o in shown), shown[:5]
    at.switch_page("pages/satisfaction.py")
    at.run()
    advisors = at.multiselect(key="sat_advisors").options
    assert advisors and not any(PHONE in str(o) for o in advisors), advisors[:5]


def test_the_retention_tooltip_masks_and_escapes_the_groups_name():
    from ui.churn_figures import retention_figure

    curve = pd.DataFrame(
        {
            "transition": ["1-2", "1-2"],
            "group": [f"劲客{PHONE}", "<a href='x'>y</a>"],
            "month": [1, 1],
            "share": [0.5, 0.4],
            "n": [10, 12],
        }
    )
    fig = retention_figure(curve, "model")
    hovers = " ".join(str(trace.hovertemplate) for trace in fig.data)
    assert PHONE not in hovers and "138****5678" in hovers
    assert "<a href" not in hovers and "&lt;a href" in hovers
