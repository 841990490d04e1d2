"""What each role sees: signed in through the form, every page with a list, checked on the values
the page shows (phone numbers masked or in clear), the list downloads it offers, and the Data
page's import and rollback controls; and the audit log of a CS lead's import, rollback and export."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from analytics.core.i18n import text
from tests.conftest import ACCOUNTS
from tests.signing_in import audit_rows, sign_in, t_

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "service_orders_gbk.csv"
# Pages whose lists carry phone numbers on the demo, and the list downloads each offers.
LIST_PAGES = (
    "pages/overview.py",
    "pages/satisfaction.py",
    "pages/churn.py",
    "pages/maintenance.py",
    "pages/data.py",
)
MASKED = re.compile(r"^\d{0,3}\*{4,}\d{0,4}$")
CLEAR = re.compile(r"^\+?[\d\s-]*\d{5,}[\d\s-]*$")
AGGREGATE_DOWNLOADS = ("dl_sat_breakdown", "themes_board_dl")  # figures, no people: every role


@pytest.fixture(scope="module")
def roles_db(demo_db, tmp_path_factory):
    """One private copy of the demo for this module: sign-ins write to its audit log."""
    path = tmp_path_factory.mktemp("roles") / "roles.duckdb"
    shutil.copy(demo_db, path)
    return path


@pytest.fixture
def roles_env(roles_db, demo_model_dir, monkeypatch):
    monkeypatch.setenv("ANALYTICS_DB", str(roles_db))
    monkeypatch.setenv("ANALYTICS_MODEL_DIR", str(demo_model_dir))
    return roles_db


def phones(at):
    """Every phone value in every table the page shows."""
    # Tables show the column by its name in the interface language (the follow-up list) or keep the
    # field name and label it in the column settings (the call lists).
    names = {"phone", text("field.phone", "zh"), text("field.phone", "en")}
    return [
        str(v)
        for d in at.dataframe
        for column in names & {str(c) for c in d.value.columns}
        for v in d.value[column].dropna()
        if str(v)
    ]


def list_downloads(at):
    return [
        b.key
        for b in at.get("download_button")
        if "_image_" not in b.key and not b.key.startswith(AGGREGATE_DOWNLOADS) and b.key != "deck_download"
    ]


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_each_role_sees_phones_exports_and_data_controls_as_its_policy_allows(
    roles_env, with_accounts, username
):
    from analytics.core.auth import POLICY

    role = ACCOUNTS[username][0]
    allowed = POLICY[role]
    at = sign_in(username)
    assert at.session_state["_user"].role == role
    seen = {}
    for page in LIST_PAGES:
        # The overview's red flags need a month that has some; the other pages use the default.
        at.session_state["month"] = "2026-07" if page == "pages/overview.py" else "2026-10"
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.message for e in at.exception])
        values = phones(at)
        seen[page] = len(values)
        if allowed.sees_phone:
            assert values and all(CLEAR.match(v) for v in values if not v.startswith("无")), page
            assert not any("****" in v for v in values), page
        else:
            assert values and all(MASKED.match(v) for v in values), (page, values[:5])
        downloads = list_downloads(at)
        refusals = [
            c.value for c in at.caption if c.value == t_("export.role_cannot", role=t_(f"auth.role.{role}"))
        ]
        if allowed.export_lists:
            assert downloads and not refusals, page
        else:
            assert not downloads and refusals, page
    assert all(seen.values()), seen
    # The Data page (the last one visited): import and rollback only for the CS lead.
    assert bool(at.get("file_uploader")) == allowed.import_data
    assert bool([s for s in at.selectbox if s.key == "rollback_id"]) == allowed.import_data
    read_only = t_("data.role_read_only", role=t_(f"auth.role.{role}"))
    assert (read_only in [i.value for i in at.info]) != allowed.import_data
    assert len(at.dataframe) >= 1  # the import history is visible to every role


@pytest.mark.parametrize("username", list(ACCOUNTS))
def test_charts_and_the_deck_are_open_to_every_role(roles_env, with_accounts, username):
    at = sign_in(username, page="pages/satisfaction.py")
    images = [b for b in at.get("download_button") if "_image_" in b.key]
    assert len(images) == 2 * len(at.get("vega_lite_chart")) > 0
    assert [b for b in at.get("download_button") if b.key.startswith("dl_sat_breakdown")]
    at.switch_page("pages/overview.py")
    at.run()
    assert [b for b in at.button if b.key == "deck_build"]


def test_an_agents_list_export_is_recorded_under_the_agents_name(roles_env, with_accounts, fetch_download):
    at = sign_in("chenjing", page="pages/churn.py")
    button = next(b for b in at.get("download_button") if b.key == "churn_list_dl_csv")
    fetch_download(button)  # the browser's request for the file, with or without the click
    who, role, action, detail = audit_rows()[-1]
    assert (who, role, action) == ("chenjing", "agent", "export")
    assert detail["file_format"] == "csv" and detail["has_phone"] is True and detail["rows"] > 0
    assert detail["what"].startswith("churn_list_")


def test_a_cs_leads_import_and_rollback_are_recorded_under_the_leads_name(
    tmp_path, monkeypatch, with_accounts
):
    monkeypatch.setenv("ANALYTICS_DB", str(tmp_path / "lead.duckdb"))
    at = sign_in("zhangli", page="pages/data.py")
    at.file_uploader(key="uploads").set_value((GOLDEN.name, GOLDEN.read_bytes(), "text/csv")).run()
    at.button(key="import_0").click().run()
    assert not at.exception and at.success
    at.checkbox(key="rollback_ok").check().run()
    at.button(key="rollback_go").click().run()
    assert not at.exception
    events = audit_rows()
    assert [(who, role, action) for who, role, action, _ in events] == [
        ("zhangli", "cs_lead", "sign_in"),
        ("zhangli", "cs_lead", "import"),
        ("zhangli", "cs_lead", "rollback"),
    ]
    assert events[1][3] == {
        "import_id": 1,
        "file": GOLDEN.name,
        "kind": "service",
        "inserted": 8,
        "updated": 0,
        "rejected": 0,
    }
    assert events[2][3] == {"import_id": 1, "deleted": 8, "restored": 0, "kept": 0}
    from ui.data import reading

    with reading() as cur:
        assert cur.execute("SELECT imported_by FROM imports").fetchall() == [("zhangli",)]
    assert json.loads(json.dumps(events[2][3]))  # details are plain JSON
