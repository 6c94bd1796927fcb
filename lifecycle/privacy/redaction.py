"""Defence-in-depth log redaction: PII that slips into a log line is replaced before any
handler sees it.

Code must not log PII in the first place; this layer catches the mistakes. It matters
because log lines travel far: Prefect's API log handler ships every record of the
``prefect.*`` loggers to the Prefect server, where anyone with UI access reads them.

What is recognised (each with ``(?<!digit)`` / ``(?!digit)`` boundaries, so digits inside
Chinese text such as ``身份证号110101…的客户`` are still found):

* emails — ``local@domain.tld``;
* resident ID numbers — 17 digits then a digit or ``X``/``x`` (optionally grouped 6-8-4);
* mainland mobiles — ``1[3-9]`` + 9 digits, optionally with ``+86``/``0086``/``86`` and
  spaces or dashes between digits;
* card numbers — 13–19 contiguous digits, or grouped 4-4-4-4(-3), 4-6-5 or 6-rest.

Ordinary numbers survive: amounts (``12345.67``, ``1,234,567.89``, even an 11- to
19-digit integer part when followed by decimals), dates and times (``2024-01-15``,
``20240115``, ``10:30:00``), UUIDs and ordinary ids below 13 digits. The price of
caution: a bare 13–19 digit run (say a millisecond timestamp) is redacted as a card, and
a bare 11-digit integer starting 13–19 as a mobile.

Matches become ``[REDACTED:<kind>]`` (kinds ``email``, ``id_no``, ``mobile``,
``card_no``), or the display-masked form with ``masked=True``.

How records are caught: :func:`install_redaction` wraps ``logging.setLogRecordFactory``
(idempotent), so every record of every logger -- including ``prefect.flow_runs`` and
``prefect.task_runs`` and handlers added later -- is redacted when it is created: the
formatted message replaces ``msg`` and ``args`` become empty, and exception and stack
text are rendered, redacted and stored in ``exc_text`` with ``exc_info`` cleared (so no
formatter can re-render the original exception message). Records built by
``logging.makeLogRecord`` (e.g. received from a socket) bypass the factory: put a
:class:`RedactingFilter` on such handlers. ``extra=`` attributes are not scanned.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from lifecycle.privacy.masking import mask_card, mask_email, mask_id_no, mask_mobile

__all__ = [
    "RedactingFilter",
    "install_redaction",
    "redact_record",
    "redact_text",
    "uninstall_redaction",
]

_START = r"(?<!\d)(?<!\d\.)"  # not inside a longer number or after a decimal point
_END = r"(?!\d)(?!\.\d)"  # not followed by more digits or decimals (amounts)
_PATTERN = re.compile(
    rf"""
    (?P<email>[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{{2,}})
    | {_START}(?P<id_no>\d{{6}}[ \-]?\d{{8}}[ \-]?\d{{3}}[\dXx]){_END}
    | {_START}(?P<mobile>(?:(?:\+|00)?86[ \-]?)?1[3-9]\d(?:[ \-]?\d){{8}}){_END}
    | {_START}(?P<card_no>
          \d{{4}}(?:[ \-]\d{{4}}){{3}}(?:[ \-]?\d{{1,3}})?
        | \d{{4}}[ \-]\d{{6}}[ \-]\d{{5}}
        | \d{{6}}[ \-]\d{{7,13}}
        | \d{{13,19}}
      ){_END}
    """,
    re.VERBOSE,
)
# Every pattern holds three consecutive digits or an "@": cheap pre-check.
_HINT = re.compile(r"\d{3}|@")
_SEPARATORS = re.compile(r"[ \-]")

_MASKERS: dict[str, Callable[[str], str | None]] = {
    "email": mask_email,
    "id_no": mask_id_no,
    "mobile": lambda digits: mask_mobile(digits[-11:]),
    "card_no": mask_card,
}


def _replacement(masked: bool) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup or "pii"
        if not masked:
            return f"[REDACTED:{kind}]"
        value = match.group(kind)
        if kind != "email":
            value = _SEPARATORS.sub("", value)
        return _MASKERS[kind](value) or f"[REDACTED:{kind}]"

    return replace


_TAGGED = _replacement(masked=False)
_MASKED = _replacement(masked=True)


def redact_text(text: str, *, masked: bool = False) -> str:
    """``text`` with emails, ID numbers, mobiles and card numbers replaced."""
    if not _HINT.search(text):
        return text
    return _PATTERN.sub(_MASKED if masked else _TAGGED, text)


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # bad %-args: keep everything, but redacted
        return f"{record.msg!s} (unformatted args: {record.args!r})"


def redact_record(record: logging.LogRecord, *, masked: bool = False) -> None:
    """Redact ``record`` in place: message, args, exception and stack text.

    Idempotent: redacted text contains nothing the patterns match.
    """
    record.msg = redact_text(_message(record), masked=masked)
    record.args = ()
    if record.exc_info and record.exc_info[0] is not None:
        rendered = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redact_text(rendered, masked=masked)
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact_text(record.exc_text, masked=masked)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info, masked=masked)
    if isinstance(getattr(record, "message", None), str):
        record.message = redact_text(record.message, masked=masked)


class RedactingFilter(logging.Filter):
    """A filter that redacts each record in place and lets it through.

    For handlers fed by ``logging.makeLogRecord`` or installed where the record factory
    cannot be wrapped; ``install_redaction`` already covers ordinary loggers.
    """

    def __init__(self, name: str = "", *, masked: bool = False) -> None:
        super().__init__(name)
        self.masked = masked

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record, masked=self.masked)
        return True


class _RedactingFactory:
    """Wraps the previous record factory; marked so installation happens once."""

    def __init__(self, previous: Callable[..., logging.LogRecord], masked: bool) -> None:
        self.previous = previous
        self.masked = masked

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        redact_record(record, masked=self.masked)
        return record


_install_lock = threading.Lock()


def install_redaction(*, masked: bool = False) -> None:
    """Redact every log record of every logger from now on (idempotent).

    Call once at process start-up (the wiring module, or a task's entry) before PII can
    be logged. A second call is a no-op, even with another ``masked`` value. (If other
    code has since wrapped the factory again, a second call adds a second layer: harmless,
    as redaction is idempotent.)
    """
    with _install_lock:
        current = logging.getLogRecordFactory()
        if isinstance(current, _RedactingFactory):
            return
        logging.setLogRecordFactory(_RedactingFactory(current, masked))


def uninstall_redaction() -> None:
    """Restore the factory that :func:`install_redaction` wrapped (for tests)."""
    with _install_lock:
        current = logging.getLogRecordFactory()
        if isinstance(current, _RedactingFactory):
            logging.setLogRecordFactory(current.previous)
