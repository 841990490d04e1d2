"""Charts as slide-sized images on the server: PNG at 2x and SVG, through kaleido and the system Chromium.

Kaleido drives a headless Chromium; starting it costs seconds, so the process keeps one open
(started on the first image, or ahead of it by ``warm_up``) and draws every image in it. Chinese needs a CJK font on the machine (fonts-noto-cjk);
the chart theme names it first.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import hashlib
import html
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import plotly.graph_objects as go

from analytics.core.auth import mask_text
from analytics.core.errors import UserError
from analytics.core.i18n import text

WIDTH, HEIGHT = 1600, 900  # a 16:9 slide at 1600 layout pixels
PNG_SCALE = 2
FORMATS: tuple[str, ...] = ("png", "svg")
MIME: dict[str, str] = {"png": "image/png", "svg": "image/svg+xml"}
FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, SimHei, sans-serif"
INSTALL_COMMAND = "apt-get install chromium fonts-noto-cjk"


class ChromiumMissing(UserError):
    """No Chromium-based browser was found for kaleido to draw with."""


def chromium_path() -> str | None:
    """Return the Chromium kaleido would start (``BROWSER_PATH`` first), or None when there is none."""
    from choreographer.browsers.chromium import Chromium

    found = Chromium.find_browser(skip_local=False)
    if found and os.path.isfile(found) and os.access(found, os.X_OK):
        return str(found)
    return None


def install_hint(lang: str = "en") -> str:
    """Return the sentence telling how to install Chromium and the CJK fonts, in ``lang``."""
    return text("export.chromium_missing", lang, command=INSTALL_COMMAND)


# Trace attributes that carry data (advisor names on an axis, store names in a legend): plotly
# draws <a href>, <b> and entities in them, so their text is HTML-escaped.
_DATA_TEXT = ("x", "y", "labels", "text", "hovertext", "name", "ids", "parents")


def _each_text(value: object, change: Callable[[str], object]) -> object:
    """Return ``value`` with ``change`` applied to its text: a string, or each string of a list or array."""
    if isinstance(value, str):
        return change(value)
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if isinstance(value, (list, tuple)) or kind in ("O", "U", "T"):
        items = cast("Iterable[object]", value)  # a list, or a numpy array of text
        return [change(v) if isinstance(v, str) else v for v in items]
    return value


def _map_text(fig: go.Figure, change: Callable[[str], object]) -> go.Figure:
    """Apply ``change`` to the text of every trace's data and to the axes' category names."""
    for trace in fig.data:
        for attr in _DATA_TEXT:
            value = trace[attr] if attr in trace else None
            if value is not None:
                trace[attr] = _each_text(value, change)
    for axis_name in [k for k in fig.layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]:
        axis = fig.layout[axis_name]
        for attr in ("categoryarray", "ticktext", "tickvals"):
            if axis[attr] is not None:
                axis[attr] = _each_text(axis[attr], change)
    return fig


def mask_data(fig: go.Figure) -> go.Figure:
    """Mask the personal numbers in every trace's text and the axes' category names (an advisor
    typed with a mobile): a chart and its PNG/SVG go to every role, as the deck's charts do."""
    return _map_text(fig, mask_text)


def _as_text(value: str) -> str:
    # A name from data as plotly must show it: personal numbers masked, markup as text.
    return html.escape(str(mask_text(value)), quote=False)


_ESCAPED_BREAK = html.escape("<br>", quote=False)


def escape_data(fig: go.Figure) -> go.Figure:
    """Escape the text of every trace's data (and the category order naming it) so plotly shows a
    name such as ``<a href=...>`` as text; a ``<br>`` stays the line break a chart breaks a long
    label with (escaped, the image showed "work order<br>not imported")."""
    return _map_text(fig, lambda text: html.escape(text, quote=False).replace(_ESCAPED_BREAK, "<br>"))


