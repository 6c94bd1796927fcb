"""An HTTP server on a free loopback port that receives apprise ``json://`` posts.

``HttpSink`` is a ``ThreadingHTTPServer`` on ``127.0.0.1:0`` serving in a daemon thread.
Every request is stored as a :class:`ReceivedPost` (method, path, headers, parsed JSON)
and answered ``200`` unless scripted otherwise, per request, in order:

- :meth:`HttpSink.fail_next` — answer the next N requests with a status (500 by default);
- :meth:`HttpSink.hang_next` — hold the next N requests without answering for up to
  ``seconds`` (longer than the client's timeout), then answer 200. The hold is a bounded
  wait on an event that :meth:`HttpSink.close` sets, so the server stops at once.

Failed and held requests are stored too (``status`` says what the sink answered), so a
test can tell "arrived and refused" from "never arrived". :meth:`HttpSink.wait_for` is a
bounded wait, never a sleep. Use the ``http_sink`` fixture
(``pytest_plugins = ["tests.support.http_sink"]``).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

__all__ = ["HttpSink", "ReceivedPost", "http_sink"]


@dataclass(frozen=True)
class ReceivedPost:
    """One request as the server received it, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    status: int

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


@dataclass(frozen=True)
class _Step:
    status: int
    hold: float = 0.0


class HttpSink:
    """A recording, scriptable HTTP server on 127.0.0.1; use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[ReceivedPost] = []
        self._steps: deque[_Step] = deque()
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.host = "127.0.0.1"
        self.port = 0

    def __enter__(self) -> HttpSink:
        server = ThreadingHTTPServer((self.host, 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="http-sink", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release held requests and stop serving."""
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path: str = "/", **params: str) -> str:
        """An apprise ``json://`` URL posting to ``path`` on this server (``+H=v`` for headers)."""
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"json://{self.host}:{self.port}{path}" + (f"?{query}" if query else "")

    def fail_next(self, times: int = 1, status: int = 500) -> None:
        """Answer the next ``times`` requests with ``status``."""
        with self._changed:
            self._steps.extend([_Step(status)] * times)

    def hang_next(self, seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` requests up to ``seconds`` before answering 200."""
        with self._changed:
            self._steps.extend([_Step(200, seconds)] * times)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedPost]:
        """The requests once at least ``count`` arrived; fails after ``timeout`` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} of {count} requests arrived within {timeout} s")
            return list(self.requests)

    def to(self, path: str) -> list[ReceivedPost]:
        """The requests received on ``path``."""
        with self._changed:
            return [r for r in self.requests if r.path == path]

    def _receive(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Step:
        with self._changed:
            step = self._steps.popleft() if self._steps else _Step(200)
            try:
                payload: Any = json.loads(body) if body else None
            except ValueError:
                payload = body.decode("utf-8", "replace")
            self.requests.append(ReceivedPost(method, path, headers, payload, step.status))
            self._changed.notify_all()
        return step

    def _hold(self, seconds: float) -> None:
        self._closing.wait(seconds)


def _handler_for(sink: HttpSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            step = sink._receive(self.command, self.path, dict(self.headers.items()), body)
            if step.hold:
                sink._hold(step.hold)
            answer = b'{"ok": true}' if step.status < 300 else b'{"ok": false}'
            try:
                self.send_response(step.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:  # the client gave up waiting (a timeout test)
                pass

        do_POST = do_PUT = do_GET = _serve

        def log_message(self, format: str, *args: Any) -> None:  # silence stderr access logs
            return

    return Handler


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    """A fresh HTTP sink on a free loopback port, stopped after the test."""
    with HttpSink() as sink:
        yield sink
