"""Real-browser checks: Debian's Chromium driven by Playwright against a running server."""

from __future__ import annotations

import shutil

import pytest

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Debian chromium is not installed (scripts/test.sh installs it)"
    ),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_open_switch_language_and_use_the_data_page(browser, demo_db, tmp_path):
    from playwright.sync_api import expect

    # The test process may hold the shared demo open (AppTests); the server gets its own copy.
    db_copy = tmp_path / "browser.duckdb"
    shutil.copy(demo_db, db_copy)
    with serve(db_copy) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar).to_be_visible(timeout=60_000)
        # Default language is Chinese: the sidebar's month picker says 月份.
        expect(sidebar.get_by_text("月份", exact=True)).to_be_visible(timeout=60_000)
        sidebar.get_by_role("radio", name="English").click()
        expect(sidebar.get_by_text("Month", exact=True)).to_be_visible(timeout=30_000)
        # The language persists while moving to the Data page.
        sidebar.get_by_role("link", name="Data").click()
        expect(page.get_by_role("heading", name="Data: import, history, quality")).to_be_visible(
            timeout=30_000
        )
        page.get_by_role("tab", name="Import history").click()
        expect(page.get_by_text("Roll back", exact=True).first).to_be_visible(timeout=30_000)
        page.get_by_role("tab", name="Data quality").click()
        expect(page.get_by_text("Invalid VINs (length, characters or check digit)").first).to_be_visible(
            timeout=30_000
        )
        page.close()


def test_a_deep_link_as_the_first_request_runs_through_the_entrypoint(browser, demo_db, tmp_path):
    from playwright.sync_api import expect

    db_copy = tmp_path / "deeplink.duckdb"
    shutil.copy(demo_db, db_copy)
    with serve(db_copy) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/about")
        sidebar = page.get_by_test_id("stSidebar")
        # The app's own navigation (sections and titles from app.py), not the file list.
        expect(sidebar.get_by_text("看板", exact=True)).to_be_visible(timeout=60_000)
        expect(sidebar.get_by_role("link", name="总览")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("heading", name="指标口径与使用说明")).to_be_visible(timeout=30_000)
        page.close()


def test_sign_in_as_the_manager_on_a_deep_link_and_sign_out(
    browser, demo_db, tmp_path, monkeypatch, accounts_text
):
    from playwright.sync_api import expect

    from tests.conftest import ACCOUNTS

    db_copy = tmp_path / "signin.duckdb"
    shutil.copy(demo_db, db_copy)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(accounts_text, encoding="utf-8")
    monkeypatch.setenv("ANALYTICS_SECRETS", str(secrets))
    with serve(db_copy) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/churn")
        expect(page.get_by_role("heading", name="登录")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("流失客户识别")).to_have_count(0)
        page.get_by_label("用户名").fill("wangqiang")
        page.get_by_label("密码", exact=True).fill(ACCOUNTS["wangqiang"][2])
        page.get_by_role("button", name="登录").click()
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("当前用户：王强 · 总经理")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("heading", name="流失客户识别")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("您的角色（总经理）不能导出清单").first).to_be_visible(timeout=30_000)
        sidebar.get_by_role("button", name="退出登录").click()
        expect(page.get_by_role("heading", name="登录")).to_be_visible(timeout=30_000)
        page.close()