def for_export(fig: go.Figure, title: str | None, source: str | None, note: str | None = None) -> go.Figure:
    """Return a copy of ``fig`` laid out for a slide: title top left with ``note`` (stores, as-of date)
    under it, source line bottom right, room for all three.

    Every image goes through here, from a page or the deck: the data's text (names on the axes and
    in the legend, stores in ``note`` and ``source``) is masked and written as text, never as
    plotly's HTML, so ``fig`` holds the data as it reads (not yet escaped)."""
    out = escape_data(mask_data(go.Figure(fig)))
    title, source, note = (None if s is None else _as_text(s) for s in (title, source, note))
    layout: dict[str, Any] = {
        "width": WIDTH,
        "height": HEIGHT,
        "font": {"family": FONT_FAMILY},
        "paper_bgcolor": "white",
    }
    margin = out.layout.margin
    layout["margin"] = {
        "l": max(margin.l or 0, 70),
        "r": max(margin.r or 0, 40),
        "t": max(margin.t or 0, 150 if title and note else 130 if title or note else 80),
        "b": max(margin.b or 0, 130),
    }
    # On a page the legend sits under the plot; on a slide it goes under the title, leaving the
    # bottom margin to the axis labels and the source line.
    layout["legend"] = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"}
    if title:
        layout["title"] = {"text": title, "x": 0.02, "xanchor": "left", "font": {"size": 24}}
        if note:
            layout["title"]["subtitle"] = {"text": note, "font": {"size": 15, "color": "#555"}}
    elif note:
        layout["title"] = {"text": note, "x": 0.02, "xanchor": "left", "font": {"size": 15, "color": "#555"}}
    out.update_layout(**layout)
    kept = [
        a for a in out.layout.annotations if not (a.name == "source" or a.text == source)
    ]  # a chart shown on a page already carries the source line
    out.layout.annotations = kept
    if source:
        out.add_annotation(
            name="source",
            text=source,
            xref="paper",
            yref="paper",
            x=1,
            y=0,
            yshift=-110,
            yanchor="bottom",
            xanchor="right",
            showarrow=False,
            font={"size": 13, "color": "#777"},
        )
    return out


def _opts(fmt: str) -> dict[str, Any]:
    if fmt not in FORMATS:
        raise UserError(f"Charts can be saved as {' or '.join(FORMATS)}, not '{fmt}'.")
    # SVG is vector: its size in layout pixels is the slide; PNG doubles it for sharp slides.
    return {"format": fmt, "width": WIDTH, "height": HEIGHT, "scale": PNG_SCALE if fmt == "png" else 1}


class _Renderer:
    """One kaleido (one headless Chromium) kept open in a thread and event loop of its own.

    Starting Chromium costs seconds (7-8 s on a busy 2-core machine); a click on a chart's PNG
    should not. The first image starts it (or ``warm_up`` does, ahead of the first click), every
    later image reuses it; images are drawn one at a time. A browser that died is started again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kaleido: Any = None
        self._browser: str | None = None

    def _open(self, browser: str) -> None:
        import kaleido

        if self._loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="kaleido-render", daemon=True).start()
            self._loop = loop
        k = kaleido.Kaleido(n=1, path=browser, mathjax=False)
        asyncio.run_coroutine_threadsafe(k.open(), self._loop).result(timeout=OPEN_TIMEOUT_S)
        self._kaleido, self._browser = k, browser

    def _close(self) -> None:
        k, self._kaleido = self._kaleido, None
        if k is not None and self._loop is not None:
            try:
                asyncio.run_coroutine_threadsafe(k.close(), self._loop).result(timeout=10)
            except Exception:  # noqa: BLE001 - a browser that is already gone needs no closing
                pass

    def _draw(self, jobs: Sequence[tuple[dict[str, Any], str]]) -> list[bytes]:
        assert self._loop is not None
        out: list[bytes] = []
        for fig, fmt in jobs:
            future = asyncio.run_coroutine_threadsafe(
                self._kaleido.calc_fig(fig, opts=_opts(fmt)), self._loop
            )
            image = future.result(timeout=RENDER_TIMEOUT_S)
            out.append(image if isinstance(image, bytes) else bytes(image))
        return out

    def start(self, browser: str) -> None:
        """Start Chromium unless it runs already."""
        with self._lock:
            if self._kaleido is None or self._browser != browser:
                self._close()
                self._open(browser)

    def render(self, jobs: Sequence[tuple[dict[str, Any], str]], browser: str) -> list[bytes]:
        """Return each job's image, drawn in the kept browser (started, or started again, as needed)."""
        with self._lock:
            for attempt in (1, 2):
                if self._kaleido is None or self._browser != browser:
                    self._close()
                    self._open(browser)
                try:
                    return self._draw(jobs)
                except Exception:
                    # A browser that crashed or hung: start a new one and try once more.
                    self._close()
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

    def stop(self) -> None:
        """Close the kept browser (at exit)."""
        with self._lock:
            self._close()


