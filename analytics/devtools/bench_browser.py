"""The bench's ``browser`` section: what a person waits for, measured in headless Chromium.

``AppTest`` times only the server's script. Here a real ``streamlit run app.py`` serves the
database and Playwright drives the system Chromium; for every page and language it measures the
seconds from opening the page's link until it is fully drawn:

- Streamlit reports no script running (``stApp``'s ``data-test-script-state`` is
  ``notRunning``), the page's title is on screen and nothing is still a loading skeleton;
- every chart on screen is drawn: each plotly chart (``.js-plotly-plot``) holds its ``.main-svg``,
  each Vega-Lite chart (the pages' charts and the overview's sparklines) has drawn a mark (a
  chart in a tab that is not open is drawn when that tab is opened, and is not waited for);
- and that state holds, with the same number of charts, for ``STABLE_S`` (a page that reruns
  itself, or whose charts keep arriving, is not drawn yet). The time reported is when the
  stable state began, not when the wait for stability ended.

*Cold* is the first visit to the page on a freshly started server (process caches empty);
*warm* is a new visitor opening the same link on that server afterwards. The export figures are
the time from clicking a chart's PNG or SVG download to the file arriving in the browser, and
from opening the chart's PNG / SVG menu to its buttons showing (opening it starts both images).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from analytics.core.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
LANGS: tuple[str, ...] = ("zh", "en")
STABLE_S = 1.0
POLL_S = 0.05
PAGE_TIMEOUT_S = 120.0
WARM_RUNS = 2
VIEWPORT = {"width": 1500, "height": 950}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The chart export menu's button and its two downloads, as data/i18n.toml words them.
EXPORT_MENU = "PNG / SVG"
EXPORT_LABELS = {"zh": {"png": "保存 PNG", "svg": "保存 SVG"}, "en": {"png": "Save PNG", "svg": "Save SVG"}}

STATE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  // Charts on screen: one in a tab that is not open is drawn when the tab is opened.
  const shown = (c) => c.getClientRects().length > 0;
  const plotly = Array.from(document.querySelectorAll('.js-plotly-plot')).filter(shown);
  // Vega-Lite charts (st.vega_lite_chart, st.metric sparklines) count as drawn once a mark holds
  // an item: an SVG whose marks are still empty is a chart waiting for its data.
  const vega = Array.from(
    document.querySelectorAll('[data-testid="stVegaLiteChart"], [data-testid="stMetricChart"]')
  ).filter(shown);
  const vegaDrawn = (c) =>
    c.querySelector('canvas') !== null ||
    Array.from(c.querySelectorAll('svg.marks .role-mark')).some((g) => g.childElementCount > 0);
  return {
    state: app ? app.getAttribute('data-test-script-state') : null,
    title: document.querySelectorAll('[data-testid="stMain"] h1').length,
    charts: plotly.length + vega.length,
    drawn: plotly.filter((c) => c.querySelector('.main-svg')).length + vega.filter(vegaDrawn).length,
    skeletons: document.querySelectorAll('[data-testid="stSkeleton"]').length,
    exception: document.querySelectorAll('[data-testid="stException"]').length,
  };
}"""


def pages_of_app() -> list[str]:
    """Return the URL path of every page ``app.py`` registers, in its order (not the root's hidden
    page, which only moves on to the overview)."""
    return [p for p in re.findall(r'url_path="([a-z_]+)"', APP.read_text(encoding="utf-8")) if p != "home"]


