"""The bench's browser section: a page timed in headless Chromium, and its budgets in the verdict."""

from __future__ import annotations

import shutil

import pytest

from analytics.devtools import bench, bench_browser
from tests.streamlit_server import CHROMIUM


def test_the_pages_measured_are_the_app_pages_without_the_roots_redirect():
    assert bench_browser.pages_of_app() == [
        "overview",
        "satisfaction",
        "themes",
        "churn",
        "maintenance",
        "data",
        "about",
    ]


def _result(browser: dict, orders: int = 36_000) -> dict:
    return {"orders": orders, "pages": {}, "queries": {}, "import_rows_per_s": {}, "browser": browser}


def test_the_verdict_holds_browser_pages_and_chart_images_to_their_budgets():
    browser = {
        "pages": {
            "overview": {"zh": {"cold_s": 5.9, "warm_s": 3.0, "charts": 0}},
            "churn": {"en": {"cold_s": 6.1, "warm_s": 3.5, "charts": 4}, "zh": {"error": "not drawn"}},
        },
        "export": {
            "zh": {"png_s": 1.9, "svg_s": 2.4, "png_menu_s": 2.5, "svg_menu_s": 0.4},
            "en": {"error": "The chart's PNG did not arrive within 120 s."},
        },
    }
    misses = bench.verdict(_result(browser))["misses"]
    assert misses == [
        "browser churn (en) warm 3.5 s > 3.0 s",
        "browser churn (en) cold 6.1 s > 6.0 s",
        "browser churn (zh): not drawn",
        "chart menu (zh) 2.5 s until its png button shows > 2.0 s",
        "chart svg (zh) 2.4 s after the click > 2.0 s",
        "chart image (en): The chart's PNG did not arrive within 120 s.",
    ]
    # At a million work orders a warm page may take four seconds, and a cold one is not budgeted.
    group = bench.verdict(_result(browser, orders=1_000_000))["misses"]
    assert not [m for m in group if m.startswith("browser churn (en)")] and len(group) == 4
    browser["pages"]["churn"]["en"]["warm_s"] = 4.2
    assert (
        "browser churn (en) warm 4.2 s > 4.0 s" in bench.verdict(_result(browser, orders=1_000_000))["misses"]
    )
    table = bench.browser_markdown(browser, bench.BUDGETS)
    assert "| churn | en | 6.10 | 4.20 | 4 |" in table
    assert "| chart image after the click | en | error | error | |" in table


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")
def test_a_page_is_timed_cold_and_warm_until_drawn_and_a_chart_image_until_it_arrives(demo_db, tmp_path):
    pytest.importorskip("playwright.sync_api")
    db_copy = tmp_path / "bench_browser.duckdb"
    shutil.copy(demo_db, db_copy)
    result = bench_browser.measure(db_copy, pages=["themes"], langs=("en",), export_page="themes")
    timing = result["pages"]["themes"]["en"]
    assert "error" not in timing, timing
    assert timing["charts"] >= 1
    assert 0 < timing["cold_s"] < bench_browser.PAGE_TIMEOUT_S
    assert len(timing["warm_runs"]) == bench_browser.WARM_RUNS and timing["warm_s"] == max(
        timing["warm_runs"]
    )
    image = result["export"]["en"]
    assert image["png_s"] > 0 and image["svg_s"] > 0 and image["png_menu_s"] > 0
    assert image["png_bytes"] > 10_000 and image["svg_bytes"] > 1_000


def test_a_server_whose_port_was_taken_before_it_bound_starts_again_on_another(demo_db, monkeypatch):
    # Test workers start servers side by side: the port found free is taken by another program
    # (here a socket listening on it, which never answers) before this server binds it.
    import socket
    import urllib.request

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    ports = [int(taken.getsockname()[1])]
    found = bench_browser.free_port

    def first_taken() -> int:
        return ports.pop(0) if ports else found()

    monkeypatch.setattr(bench_browser, "free_port", first_taken)
    try:
        with bench_browser.serve(demo_db, timeout=120) as url:
            assert not url.endswith(f":{taken.getsockname()[1]}")
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as resp:
                assert resp.read().strip() == b"ok"
            # What a test says of a server a session lost: running, and the end of its log.
            assert bench_browser.server_state(url).startswith("running; log: ")
        assert bench_browser.server_state(url) == "not a running server of serve()"
    finally:
        taken.close()
    assert not ports  # the taken port was tried first