OPEN_TIMEOUT_S = 60.0
RENDER_TIMEOUT_S = 60.0
_RENDERER = _Renderer()
atexit.register(_RENDERER.stop)


def warm_up(delay_s: float = 0.0) -> None:
    """Start the kept Chromium in the background after ``delay_s`` seconds, so the first chart
    image a user asks for does not wait for it; does nothing when there is no Chromium."""
    browser = chromium_path()
    if browser is None:
        return

    def start() -> None:
        time.sleep(delay_s)
        try:
            _RENDERER.start(browser)
        except Exception:  # noqa: BLE001 - the first click then starts it, and says what failed
            pass

    threading.Thread(target=start, name="kaleido-warm-up", daemon=True).start()


def render(jobs: Sequence[tuple[go.Figure, str]]) -> list[bytes]:
    """Return the image bytes of each (figure, "png" or "svg") job, drawn in the process's kept Chromium.

    Raises ``ChromiumMissing`` (a ``UserError`` with the install command) when there is no browser.
    """
    for _, fmt in jobs:
        _opts(fmt)
    browser = chromium_path()
    if browser is None:
        raise ChromiumMissing(install_hint("en"))
    payload = [(copy.deepcopy(fig.to_dict()), fmt) for fig, fmt in jobs]
    return _RENDERER.render(payload, browser)


def chart_images(
    fig: go.Figure, title: str | None = None, source: str | None = None, note: str | None = None
) -> dict[str, bytes]:
    """Return ``{"png": ..., "svg": ...}`` for one chart laid out for a slide."""
    laid_out = for_export(fig, title, source, note)
    return dict(zip(FORMATS, render([(laid_out, fmt) for fmt in FORMATS]), strict=True))


# The longest file-name stem, in bytes: a file name may have 255, and ``.png`` or ``.svg`` (and a
# browser's " (1)") must fit after it.
MAX_STEM_BYTES = 200


def _file_safe(text: str) -> str:
    return re.sub(r"[^\w\-]+", "-", text, flags=re.UNICODE).strip("-")


def file_stem(*parts: str | None) -> str:
    """Return a file-name stem from page, metric, period and store parts: letters (Chinese too),
    digits, ``_`` and ``-`` only, so a store named ``杭州/西湖店`` or ``../x`` names no folder; a
    personal number typed into a store's name is masked, as in the chart itself."""
    # Masked before and after the other characters become dashes: a number written with any of them
    # between its digits is still found once they are dashes.
    safe = (_file_safe(str(mask_text(_file_safe(str(mask_text(p)))))) for p in parts if p)
    stem = "_".join(p for p in safe if p) or "chart"
    if len(stem.encode("utf-8")) <= MAX_STEM_BYTES:
        return stem
    # Many stores, or a long name, would pass the 255 bytes a file name may have: cut at a character,
    # with a digest of the whole so that two such choices still name different files.
    digest = hashlib.sha256(stem.encode("utf-8")).hexdigest()[:10]
    cut = stem.encode("utf-8")[: MAX_STEM_BYTES - len(digest) - 1].decode("utf-8", "ignore").rstrip("-_")
    return f"{cut}-{digest}"


def write_images(
    figures: Mapping[str, go.Figure], folder: str | Path, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write each ``{file stem: figure}`` as ``stem.png`` / ``stem.svg`` in ``folder``; return the paths."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    jobs = [(fig, fmt) for fig in figures.values() for fmt in formats]
    paths = [target / f"{file_stem(stem)}.{fmt}" for stem in figures for fmt in formats]
    for path, image in zip(paths, render(jobs), strict=True):
        path.write_bytes(image)
    return paths
