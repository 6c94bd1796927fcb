"""Keep apprise's log records of our sends out of the logs, and read the outcome from them.

Why: apprise 1.13 logs what it sends. At DEBUG its plugins log whole payloads
(``JSON Payload: {... 'message': <body>}``, ``WeCom Bot Payload: ...``) and the server's
answer (``Response Details``), the email plugin logs recipient addresses at INFO
(``Sent Email to <address>``), and urllib3 logs each request line with its query string
(where DingTalk and WeCom webhooks carry their tokens). A notifier must never log a body,
and a care message's recipient address is personal information.

Why also: :meth:`apprise.Apprise.notify` returns only ``True``/``False``/``None``; the cause
of a ``False`` — the HTTP status, an SMTP reply code, a timeout — exists only in those
log records (``...error=500.``, ``Socket Exception: (550, ...)``, ``Read timed out``).

How: :func:`captured` collects every record apprise (and urllib3) emits *in the calling
thread* while it is active and drops them before any handler sees them. It does so in two
ways, because apprise logs through two paths:

- a plugin instance logs through ``self.logger``: :func:`private_logger` gives a clone its
  own DEBUG-level logger, outside the logging tree, whose only handler is the capture —
  so its DEBUG records (with the causes) exist but never propagate;
- apprise's core and some plugin helpers log through the module-level ``apprise`` logger:
  a filter installed once on that logger (and on ``urllib3.connectionpool``) diverts the
  records of capturing threads into their capture and lets every other thread's records
  through untouched (Prefect's own apprise notifications keep logging as before).

:func:`classify` turns a captured failure into a :class:`~lifecycle.care.notifier.Delivery`
whose error names only the service, a status code and a cause — never a record's text.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from lifecycle.care.notifier import Delivery

__all__ = ["captured", "classify", "install_filters", "private_logger"]

_DIVERTED = ("apprise", "urllib3.connectionpool")

#: HTTP statuses after which the same request may succeed later.
TRANSIENT_HTTP = frozenset({408, 425, 429})

_HTTP_STATUS = re.compile(r"\berror=(\d{3})\b")
_SMTP_REPLY = re.compile(r"\((\d{3}), b?['\"]")
_RAISED = re.compile(r"exception occur+ed", re.IGNORECASE)
_TIMED_OUT = re.compile(r"timed? ?out", re.IGNORECASE)

_local = threading.local()
_install_lock = threading.Lock()


class _Divert(logging.Filter):
    """Drops the records of a capturing thread into its capture; passes all others."""

    def filter(self, record: logging.LogRecord) -> bool:
        records: list[logging.LogRecord] | None = getattr(_local, "records", None)
        if records is None:
            return True
        records.append(record)
        return False


class _Collect(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self._records = records

    def emit(self, record: logging.LogRecord) -> None:
        self._records.append(record)


def install_filters() -> None:
    """Install the diverting filter on apprise's and urllib3's loggers (once per process)."""
    with _install_lock:
        for name in _DIVERTED:
            target = logging.getLogger(name)
            if not any(isinstance(f, _Divert) for f in target.filters):
                target.addFilter(_Divert())


@contextmanager
def captured() -> Iterator[list[logging.LogRecord]]:
    """Collect (and suppress) apprise's records of the current thread while active."""
    install_filters()
    records: list[logging.LogRecord] = []
    previous = getattr(_local, "records", None)
    _local.records = records
    try:
        yield records
    finally:
        _local.records = previous


def private_logger(records: list[logging.LogRecord], name: str = "apprise.send") -> logging.Logger:
    """A DEBUG logger outside the logging tree that only appends to ``records``."""
    logger = logging.Logger(name, logging.DEBUG)
    logger.propagate = False
    logger.addHandler(_Collect(records))
    return logger


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a malformed record must not hide the outcome
        return str(record.msg)


def classify(label: str, records: list[logging.LogRecord], *, timeout: float) -> Delivery:
    """The failure of one service's send, from the records apprise emitted during it.

    In order: an HTTP status in a plugin's warning (5xx, 408, 425, 429 → transient; any
    other → permanent); an SMTP reply code in the exception a plugin logged (4xx →
    transient, 5xx → permanent); a timeout (transient); an exception raised inside the
    plugin (permanent: the same input raises again); a connection error (transient).
    Anything else — apprise said ``False`` without a recognised cause — is transient, so
    the dispatcher's bounded retries decide rather than a guess here. Only apprise's own
    lines are read (``Response Details`` echo the server and are ignored); the error
    returned quotes none of them.
    """
    warnings = [_message(r) for r in records if r.levelno >= logging.WARNING]
    causes = [m for m in (_message(r) for r in records) if m.startswith("Socket Exception")]
    for text in warnings:
        if match := _HTTP_STATUS.search(text):
            code = int(match.group(1))
            if code >= 500 or code in TRANSIENT_HTTP:
                return Delivery.transient(f"{label}: HTTP {code}")
            return Delivery.permanent(f"{label}: HTTP {code} (rejected)")
    for text in causes:
        if match := _SMTP_REPLY.search(text):
            code = int(match.group(1))
            if 400 <= code < 500:
                return Delivery.transient(f"{label}: SMTP {code}")
            if code >= 500:
                return Delivery.permanent(f"{label}: SMTP {code} (rejected)")
    if any(_TIMED_OUT.search(text) for text in causes):
        return Delivery.transient(f"{label}: no answer within {timeout:g} s")
    for record in records:
        if record.exc_info and record.exc_info[0] is not None:
            return Delivery.permanent(f"{label}: the apprise plugin raised {record.exc_info[0].__name__}")
    if any(_RAISED.search(text) for text in warnings):  # a @notify plugin: apprise caught and logged it
        return Delivery.permanent(f"{label}: the apprise plugin raised an exception")
    if any("connection error" in text.lower() for text in warnings):
        return Delivery.transient(f"{label}: connection error")
    return Delivery.transient(f"{label}: apprise reported a failure without a cause")
