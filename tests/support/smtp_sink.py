"""An SMTP server on a free loopback port that keeps every message it receives.

``SmtpSink`` runs aiosmtpd in its own thread on a socket bound to ``127.0.0.1:0`` (bound
before the server starts, so two tests never race for a port). Each message is parsed
into a :class:`ReceivedMail`: envelope, ``To``, decoded ``Subject``, text and HTML parts,
headers. :meth:`SmtpSink.reply_next` scripts the reply to the next DATA commands
(``"451 4.3.0 try again later"``) to exercise transient and permanent SMTP failures.
:meth:`SmtpSink.wait_for` is a bounded wait, never a sleep.

Use the ``smtp_sink`` fixture (``pytest_plugins = ["tests.support.smtp_sink"]``).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import socket
import threading
from collections import deque
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

import pytest
from aiosmtpd.controller import Controller

__all__ = ["ReceivedMail", "SmtpSink", "smtp_sink"]


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server received it."""

    envelope_from: str
    envelope_to: tuple[str, ...]
    to: str
    subject: str
    text: str | None
    html: str | None
    headers: dict[str, str] = field(repr=False)
    raw: bytes = field(repr=False)


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_type() != f"text/{subtype}":
        return None
    content = part.get_content()
    return str(content)


def parse_mail(envelope_from: str, envelope_to: list[str], raw: bytes) -> ReceivedMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return ReceivedMail(
        envelope_from=envelope_from,
        envelope_to=tuple(envelope_to),
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        text=_part(message, "plain"),
        html=_part(message, "html"),
        headers={k: str(v) for k, v in message.items()},
        raw=raw,
    )


def _drop(record: logging.LogRecord) -> bool:
    return False


_QUIET = _drop


class _BoundController(Controller):
    """aiosmtpd's controller, serving on a socket bound beforehand (port 0 → a free port)."""

    def __init__(self, handler: Any, sock: socket.socket) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port)
        self._sock = sock

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class SmtpSink:
    """A recording SMTP server on 127.0.0.1; use as a context manager."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        self._replies: deque[str] = deque()
        self._changed = threading.Condition()
        self._controller: _BoundController | None = None
        self.host = "127.0.0.1"
        self.port = 0

    def __enter__(self) -> SmtpSink:
        # aiosmtpd logs every line of every message at DEBUG ("mail.log"): keep the
        # sink's chatter (message bodies included) out of the tests' captured logs.
        logging.getLogger("mail.log").addFilter(_QUIET)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        self._controller = _BoundController(self, sock)
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        logging.getLogger("mail.log").removeFilter(_QUIET)

    def url(self, to: str, *, sender: str = "noreply@bank.example", **params: str) -> str:
        """An apprise ``mailto://`` URL that delivers to ``to`` through this server."""
        query = urlencode({"to": to, "from": sender, "smtp": self.host, "mode": "insecure", **params})
        return f"mailto://{self.host}:{self.port}?{query}"

    def reply_next(self, *replies: str) -> None:
        """Answer the next DATA commands with these replies (``"550 5.1.1 no such user"``)."""
        with self._changed:
            self._replies.extend(replies)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """The messages once at least ``count`` arrived; fails after ``timeout`` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} of {count} messages arrived within {timeout} s")
            return list(self.messages)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._changed:
            if self._replies:
                return self._replies.popleft()
            raw = envelope.original_content or envelope.content
            self.messages.append(parse_mail(envelope.mail_from, list(envelope.rcpt_tos), raw))
            self._changed.notify_all()
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A fresh SMTP sink on a free loopback port, stopped after the test."""
    with SmtpSink() as sink:
        yield sink
