"""The Notifier port: how the outbox's dispatcher hands one message to a channel.

The domain decides *what* to send (an RM's digest, a customer's birthday greeting)
and writes it to the outbox under a unique message key; a dispatcher later claims
each pending row and calls :meth:`Notifier.send`. This module is that boundary:

- :class:`OutboundMessage` — one message, immutable, identified by the outbox's
  unique key. Its ``repr`` leaves out title and bodies, so a message that ends up
  in a log line, a traceback or a test failure shows where it goes, never what it says.
- :class:`Delivery` — what happened: delivered, or failed *transiently* (retry
  later) or *permanently* (a human must look). Its error text is safe to store in
  the outbox: it names services, status codes and causes, never message content.
- :class:`Notifier` — the port, one method.
- :class:`InMemoryNotifier` — a hand-written fake for unit tests that records what
  was delivered and can be scripted to fail, raise, or "crash after sending".

Routes are tags, matched against the tags the platform team gives each service in
its notification configuration: a message goes to every service matched by **any**
entry of ``route``; an entry that joins tags with commas (``"branch-310101,team-wealth"``)
matches only services that carry **all** of them. Tags are compared ignoring case.

Tags are ``[A-Za-z0-9][A-Za-z0-9_-]*``: letters, digits, ``-`` and ``_``. A colon is
refused because apprise reads ``name:digits`` as a tag with a *retry count* (``branch:310101``
would mean tag ``branch``, retried 310,101 times, and a service configured with that tag is
dropped with only a warning) and ``digits:name`` as a priority. Hence ``rm-RM0001``,
``branch-310101``, ``team-wealth`` — the form the relationship-manager source already
uses in its ``notify_tag`` column.

Contract of :meth:`Notifier.send` (what a dispatcher may rely on):

1. It returns a :class:`Delivery` for every outcome it can observe, including
   timeouts and refusals; it does not raise for a delivery failure.
2. If it raises anyway (a bug, an interrupted process), the outcome is *unknown*:
   the message may or may not have been delivered. The dispatcher treats that like a
   transient failure whose retry may duplicate — the at-least-once window that an
   idempotency key closes on channels that accept one (see ``notifications/``).
3. It is safe to call again with the same key: an implementation passes
   ``message.key`` to every channel that can deduplicate on it.
4. It never logs ``title``, ``text`` or ``html`` at any level, and never puts them in
   :attr:`Delivery.error`.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

__all__ = [
    "MAX_CHANNEL_LENGTH",
    "MAX_ERROR_LENGTH",
    "MAX_KEY_LENGTH",
    "Delivery",
    "FailureKind",
    "InMemoryNotifier",
    "Notifier",
    "OutboundMessage",
    "SimulatedCrash",
    "branch_tag",
    "check_tag",
    "rm_tag",
    "team_tag",
]

#: Lengths of the outbox's columns (``outbox.message_key``, ``channel``, ``last_error``).
MAX_KEY_LENGTH = 128
MAX_CHANNEL_LENGTH = 16
MAX_ERROR_LENGTH = 512

_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")
# Printable ASCII without spaces: the key travels in HTTP and mail headers.
_KEY = re.compile(r"[\x21-\x7e]+\Z")


def check_tag(tag: str) -> str:
    """``tag`` itself if the port can route by it; a ``ValueError`` saying why not otherwise."""
    if not _TAG.match(tag):
        raise ValueError(
            f"tag {tag!r} is not routable: use letters, digits, '-' and '_' "
            "(apprise reads 'name:digits' as a retry count and 'digits:name' as a priority)"
        )
    return tag


def rm_tag(rm_id: str) -> str:
    """The routing tag of one relationship manager (``rm-RM0001``)."""
    return check_tag(f"rm-{rm_id}")


def branch_tag(branch_code: str) -> str:
    """The routing tag of one branch (``branch-310101``)."""
    return check_tag(f"branch-{branch_code}")


def team_tag(team: str) -> str:
    """The routing tag of one team (``team-wealth``)."""
    return check_tag(f"team-{team}")


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to one route, as the outbox holds it.

    ``key`` is the outbox's unique message key (printable ASCII, at most 128 characters,
    because it is also the idempotency key sent in channel headers). ``kind`` names what
    it is (``rm_digest``, ``care_message``); ``channel`` the logical channel the outbox
    records and the dispatcher uses to pick a notifier (at most 16 characters). ``route``
    is a tuple of tag entries (see the module docstring). ``text`` is the plain body and
    always required; ``html``, when given, is preferred by channels that render HTML.
    ``locale`` is the template language (``zh_CN``, ``en``).

    Title and bodies are excluded from ``repr`` and comparisons print nothing of them.
    """

    key: str
    kind: str
    channel: str
    route: tuple[str, ...]
    title: str = field(repr=False)
    text: str = field(repr=False)
    html: str | None = field(default=None, repr=False)
    locale: str = "zh_CN"

    def __post_init__(self) -> None:
        if not (0 < len(self.key) <= MAX_KEY_LENGTH and _KEY.match(self.key)):
            raise ValueError(f"message key must be 1-{MAX_KEY_LENGTH} printable ASCII characters without spaces")
        if not self.kind:
            raise ValueError(f"message {self.key}: kind is required")
        if not 0 < len(self.channel) <= MAX_CHANNEL_LENGTH:
            raise ValueError(f"message {self.key}: channel must be 1-{MAX_CHANNEL_LENGTH} characters")
        route = (self.route,) if isinstance(self.route, str) else tuple(self.route)
        if not route:
            raise ValueError(f"message {self.key}: route needs at least one tag")
        for entry in route:
            for tag in entry.split(","):
                check_tag(tag.strip())
        object.__setattr__(self, "route", tuple(",".join(t.strip() for t in e.split(",")) for e in route))
        if not self.text.strip():
            raise ValueError(f"message {self.key}: text body is required (channels without HTML send it)")

    @property
    def route_groups(self) -> tuple[frozenset[str], ...]:
        """The route as alternatives of required tag sets, lower-cased (OR of ANDs)."""
        return tuple(frozenset(t.lower() for t in entry.split(",")) for entry in self.route)


