"""Take full-page screenshots of every page in headless Chromium (for looking at the app).

Usage: .venv/bin/python scripts/screenshots.py DB_PATH OUT_DIR [--lang en|zh] [PAGE_URL_PATH ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from analytics.devtools.bench_browser import wait_drawn  # noqa: E402
from tests.streamlit_server import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402


def main(argv: list[str]) -> int:
    db, out = Path(argv[0]), Path(argv[1])
    rest = argv[2:]
    lang = "zh"
    if rest[:1] == ["--lang"]:
        lang, rest = rest[1], rest[2:]
    pages = rest or ["", "satisfaction", "themes", "churn", "maintenance", "data", "about"]
    out.mkdir(parents=True, exist_ok=True)
    with serve(db) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 2400})
        for path in pages:
            page.goto(f"{url}/{path}")
            page.wait_for_selector("[data-testid='stSidebar']", timeout=60000)
            # The first paint can show Streamlit's file-based page list; wait for our own sidebar.
            page.wait_for_selector("[data-testid='stSidebar'] [role='radio']", timeout=60000)
            if lang == "en":
                button = page.get_by_role("radio", name="English")
                if button.count():
                    button.first.click()
            page.wait_for_timeout(500)
            # Drawn as the bench counts it: script done, no skeleton, every chart on screen drawn.
            wait_drawn(page, time.perf_counter())
            target = out / f"{path or 'home'}_{lang}.png"
            page.screenshot(path=str(target), full_page=True)
            print(target)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
