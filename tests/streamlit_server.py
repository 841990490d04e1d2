"""Start the dashboard as a real server for browser tests and screenshots."""

from __future__ import annotations

import shutil
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analytics.devtools import bench_browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# One way to start the dashboard and drive Chromium, shared with the bench's browser section.
CHROMIUM_ARGS = bench_browser.CHROMIUM_ARGS
free_port = bench_browser.free_port
serve = bench_browser.serve


@dataclass
class Run:
    """What one run of a page drew: (kind, message) of each element, and how the run ended."""

    elements: list[tuple[str, Any]]
    status: int

    def texts(self) -> list[str]:
        """The text of every markdown, caption, heading and alert."""
        return [str(m.body) for kind, m in self.elements if kind in ("markdown", "heading", "alert")]

    def problems(self) -> list[str]:
        """Tracebacks and error boxes (a run that went well has none)."""
        found = [f"exception: {m.message}" for kind, m in self.elements if kind == "exception"]
        return found + [f"error: {m.body}" for kind, m in self.elements if kind == "alert" and m.format == 1]


class Session:
    """One browser session on a running server, spoken to as a browser does: a WebSocket carrying
    Streamlit's own messages. Each ``run`` asks for a page and returns what the page drew, so
    several sessions need no browser (the page's script runs on the server either way)."""

    def __init__(
        self,
        url: str,
        timeout: float = 60.0,
        host: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """``host``: the Host (and Origin) the browser names, when not the server's own address:
        what a browser sends after DNS rebinding, connected to ``url`` all the same. ``headers``:
        more headers to send with the request that opens the session (X-Forwarded-For ...)."""
        import socket
        from urllib.parse import urlsplit

        from websockets.sync.client import connect  # streamlit's own dependency

        self._stack = ExitStack()
        where = url.replace("http://", "ws://") + "/_stcore/stream"
        sock = None
        if host is not None:
            server = urlsplit(url)
            sock = socket.create_connection((server.hostname, server.port), timeout=timeout)
            where = f"ws://{host}/_stcore/stream"
        self._ws = self._stack.enter_context(
            connect(
                where,
                sock=sock,
                origin=f"http://{host}" if host is not None else None,  # type: ignore[arg-type]
                subprotocols=["streamlit"],  # type: ignore[list-item]
                additional_headers=headers,
                max_size=None,
                open_timeout=timeout,
            )
        )
        self.elements: list[tuple[str, Any]] = []

    def run(self, page: str = "", timeout: float = 180.0, widgets: tuple[Any, ...] = ()) -> Run:
        """Run the page (its URL name, "" for the first one), with the states of ``widgets``
        (``WidgetState`` messages: what the browser sends on an input), and return what it drew
        once it finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        ask = BackMsg()
        ask.rerun_script.query_string = ""
        ask.rerun_script.page_script_hash = ""
        ask.rerun_script.page_name = page
        for state in widgets:
            ask.rerun_script.widget_states.widgets.add().CopyFrom(state)
        self._ws.send(ask.SerializeToString())
        elements: list[tuple[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            message = ForwardMsg()
            message.ParseFromString(self._ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                name = element.WhichOneof("type")
                elements.append((str(name), getattr(element, str(name))))
            elif kind == "script_finished":
                if message.script_finished != 2:
                    self.elements = elements
                    return Run(elements, int(message.script_finished))
                elements = []  # 2: stopped for a rerun (the root page moving on to the first page)

    def sign_in(self, username: str, password: str, page: str = "") -> Run:
        """Fill in the sign-in form the last run drew (run ``page`` first when none did) and submit it."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        if not any(kind == "text_input" for kind, _ in self.elements):
            self.run(page)
        inputs = [element for kind, element in self.elements if kind == "text_input"]
        submit = next(e for kind, e in self.elements if kind == "button" and e.is_form_submitter)
        states = []
        for element, value in zip(inputs[:2], (username, password), strict=True):
            state = WidgetState()
            state.id = element.id
            state.string_value = value
            states.append(state)
        state = WidgetState()
        state.id = submit.id
        state.trigger_value = True
        return self.run(page, widgets=(*states, state))

    def close(self) -> None:
        """Close the session's connection."""
        self._stack.close()
