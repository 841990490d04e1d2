"""Charts as slide-sized images on the server: PNG at 2x and SVG, through kaleido and the system Chromium.

Kaleido drives a headless Chromium; starting it costs seconds, so ``render`` draws every image
it is given in one browser session. Chinese needs a CJK font on the machine (fonts-noto-cjk);
the chart theme names it first.
"""

from __future__ import annotations

import asyncio
import copy
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from analytics.errors import UserError
from analytics.i18n import text

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


def for_export(fig: go.Figure, title: str | None, source: str | None) -> go.Figure:
    """Return a copy of ``fig`` laid out for a slide: title top left, source line bottom right, room for both."""
    out = go.Figure(fig)
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
        "t": max(margin.t or 0, 130 if title else 80),
        "b": max(margin.b or 0, 130),
    }
    # On a page the legend sits under the plot; on a slide it goes under the title, leaving the
    # bottom margin to the axis labels and the source line.
    layout["legend"] = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"}
    if title:
        layout["title"] = {"text": title, "x": 0.02, "xanchor": "left", "font": {"size": 24}}
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


async def _render_all(jobs: Sequence[tuple[dict[str, Any], str]], browser: str) -> list[bytes]:
    import kaleido

    out: list[bytes] = []
    async with kaleido.Kaleido(n=1, path=browser, mathjax=False) as k:
        for fig, fmt in jobs:
            image = await k.calc_fig(fig, opts=_opts(fmt))
            out.append(image if isinstance(image, bytes) else bytes(image))
    return out


def render(jobs: Sequence[tuple[go.Figure, str]]) -> list[bytes]:
    """Return the image bytes of each (figure, "png" or "svg") job, drawn in one Chromium session.

    Raises ``ChromiumMissing`` (a ``UserError`` with the install command) when there is no browser.
    """
    for _, fmt in jobs:
        _opts(fmt)
    browser = chromium_path()
    if browser is None:
        raise ChromiumMissing(install_hint("en"))
    payload = [(copy.deepcopy(fig.to_dict()), fmt) for fig, fmt in jobs]
    result: dict[str, Any] = {}

    # Its own thread and event loop, so a caller already inside an event loop (Streamlit) can use it.
    def run() -> None:
        try:
            result["images"] = asyncio.run(_render_all(payload, browser))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread below
            result["error"] = exc

    worker = threading.Thread(target=run, name="kaleido-render")
    worker.start()
    worker.join()
    if "error" in result:
        raise result["error"]
    images: list[bytes] = result["images"]
    return images


def chart_images(fig: go.Figure, title: str | None = None, source: str | None = None) -> dict[str, bytes]:
    """Return ``{"png": ..., "svg": ...}`` for one chart laid out for a slide."""
    laid_out = for_export(fig, title, source)
    return dict(zip(FORMATS, render([(laid_out, fmt) for fmt in FORMATS]), strict=True))


def write_images(
    figures: Mapping[str, go.Figure], folder: str | Path, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write each ``{file stem: figure}`` as ``stem.png`` / ``stem.svg`` in ``folder``; return the paths."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    jobs = [(fig, fmt) for fig in figures.values() for fmt in formats]
    paths = [target / f"{stem}.{fmt}" for stem in figures for fmt in formats]
    for path, image in zip(paths, render(jobs), strict=True):
        path.write_bytes(image)
    return paths
