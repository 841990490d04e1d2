"""A link opened in a real browser reopens the view it names; charts export with stores and as-of date."""

from __future__ import annotations

import shutil
import time

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


def test_a_link_opens_page_language_and_month_and_the_chart_image_names_its_scope(browser, demo_db, tmp_path):
    from playwright.sync_api import expect

    db_copy = tmp_path / "links.duckdb"
    shutil.copy(demo_db, db_copy)
    with serve(db_copy) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        page.goto(f"{url}/satisfaction?lang=en&month=2025-03")
        expect(page.get_by_role("heading", name="Satisfaction trends · 2025-03")).to_be_visible(
            timeout=90_000
        )
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Month", exact=True)).to_be_visible(timeout=30_000)
        # The link still says what is shown, window included, so it can be passed on.
        deadline = time.monotonic() + 30
        while "window=12" not in page.url and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "lang=en" in page.url and "month=2025-03" in page.url and "window=12" in page.url
        assert "/satisfaction" in page.url
        # No Deploy button for users.
        expect(page.get_by_text("Deploy", exact=True)).to_have_count(0)
        # A chart image carries the store and the as-of date of the month in the link.
        page.get_by_role("button", name="PNG / SVG").first.click()
        with page.expect_download(timeout=120_000) as info:
            page.get_by_role("button", name="Save SVG").first.click()
        svg = open(info.value.path(), encoding="utf-8").read()
        assert "data as of 2025-03-31" in svg
        page.close()


def test_overview_has_its_own_url_and_the_root_moves_on_to_it(browser, demo_db, tmp_path):
    from playwright.sync_api import expect

    db_copy = tmp_path / "overview.duckdb"
    shutil.copy(demo_db, db_copy)
    with serve(db_copy) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/overview?lang=en")
        expect(page.get_by_role("heading", name="Overview ·")).to_be_visible(timeout=90_000)
        expect(page.get_by_text("Page not found")).to_have_count(0)
        root = browser.new_page(viewport={"width": 1400, "height": 900})
        root.goto(f"{url}/?month=2025-06")
        expect(root.get_by_role("heading", name="总览 · 2025-06")).to_be_visible(timeout=90_000)
        deadline = time.monotonic() + 30
        while "/overview" not in root.url and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "/overview" in root.url and "month=2025-06" in root.url
        page.close()
        root.close()


def test_chosen_filter_options_follow_a_language_switch(browser, demo_db, tmp_path):
    """A multiselect tells its chosen options apart by their labels: after a switch to English the
    churn list's status chips kept reading 已流失 / 流失预警 until the page handed the widget its
    value again (``ui.state.relabel``)."""
    from playwright.sync_api import expect

    db_copy = tmp_path / "relabel.duckdb"
    shutil.copy(demo_db, db_copy)
    with serve(db_copy) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(f"{url}/churn")
        chips = page.locator(".react-aria-ComboBox [data-testid='stMultiSelectTagsContainer'] span[title]")
        expect(chips.filter(has_text="已流失")).to_have_count(1, timeout=90_000)
        expect(chips.filter(has_text="流失预警")).to_have_count(1, timeout=30_000)
        page.get_by_test_id("stSidebar").get_by_role("radio", name="English").click()
        expect(page.get_by_role("heading", name="Churn: lost and at-risk customers")).to_be_visible(
            timeout=60_000
        )
        expect(chips.filter(has_text="Lost")).to_have_count(1, timeout=30_000)
        expect(chips.filter(has_text="At risk")).to_have_count(1, timeout=30_000)
        expect(chips.filter(has_text="已流失")).to_have_count(0)
        # The choice itself is kept, and no warning about a default beside a set value shows.
        expect(page.get_by_text("Session State API")).to_have_count(0)
        page.get_by_test_id("stSidebar").get_by_role("radio", name="简体中文").click()
        expect(chips.filter(has_text="已流失")).to_have_count(1, timeout=30_000)
        page.close()