class FailureKind(StrEnum):
    """Whether retrying can help."""

    TRANSIENT = "transient"  # the channel was unreachable, slow, overloaded or rate-limiting
    PERMANENT = "permanent"  # the request itself is wrong: no route, rejected, unauthorised


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one :meth:`Notifier.send`.

    ``ok`` is true when every service on the route accepted the message; then ``failure``
    and ``error`` are ``None``. Otherwise ``failure`` says whether a retry can help and
    ``error`` says why in words safe to store (services, status codes, causes — never
    message content), cut to :data:`MAX_ERROR_LENGTH`. ``channel_id`` is the channel's own
    id of the delivered message when it reports one (many do not).
    """

    ok: bool
    failure: FailureKind | None = None
    error: str | None = None
    channel_id: str | None = None

    def __post_init__(self) -> None:
        if self.ok and (self.failure is not None or self.error is not None):
            raise ValueError("a successful delivery carries no failure")
        if not self.ok and (self.failure is None or not self.error):
            raise ValueError("a failed delivery needs a failure kind and an error")
        if self.error is not None and len(self.error) > MAX_ERROR_LENGTH:
            object.__setattr__(self, "error", self.error[: MAX_ERROR_LENGTH - 1] + "…")

    @classmethod
    def sent(cls, channel_id: str | None = None) -> Delivery:
        return cls(ok=True, channel_id=channel_id)

    @classmethod
    def transient(cls, error: str) -> Delivery:
        return cls(ok=False, failure=FailureKind.TRANSIENT, error=error)

    @classmethod
    def permanent(cls, error: str) -> Delivery:
        return cls(ok=False, failure=FailureKind.PERMANENT, error=error)

    @property
    def retryable(self) -> bool:
        """True for a transient failure: send the same message (same key) again later."""
        return self.failure is FailureKind.TRANSIENT


@runtime_checkable
class Notifier(Protocol):
    """Sends one message and says what happened (see the module docstring's contract)."""

    def send(self, message: OutboundMessage) -> Delivery: ...


class SimulatedCrash(BaseException):
    """The process "died" after the channel accepted the message, before the caller heard back.

    A ``BaseException`` so that a dispatcher's ``except Exception`` does not swallow it:
    like a real crash it skips the caller's bookkeeping, leaving the outbox row claimed
    but not marked sent.
    """


@dataclass(frozen=True, slots=True)
class _Fail:
    kind: FailureKind
    error: str


@dataclass(frozen=True, slots=True)
class _Raise:
    exc: Exception


@dataclass(frozen=True, slots=True)
class _Crash:
    pass


_Step = _Fail | _Raise | _Crash


class InMemoryNotifier:
    """A fake :class:`Notifier` for unit tests: records deliveries, scripted per key.

    Each scripting call queues steps for one message key; every :meth:`send` of that key
    consumes the next step, and once the queue is empty sends succeed:

    - :meth:`fail_next` — return a transient or permanent failure (nothing delivered);
    - :meth:`raise_next` — raise the given exception (nothing delivered; a buggy adapter);
    - :meth:`crash_after_next` — deliver, then raise :class:`SimulatedCrash` (delivered,
      but the caller never hears back: the at-least-once window).

    ``delivered`` lists every message that reached its recipients, in order, duplicates
    included — a test of exactly-once asserts on it. ``attempts`` lists the key of every
    call. With ``known_tags`` the fake also routes like the adapter: a message none of
    whose route entries is covered by ``known_tags`` fails permanently.
    Thread-safe, so a dispatcher with worker threads can be tested against it.
    """

    def __init__(self, known_tags: Iterable[str] | None = None) -> None:
        self.delivered: list[OutboundMessage] = []
        self.attempts: list[str] = []
        self._known = None if known_tags is None else frozenset(t.lower() for t in known_tags)
        self._steps: defaultdict[str, deque[_Step]] = defaultdict(deque)
        self._lock = threading.Lock()

    def fail_next(
        self, key: str, times: int = 1, *, kind: FailureKind = FailureKind.TRANSIENT, error: str = "scripted failure"
    ) -> None:
        """The next ``times`` sends of ``key`` fail with ``kind`` and deliver nothing."""
        self._queue(key, [_Fail(kind, error)] * times)

    def raise_next(self, key: str, exc: Exception, times: int = 1) -> None:
        """The next ``times`` sends of ``key`` raise ``exc`` and deliver nothing."""
        self._queue(key, [_Raise(exc)] * times)

    def crash_after_next(self, key: str, times: int = 1) -> None:
        """The next ``times`` sends of ``key`` deliver, then raise :class:`SimulatedCrash`."""
        self._queue(key, [_Crash()] * times)

    def _queue(self, key: str, steps: list[_Step]) -> None:
        if not steps:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._steps[key].extend(steps)

    def send(self, message: OutboundMessage) -> Delivery:
        with self._lock:
            self.attempts.append(message.key)
            if self._known is not None and not any(g <= self._known for g in message.route_groups):
                return Delivery.permanent(f"no service matches route {list(message.route)}")
            queue = self._steps.get(message.key)
            step = queue.popleft() if queue else None
            if isinstance(step, _Fail):
                return Delivery(ok=False, failure=step.kind, error=step.error)
            if isinstance(step, _Raise):
                raise step.exc
            self.delivered.append(message)
            channel_id = f"mem-{len(self.delivered)}"
        if isinstance(step, _Crash):
            raise SimulatedCrash(f"crashed after delivering {message.key}")
        return Delivery.sent(channel_id)

    def delivered_keys(self) -> list[str]:
        """Keys of delivered messages, in order, duplicates included."""
        with self._lock:
            return [m.key for m in self.delivered]

    def count(self, key: str) -> int:
        """How many times ``key`` was delivered (exactly-once means 1)."""
        return self.delivered_keys().count(key)
