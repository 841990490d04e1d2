"""A tiny SMTP server and a robot-webhook HTTP server on 127.0.0.1, so send tests never leave the machine."""

from __future__ import annotations

import base64
import http.server
import json
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Mailbox:
    """What the SMTP server received: one dict per message (mail_from, rcpt_to, data, auth)."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode("ascii"))

    def handle(self) -> None:
        box: Mailbox = self.server.mailbox  # type: ignore[attr-defined]
        self._say("220 localhost test SMTP")
        current: dict[str, Any] = {"rcpt_to": []}
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._say("250-localhost")
                self._say("250-AUTH PLAIN")
                self._say("250 8BITMIME")
            elif verb == "HELO":
                self._say("250 localhost")
            elif verb == "AUTH":
                parts = line.split()
                token = parts[2] if len(parts) > 2 else ""
                _, user, password = base64.b64decode(token).decode("utf-8").split("\0")
                box.logins.append((user, password))
                self._say("235 2.7.0 accepted")
            elif verb == "MAIL":
                current = {"mail_from": line.split(":", 1)[1].strip().split()[0].strip("<>"), "rcpt_to": []}
                self._say("250 ok")
            elif verb == "RCPT":
                current["rcpt_to"].append(line.split(":", 1)[1].strip().strip("<>"))
                self._say("250 ok")
            elif verb == "DATA":
                self._say("354 end with .")
                chunks = []
                while True:
                    data_line = self.rfile.readline()
                    if data_line in (b".\r\n", b".\n", b""):
                        break
                    chunks.append(data_line[1:] if data_line.startswith(b"..") else data_line)
                current["data"] = b"".join(chunks)
                box.messages.append(current)
                self._say("250 queued")
            elif verb in ("RSET", "NOOP"):
                self._say("250 ok")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not implemented")


class _Threaded(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    """Run the SMTP server on a free port of 127.0.0.1; yield (port, mailbox)."""
    server = _Threaded(("127.0.0.1", 0), _SMTPHandler)
    server.mailbox = Mailbox()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.mailbox  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Posts:
    """What the webhook server received: (path with query, parsed JSON body) per POST."""

    received: list[tuple[str, Any]] = field(default_factory=list)


@contextmanager
def webhook_server(answer: dict[str, Any] | None = None, status: int = 200) -> Iterator[tuple[int, Posts]]:
    """Run a robot-like HTTP server on 127.0.0.1 answering ``answer`` (default errcode 0); yield (port, posts)."""
    posts = Posts()
    body = json.dumps(answer or {"errcode": 0, "errmsg": "ok"}).encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            length = int(self.headers.get("Content-Length", 0))
            posts.received.append((self.path, json.loads(self.rfile.read(length).decode("utf-8"))))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server API
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], posts
    finally:
        server.shutdown()
        server.server_close()
