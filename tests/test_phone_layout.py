"""The phone layout at 390 px and the desktop layout at 1500 px, in a real browser (issue 18).

On a phone the overview's red flags are on the first screen, its tiles pack two to a row
without sparklines, nothing scrolls sideways, and choosing a page closes the sidebar; on a
desktop the tiles come first with their sparklines. Screenshots of both are kept in the test's
folder for a person to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, serve

ROOT = Path(__file__).resolve().parents[1]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1500, "height": 1000}
FLAGS = "重点关注"  # the red flags' heading (overview.red_flags)

browser_only = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Debian chromium is not installed (scripts/test.sh installs it)"
    ),
]


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (scripts/test.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    folder = tmp_path_factory.mktemp("phone")
    db_copy = folder / "phone.duckdb"
    shutil.copy(demo_db, db_copy)
    with serve(db_copy) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield url, browser, folder
        browser.close()


def _overview(browser, url: str, viewport: dict[str, int]):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=viewport)
    page.goto(f"{url}/overview?lang=zh")
    expect(page.get_by_role("heading", name=FLAGS)).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("stMetric").nth(11)).to_be_visible(timeout=120_000)
    page.wait_for_timeout(1000)  # the last layout pass after the tiles' charts
    return page


@pytest.mark.browser
def test_on_a_phone_the_red_flags_are_on_the_first_screen_and_tiles_pack_two_to_a_row(server):
    url, browser, folder = server
    page = _overview(browser, url, PHONE)
    page.screenshot(path=str(folder / "overview_390.png"))
    flags = page.get_by_role("heading", name=FLAGS).bounding_box()
    assert flags is not None and flags["y"] < PHONE["height"] - 100
    tiles = [page.get_by_test_id("stMetric").nth(i).bounding_box() for i in range(4)]
    assert all(tiles)
    first, second, third = tiles[0], tiles[1], tiles[2]
    assert abs(first["y"] - second["y"]) < 2 and second["x"] > first["x"] + first["width"] - 1
    assert third["y"] > first["y"] + first["height"] - 1  # the third starts the next row
    assert first["width"] < PHONE["width"] / 2
    assert not page.get_by_test_id("stMetricChart").first.is_visible()
    # No tile's change is cut short: session 44 saw "+¥114,566 (+15…" on the revenue tile.
    cut = page.get_by_test_id("stMetricDelta").evaluate_all(
        "els => els.flatMap(e => [e, ...e.querySelectorAll('*')])"
        ".filter(x => x.scrollWidth > x.clientWidth + 1).map(x => x.innerText)"
    )
    assert page.get_by_test_id("stMetricDelta").count() >= 4 and cut == []
    # The test's small demo has short changes ("+¥3,232 (+4%)"), so the rule itself is read too: a
    # change wraps rather than ending in "…".
    styles = page.get_by_test_id("stMetricDelta").evaluate_all(
        "els => els.map(e => getComputedStyle(e.querySelector('.stMarkdownEllipsis')))"
        ".map(s => [s.whiteSpace, s.textOverflow])"
    )
    assert styles and all(style == ["normal", "clip"] for style in styles), styles
    # Nothing on the page is wider than the phone (tables scroll inside themselves).
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.close()


@pytest.mark.browser
def test_on_a_desktop_the_tiles_come_first_with_their_sparklines(server):
    url, browser, folder = server
    page = _overview(browser, url, DESKTOP)
    page.screenshot(path=str(folder / "overview_1500.png"))
    flags = page.get_by_role("heading", name=FLAGS).bounding_box()
    first = page.get_by_test_id("stMetric").first.bounding_box()
    assert flags is not None and first is not None and first["y"] < flags["y"]
    assert page.get_by_test_id("stMetricChart").first.is_visible()
    row = [page.get_by_test_id("stMetric").nth(i).bounding_box() for i in range(4)]
    assert len({round(box["y"]) for box in row if box}) == 1  # four tiles side by side
    page.close()


@pytest.mark.browser
def test_tile_labels_are_written_whole_not_cut_with_an_ellipsis(server):
    """On a 1400 px screen the English overview read "Due-maintenance return r…" (and the data
    page's quality tiles "Possible duplicate ord…"): a label wraps instead."""
    from playwright.sync_api import expect

    url, browser, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/overview?lang=en")
    expect(page.get_by_test_id("stMetric").nth(11)).to_be_visible(timeout=120_000)
    page.wait_for_timeout(1000)
    # The text's own width against its box's (a fraction of a pixel over is enough for the "…").
    cut = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stMetricLabel"] .stMarkdownEllipsis')]
        .filter((e) => {
            const text = document.createRange();
            text.selectNodeContents(e);
            return text.getBoundingClientRect().width > e.getBoundingClientRect().width + 0.01;
        }).map((e) => e.textContent)"""
    )
    assert cut == []
    page.close()


@pytest.mark.browser
def test_on_a_phone_choosing_a_page_closes_the_sidebar(server):
    from playwright.sync_api import expect

    url, browser, _ = server
    page = _overview(browser, url, PHONE)
    sidebar = page.get_by_test_id("stSidebar")
    page.get_by_test_id("stExpandSidebarButton").click()
    link = sidebar.get_by_role("link", name="流失客户", exact=True)
    expect(link).to_be_visible(timeout=30_000)
    link.click()
    expect(page.get_by_role("heading", name="流失客户识别")).to_be_visible(timeout=120_000)
    expect(sidebar).to_have_attribute("data-collapsed", "true", timeout=30_000)
    page.close()


def test_call_lists_put_name_phone_and_reason_first(demo_env):
    # What the agent needs is in the first columns, so a phone shows it without scrolling sideways.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.switch_page("pages/churn.py")
    at.run()
    assert not at.exception
    # The ranked list and the call list the specialist dials from (it began with the VIN and plate).
    churn_lists = [d for d in at.dataframe if "reasons" in d.value.columns]
    assert len(churn_lists) == 2
    for churn_list in churn_lists:
        assert list(churn_list.proto.column_order)[:3] == ["customer_name", "phone", "reasons"]
        # Session 43: the last call (its day, and whether it was answered) beside the status.
        assert list(churn_list.proto.column_order)[3:5] == ["status", "last_call"]
    at.switch_page("pages/maintenance.py")
    at.run()
    assert not at.exception
    invitations = next(d for d in at.dataframe if "items_due" in list(d.proto.column_order))
    assert list(invitations.proto.column_order)[:3] == ["customer_name", "phone", "items_due"]


@pytest.mark.browser
def test_the_uploader_speaks_chinese_in_the_chinese_interface(server):
    from playwright.sync_api import expect

    url, browser, folder = server
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{url}/data?lang=zh")
    zone = page.get_by_test_id("stFileUploaderDropzone").first
    expect(zone).to_be_visible(timeout=120_000)
    page.screenshot(path=str(folder / "data_uploader_zh.png"))
    words = page.evaluate(
        """() => {
          const after = (el) => getComputedStyle(el, '::after').content;
          const zone = document.querySelector('[data-testid="stFileUploaderDropzone"]');
          const button = zone.querySelector('[data-testid="stBaseButton-secondary"] p');
          const limit = zone.querySelector('[data-testid="stFileUploaderDropzoneInstructions"] span');
          return {button: after(button), limit: after(limit),
                  hidden: [button, limit].map((el) => getComputedStyle(el).fontSize)};
        }"""
    )
    assert words["button"] == '"选择文件"' and words["limit"].startswith('"每个文件不超过')
    assert words["hidden"] == ["0px", "0px"]  # Streamlit's English words take no room
    page.goto(f"{url}/data?lang=en")
    expect(page.get_by_test_id("stFileUploaderDropzone").first).to_be_visible(timeout=120_000)
    english = page.evaluate(
        """() => getComputedStyle(document.querySelector(
             '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] p'), '::after').content"""
    )
    assert english in ("none", "normal")
    page.close()