def chromium() -> str:
    """Return the system Chromium's path; a sentence saying how to install it when there is none."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise UserError("The browser bench needs Chromium: apt-get install chromium fonts-noto-cjk.")
    return found


def free_port() -> int:
    """Return a TCP port free on localhost now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(db_file: Path, timeout: float = 120.0, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run ``streamlit run app.py`` on a free port against ``db_file`` (no accounts unless the
    environment or ``env``, added to it, names a secrets file); yield its URL.

    A port found free can be taken by another program before the server binds it (the test
    workers start servers side by side): a server that exits on start is started again on
    another port, twice at most, and one is used only while it runs (the health check could
    otherwise be answered by the program that took its port)."""
    env = {"ANALYTICS_SECRETS": os.devnull, **os.environ, "ANALYTICS_DB": str(db_file), **(env or {})}
    deadline = time.monotonic() + timeout
    for attempt in range(3):
        port = free_port()
        # The server's log goes to a file, not a pipe nobody reads while it runs: a full pipe
        # (64 KB) blocks the server mid-page. No file watcher: a served bench or test never reloads
        # on an edit, and the watcher's inotify overflow messages filled that pipe when other jobs
        # wrote files.
        log = tempfile.TemporaryFile()
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--server.fileWatcherType", "none", "--server.runOnSave", "false"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            if _healthy(url, proc, deadline, log, last=attempt == 2):
                _logs[url] = (proc, log)
                yield url
                return
        finally:
            _logs.pop(url, None)
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


# The running servers' processes and logs, by URL, for ``server_state``.
_logs: dict[str, tuple[subprocess.Popen[bytes], Any]] = {}


def server_state(url: str, chars: int = 2000) -> str:
    """Return whether the server ``serve`` runs at ``url`` is still running (or how it exited) and
    the end of its log, for a test to say what a server did when a session lost it."""
    if url not in _logs:
        return "not a running server of serve()"
    proc, log = _logs[url]
    code = proc.poll()
    # Read without moving the file's offset: the server writes through the same open file.
    size = os.fstat(log.fileno()).st_size
    text = os.pread(log.fileno(), chars * 4, max(size - chars * 4, 0)).decode(errors="replace")
    state = "running" if code is None else f"exited with {code}"
    return f"{state}; log: {text[-chars:] or '(empty)'}"


def _healthy(url: str, proc: subprocess.Popen[bytes], deadline: float, log: Any, last: bool) -> bool:
    """Wait until the server ``proc`` answers at ``url``; return False when it exited first (its
    port taken), unless this was the ``last`` try; raise UserError when it did not start."""
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok" and proc.poll() is None:
                    return True
        except OSError:
            pass
        exited = proc.poll() is not None
        if exited and not last and time.monotonic() < deadline:
            return False
        if exited or time.monotonic() > deadline:
            log.seek(0)
            err = log.read().decode(errors="replace")
            raise UserError(f"The dashboard server did not start: {err.strip()[-300:]}")
        time.sleep(0.2)


def wait_drawn(page: Any, started: float, timeout: float = PAGE_TIMEOUT_S) -> dict[str, Any]:
    """Poll the page until it is fully drawn and stable; return the seconds since ``started`` and the chart count."""
    stable_since: float | None = None
    charts = -1
    deadline = started + timeout
    while True:
        now = time.perf_counter()
        s = page.evaluate(STATE_JS)
        if s["exception"]:
            raise UserError(f"The page showed an error: {page.url}")
        done = (
            s["state"] == "notRunning"
            and s["title"] > 0
            and s["skeletons"] == 0
            and s["drawn"] == s["charts"]
        )
        if done and s["charts"] == charts and stable_since is not None:
            if now - stable_since >= STABLE_S:
                return {"s": round(stable_since - started, 2), "charts": charts}
        elif done:
            stable_since, charts = now, s["charts"]
        else:
            stable_since, charts = None, -1
        if now > deadline:
            shown = page.evaluate("() => document.body.innerText.slice(0, 300)")
            raise UserError(f"{page.url} was not fully drawn within {timeout:.0f} s ({s}; {shown!r}).")
        time.sleep(POLL_S)


def open_drawn(context: Any, url: str) -> tuple[Any, dict[str, Any]]:
    """Open ``url`` in a new tab of ``context``; return the tab and how long it took to be fully drawn."""
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    return page, wait_drawn(page, started)


def _settled(page: Any, timeout: float = 30.0) -> None:
    # Until no script (or fragment) runs: a button drawn by a run still going may be replaced.
    deadline = time.perf_counter() + timeout
    while page.evaluate(STATE_JS)["state"] != "notRunning":
        if time.perf_counter() > deadline:
            raise UserError(f"{page.url} kept running for {timeout:.0f} s after a click.")
        time.sleep(POLL_S)


def time_export(page: Any, lang: str) -> dict[str, float]:
    """Open the first chart's PNG / SVG menu and click each download; return the seconds from
    each click to the file arriving, and from opening the menu to its buttons showing."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    out: dict[str, float] = {}
    menu = page.get_by_role("button", name=EXPORT_MENU).first
    for fmt in ("png", "svg"):
        button = page.get_by_role("button", name=EXPORT_LABELS[lang][fmt]).first
        opened = time.perf_counter()
        menu.click()
        try:
            button.wait_for(state="visible", timeout=30_000)
            _settled(page)
            out[f"{fmt}_menu_s"] = round(time.perf_counter() - opened, 2)
            with page.expect_download(timeout=PAGE_TIMEOUT_S * 1000) as info:
                clicked = time.perf_counter()
                button.click()
            path = info.value.path()  # waits until the file is complete
        except PlaywrightTimeout:
            raise UserError(
                f"The chart's {fmt.upper()} did not arrive within {PAGE_TIMEOUT_S:.0f} s."
            ) from None
        out[f"{fmt}_s"] = round(time.perf_counter() - clicked, 2)
        out[f"{fmt}_bytes"] = os.path.getsize(path) if path else 0
        # Closed again (and its buttons gone) before the next opening, as a person's next click finds it.
        page.keyboard.press("Escape")
        button.wait_for(state="hidden", timeout=30_000)
        _settled(page)
    return out


def _measure_page(
    browser: Any, db_file: Path, name: str, lang: str, export: bool
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    exported: dict[str, Any] | None = None
    with serve(db_file, env={"ANALYTICS_SECRETS": os.devnull}) as url:  # the bench measures without accounts
        link = f"{url}/{name}?lang={lang}"
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        try:
            tab, cold = open_drawn(context, link)
            tab.close()
            warm_runs: list[float] = []
            for run in range(WARM_RUNS):
                tab, warm = open_drawn(context, link)
                warm_runs.append(warm["s"])
                if export and run == WARM_RUNS - 1 and warm["charts"]:
                    try:
                        exported = time_export(tab, lang)
                    except UserError as exc:  # the page's timings stand; the images say what failed
                        exported = {"error": str(exc)}
                tab.close()
        finally:
            context.close()
    timing = {"cold_s": cold["s"], "warm_s": max(warm_runs), "warm_runs": warm_runs, "charts": cold["charts"]}
    return timing, exported


def measure(
    db_file: Path,
    *,
    pages: list[str] | None = None,
    langs: tuple[str, ...] = LANGS,
    export_page: str | None = "satisfaction",
    progress: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Return seconds until each page is fully drawn, cold and warm, per language, and the chart export times.

    ``{"pages": {page: {lang: {"cold_s", "warm_s", "warm_runs", "charts"}}}, "export": {lang: {...}}}``.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise UserError(
            "The browser bench needs Playwright: .venv/bin/pip install -r requirements-dev.txt."
        ) from None
    browser_path = chromium()
    names = pages or pages_of_app()
    result: dict[str, Any] = {"pages": {p: {} for p in names}, "export": {}}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=CHROMIUM_ARGS)
        try:
            for lang in langs:
                for name in names:
                    progress(f"browser: {name} ({lang}) on a fresh server")
                    try:
                        timing, export = _measure_page(browser, db_file, name, lang, name == export_page)
                    except UserError as exc:
                        timing, export = {"error": str(exc)}, None
                    result["pages"][name][lang] = timing
                    if export is not None:
                        result["export"][lang] = export
                    progress(f"browser: {name} ({lang}) {timing} {export or ''}")
        finally:
            browser.close()
    return result
