"""A fourth attacker round: each test makes an attack on a promise of the README through the real
code path (the command line, the dashboard in AppTest, the writers of files). Each one that
broke the promise is named in its docstring, with what leaked."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from analytics.services import watch
from analytics.store import audit, db
from tests.db_state import run_cli

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SERVICE = DATA / "service_orders_gbk.csv"  # 8 work orders
JUNK = DATA / "junk" / "picture.csv"  # a PNG named .csv


# --------------------------------------------------------------------------- the drop folder


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


def _watch_once(folder: Path, database: Path):
    return run_cli("watch", str(folder), "--once", "--settle", "0", "--lang", "en", "--db", str(database))


@pytest.mark.parametrize("status", [watch.DONE, watch.REFUSED])
def test_a_done_or_refused_folder_planted_as_a_symlink_moves_nothing_out_of_the_drop_folder(
    drop: Path, tmp_path: Path, status: str
):
    """Whoever may write to the drop folder made `refused` (or `done`) a symlink to a folder of
    the dashboard's user (`~/.ssh`, `.streamlit/`) and dropped a file named for what it should
    become there (`authorized_keys`, `secrets.toml`): watch moved the file and wrote its two
    reports into that folder, so anyone with the share could create files anywhere the
    dashboard's user may write. Now the pass refuses the planted folder with a sentence and
    leaves the file where it was dropped."""
    outside = tmp_path / "home" / ".ssh"
    outside.mkdir(parents=True)
    (drop / status).symlink_to(outside, target_is_directory=True)
    planted = drop / "authorized_keys"
    shutil.copy(SERVICE if status == watch.DONE else JUNK, planted)

    run = _watch_once(drop, tmp_path / "watch.duckdb")

    assert list(outside.iterdir()) == []
    assert planted.exists()
    assert run.returncode == 2 and "symlink" in run.stderr and "Traceback" not in run.stderr


def test_a_dangling_symlink_planted_as_a_report_name_is_never_written_through(drop: Path, tmp_path: Path):
    """The same attacker planted `refused/x.csv.report.json` as a symlink to a file that does not
    exist yet (`~/.ssh/authorized_keys`): the free-name check asked `exists()`, which is false for
    a dangling link, so watch moved `x.csv` into `refused/` and wrote its report through the link,
    creating the file outside. Now a name taken by anything, a dangling link too, is not free, and
    reports are created new, never written through a link."""
    target = tmp_path / "home" / ".ssh" / "authorized_keys"
    target.parent.mkdir(parents=True)
    refused = drop / watch.REFUSED
    refused.mkdir()
    for suffix in watch.REPORT_SUFFIXES:
        (refused / f"x.csv{suffix}").symlink_to(target.with_name(target.name + suffix))
    (refused / "x.csv").symlink_to(target)
    shutil.copy(JUNK, drop / "x.csv")

    run = _watch_once(drop, tmp_path / "watch.duckdb")

    assert run.returncode == 0, run.stderr
    assert list(target.parent.iterdir()) == []
    assert (refused / "x-2.csv").is_file() and (refused / "x-2.csv.report.json").is_file()


# --------------------------------------------------------------------------- masking


@pytest.fixture
def roles_copy(demo_copy):
    return demo_copy


@pytest.mark.parametrize("between", ["\u200b", "\n", "\t"])
def test_a_mobile_split_by_an_invisible_or_control_character_is_masked_in_the_audit_log_for_the_manager(
    roles_copy, with_accounts, between
):
    """A file named `回访_王先生138\\u200b1234\\u200b5678.xlsx` (a number pasted from a chat keeps its
    zero-width spaces; a new line or tab splits it as well) was masked as text only after the audit
    tab had written its invisible and control characters as escapes (`\\u200b`, `\\n`) and JSON had
    escaped its control characters: letters stood between the digits, so the mask no longer saw a
    number and the manager read it in full. Now the values are masked first, then escaped."""
    from tests.signing_in import sign_in

    named = f"回访_王先生138{between}1234{between}5678.xlsx"
    con = db.connect(roles_copy)
    audit.record(con, "zhangli", "cs_lead", "import", {"file": named, "kind": "callback"})
    con.close()
    at = sign_in("wangqiang", page="pages/data.py")
    # Only the cells naming the file: times elsewhere may hold the digits 1234 by chance.
    shown = [
        str(v)
        for d in at.dataframe
        for c in d.value.columns
        for v in d.value[c].dropna()
        if "王先生" in str(v)
    ]
    assert shown and all("王先生138****5678" in v and "1234" not in v for v in shown), shown


# --------------------------------------------------------------------------- files beside the database


def test_the_database_file_is_owner_only_like_its_backups(tmp_path: Path):
    """Backups were 0600 in a 0700 folder because they hold every customer's phone number, but the
    database they copy was created by the umask, 0644: any local user could open it read-only and
    read every phone number. Now the file (and its log) is made owner-only whenever it is opened
    for writing: a new one at once, one made before this change at its next import."""
    database = tmp_path / "new.duckdb"
    old_umask = os.umask(0o022)
    try:
        run = run_cli("import", str(SERVICE), "--db", str(database))
        assert run.returncode == 0, run.stderr
        assert oct(database.stat().st_mode & 0o777) == oct(0o600)
        os.chmod(database, 0o644)  # a database made before: mended at its next write
        run = run_cli("import", str(SERVICE), "--db", str(database))
        assert run.returncode == 0, run.stderr
        assert oct(database.stat().st_mode & 0o777) == oct(0o600)
    finally:
        os.umask(old_umask)


# --------------------------------------------------------------------------- roles


def test_a_cs_lead_demoted_while_signed_in_cannot_finish_a_rollback_started_before(roles_copy, with_accounts):
    """The CS lead opened the rollback controls, ticked the confirmation, and was then demoted to
    viewer in secrets.toml; the click that arrives afterwards from the page still on screen is a
    viewer's: nothing is rolled back and the phones are masked from that run on. (Guards the
    role being read from the accounts on every run, not kept from the sign-in.)"""
    from tests.signing_in import sign_in

    at = sign_in("zhangli", page="pages/data.py")
    con = db.connect(roles_copy, read_only=True)
    before = con.execute("SELECT count(*) FROM imports WHERE status = 'done'").fetchone()
    con.close()
    at.checkbox(key="rollback_ok").check()
    at.run()
    text = with_accounts.read_text(encoding="utf-8")
    start = text.index("[auth.accounts.zhangli]")
    block = text[start : text.index("[auth.accounts.", start + 1)]
    with_accounts.write_text(
        text.replace(block, block.replace('role = "cs_lead"', 'role = "viewer"')), "utf-8"
    )
    at.button(key="rollback_go").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["_user"].role == "viewer"
    con = db.connect(roles_copy, read_only=True)
    after = con.execute("SELECT count(*) FROM imports WHERE status = 'done'").fetchone()
    con.close()
    assert after == before
    assert not [s for s in at.selectbox if s.key == "rollback_id"]


def test_a_mobile_typed_into_a_store_name_is_masked_in_the_names_of_saved_charts_and_the_deck():
    """A chart's PNG/SVG and the deck are named by page, metric, period and store: a store typed as
    `王先生13812345678` was masked on the chart and in the deck but came back whole in the name of
    the file every role saves (`satisfaction_nps_2026-10_王先生13812345678.png`)."""
    from analytics.reports import chart_export
    from ui.charts import export_name

    for name in (
        export_name("satisfaction", "nps", "2026-10", "王先生13812345678"),
        chart_export.file_stem("deck", "2026-10", "王先生138 1234 5678-杭州西湖店", "zh"),
    ):
        assert "1234" not in name and "王先生138-5678" in name, name
