"""Issue 19: defects found by trying to break the dashboard (binding, roles, masking, injection,
audit), each reproduced through the real entry point."""

from __future__ import annotations

import pytest
from streamlit import config as st_config

from analytics import auth
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
    from analytics.config import settings

    bound_to("0.0.0.0")
    monkeypatch.setitem(settings()["auth"], "serve_network_without_accounts", True)
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


def test_a_payload_file_put_into_the_marts_folder_is_never_unpickled(demo_db, tmp_path):
    """A file written into <db>.marts/ ran a command when `report` read it."""
    import os
    import pickle
    import shutil
    import stat

    from analytics import db, facts, marts, overview

    path = tmp_path / "m.duckdb"
    shutil.copy(demo_db, path)
    con = db.connect(path)
    call = marts.call_of(overview.overview, facts.available_months(con)[1], None)
    marts.cached(con, call, keep=True)
    version = db.data_version(con)
    name = con.execute("SELECT file FROM marts WHERE name = $n", {"n": call.fn}).fetchone()[0]
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
    assert marts.cached(con, call)["report"] is not None and not witness.exists()
    con.close()


def test_a_model_file_replaced_on_disk_is_never_unpickled(tmp_path, monkeypatch):
    import os
    import stat
    import types

    import joblib

    from analytics import db, maintenance

    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(tmp_path / "models"))
    con = db.connect(tmp_path / "x.duckdb")
    path = tmp_path / "models" / "maintenance-test.joblib"
    monkeypatch.setattr(maintenance, "_model_path", lambda con, as_of: path)
    monkeypatch.setattr(maintenance, "_resolve_as_of", lambda con, as_of: as_of)

    # Stands in for a MaintenanceModel: only the file handling is under test.
    saved = maintenance.save_model(con, types.SimpleNamespace(as_of=None))
    assert saved == path and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = f"model_sha256:{path.name}"
    assert con.execute("SELECT value FROM meta WHERE key = $k", {"k": key}).fetchone()[0]
    witness = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {witness}",))

    joblib.dump(Exploit(), path)
    assert maintenance.load_model(con, as_of=__import__("datetime").date(2026, 1, 1)) is None
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
