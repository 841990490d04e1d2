"""Real-browser checks: Debian's Chromium driven by Playwright against a running server."""

from __future__ import annotations

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


def test_open_switch_language_and_use_the_data_page(browser, demo_db):
    from playwright.sync_api import expect

    with serve(demo_db) as url:
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
