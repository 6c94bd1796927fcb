"""The apprise adapter of the :class:`~lifecycle.care.notifier.Notifier` port.

Built from an apprise YAML configuration file that the platform team owns
(``notifications/apprise.example.yml`` shows the format): one entry per service URL,
each with the tags it is routed by. :meth:`AppriseNotifier.send` sends a message to
every service its route matches (see :mod:`lifecycle.care.notifier` for OR/AND) and
returns a :class:`~lifecycle.care.notifier.Delivery`.

What the adapter adds to apprise, and why:

- **Strict configuration.** apprise drops an entry it cannot read with only a warning
  (a tag like ``branch:310101`` is read as tag ``branch`` with a retry count, and the entry
  vanishes). Here any warning while loading, an untagged entry, a tag the port cannot
  route to, a priority (``2:tag``: apprise's escalation chains would decide the outcome
  behind our back) or the ``always`` tag (which apprise matches for *every* route: one RM's
  digest would reach another) is a :class:`~lifecycle.errors.ConfigError`.
- **One outcome per service.** Each matched service is sent to on its own, so a partial
  delivery is visible: the error lists which services failed and which already accepted
  the message. A retry of the same key by the same notifier skips the services that
  already accepted it (kept in memory, bounded; lost on restart).
- **Transient or permanent.** ``notify()`` says only True/False; the cause is read from
  apprise's log records (:mod:`notifications.apprise_logs`): HTTP 5xx/408/425/429 and SMTP 4xx
  are transient, other HTTP 4xx and SMTP 5xx are permanent, a timeout or a connection
  error is transient, a plugin exception is permanent, an unexplained False is transient.
  A route that matches no service is permanent, and the error names the tags.
- **Nothing of the message in the logs.** apprise's records of our sends are captured
  and dropped; this module logs only the key, kind, services and outcome.
- **A bounded send.** Every service's connect and read timeouts are lowered to
  ``timeout``, and :meth:`send` returns after ``timeout`` seconds at the latest. A send
  still running then is reported transient with an *unknown* outcome (it may yet deliver).
- **Idempotency key where a channel takes one.** The generic HTTP channels (``json://``,
  ``xml://``, ``form://``) carry ``message.key`` in an ``Idempotency-Key`` header, so a
  receiving gateway can drop a repeat. Email gets it as ``X-Lifecycle-Message-Key`` for
  tracing only: apprise always generates a random ``Message-ID`` (a second one cannot be
  set), so no mail store can deduplicate on it. Slack, WeCom, DingTalk and Feishu/Lark
  bot webhooks accept no deduplication key at all; for them a retry after an unknown
  outcome may deliver twice.
- **HTML where rendered.** A message with ``html`` is sent as HTML to services whose
  format is HTML (email by default; the email's plain alternative is then apprise's
  conversion of the HTML, not ``message.text``); every other service gets ``message.text``.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from apprise import Apprise, AppriseConfig, NotifyFormat
from apprise.plugins.base import NotifyBase
from apprise.plugins.custom_form import NotifyForm
from apprise.plugins.custom_json import NotifyJSON
from apprise.plugins.custom_xml import NotifyXML
from apprise.plugins.email import NotifyEmail

from lifecycle.care.notifier import Delivery, FailureKind, OutboundMessage, check_tag
from lifecycle.errors import ConfigError
from notifications.apprise_logs import captured, classify, private_logger

__all__ = ["IDEMPOTENT_HTTP_PLUGINS", "AppriseNotifier"]

log = logging.getLogger(__name__)

#: apprise plugins that pass custom HTTP headers (``+Name=value``) to the receiving server.
IDEMPOTENT_HTTP_PLUGINS: tuple[type[NotifyBase], ...] = (NotifyJSON, NotifyXML, NotifyForm)

_REMEMBERED_KEYS = 10_000


@dataclass(frozen=True)
class _Service:
    """One configured service: its position in the file, a safe label, the plugin."""

    index: int
    label: str
    plugin: NotifyBase


class AppriseNotifier:
    """Sends :class:`OutboundMessage` through the services of an apprise YAML file.

    ``timeout`` bounds each :meth:`send` in seconds. ``idempotency_header`` is the HTTP
    header that carries the message key to the generic HTTP channels; ``email_key_header``
    the mail header that carries it (for tracing) in emails. Thread-safe.
    """

    def __init__(
        self,
        config_path: Path | str,
        *,
        timeout: float = 10.0,
        idempotency_header: str = "Idempotency-Key",
        email_key_header: str = "X-Lifecycle-Message-Key",
    ) -> None:
        if timeout <= 0:
            raise ConfigError(f"notifier timeout must be positive, not {timeout}")
        self.config_path = Path(config_path)
        self.timeout = float(timeout)
        self.idempotency_header = idempotency_header
        self.email_key_header = email_key_header
        self._apprise, self._services = _load(self.config_path)
        self._delivered: OrderedDict[str, set[int]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def services(self) -> list[str]:
        """The configured services' labels (``JSON#2[rm-rm0001]``), in file order."""
        return [s.label for s in self._services]

    def services_for(self, message: OutboundMessage) -> list[str]:
        """Labels of the services ``message``'s route matches."""
        return [s.label for s in self._match(message)]

    def _match(self, message: OutboundMessage) -> list[_Service]:
        by_id = {id(s.plugin): s for s in self._services}
        with captured():
            found = self._apprise.find(list(message.route), match_always=False)
        return [by_id[id(p)] for p in found]

    def send(self, message: OutboundMessage) -> Delivery:
        """Send ``message`` to every service its route matches; see the module docstring."""
        services = self._match(message)
        if not services:
            delivery = Delivery.permanent(
                f"no service in {self.config_path.name} matches route {list(message.route)} "
                "(any entry; tags joined by ',' must all match)"
            )
            self._log(message, delivery, 0)
            return delivery
        with self._lock:
            done = set(self._delivered.get(message.key, ()))
        pending = [s for s in services if s.index not in done]
        outcomes = self._send_bounded(message, pending)
        failures = [(s, d) for s, d in zip(pending, outcomes, strict=True) if not d.ok]
        delivered = [s for s in services if s.index in done] + [
            s for s, d in zip(pending, outcomes, strict=True) if d.ok
        ]
        self._remember(message.key, {s.index for s in delivered}, finished=not failures)
        delivery = _combine(failures, delivered)
        self._log(message, delivery, len(services))
        return delivery

    def _send_bounded(self, message: OutboundMessage, services: list[_Service]) -> list[Delivery]:
        """Send to each service in its own thread; give up waiting after ``timeout``."""
        results: list[Delivery | None] = [None] * len(services)

        def work(slot: int, service: _Service) -> None:
            try:
                outcome = self._send_one(message, service)
            except Exception as exc:  # a bug here must not die silently in a thread (its text may quote the body)
                outcome = Delivery.permanent(f"{service.label}: the adapter raised {type(exc).__name__}")
            if outcome.ok:
                self._remember(message.key, {service.index}, finished=False)
            results[slot] = outcome

        threads = [
            threading.Thread(target=work, args=(i, s), name=f"apprise-send-{s.index}", daemon=True)
            for i, s in enumerate(services)
        ]
        deadline = time.monotonic() + self.timeout
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [
            r
            if r is not None
            else Delivery.transient(f"{s.label}: no answer within {self.timeout:g} s (outcome unknown)")
            for s, r in zip(services, results, strict=True)
        ]

    def _send_one(self, message: OutboundMessage, service: _Service) -> Delivery:
        """One service, one attempt (plus any ``retry`` its URL configures)."""
        with captured() as records:
            plugin = self._prepare(service.plugin, message, records)
            if plugin.notify_format == NotifyFormat.HTML and message.html is not None:
                body, body_format = message.html, NotifyFormat.HTML
            else:
                body, body_format = message.text, NotifyFormat.TEXT
            single = Apprise()
            single.add(plugin)
            try:
                ok = single.notify(body=body or "", title=message.title, body_format=body_format)
            except Exception as exc:  # apprise catches plugin errors; this is apprise itself
                return Delivery.permanent(f"{service.label}: apprise raised {type(exc).__name__}")
        if ok:
            return Delivery.sent()
        return classify(service.label, records, timeout=self.timeout)

    def _prepare(self, plugin: NotifyBase, message: OutboundMessage, records: list[logging.LogRecord]) -> NotifyBase:
        """A per-send copy: bounded timeouts, the key in its headers, a private logger."""
        clone = copy.copy(plugin)
        clone.socket_connect_timeout = min(float(plugin.socket_connect_timeout), self.timeout)
        clone.socket_read_timeout = min(float(plugin.socket_read_timeout), self.timeout)
        header = (
            self.idempotency_header if isinstance(clone, IDEMPOTENT_HTTP_PLUGINS)
            else self.email_key_header if isinstance(clone, NotifyEmail)
            else None
        )
        if header:
            with_headers = cast(Any, clone)  # these plugins keep their custom headers in .headers
            with_headers.headers = {**with_headers.headers, header: message.key}  # a new dict, not the shared one
        if message.html is None and clone.notify_format == NotifyFormat.HTML:
            clone.notify_format = NotifyFormat.TEXT  # a plain email, not the text escaped into HTML
        clone.logger = private_logger(records)
        return clone

    def _remember(self, key: str, indexes: set[int], *, finished: bool) -> None:
        with self._lock:
            if finished:
                self._delivered.pop(key, None)
                return
            self._delivered.setdefault(key, set()).update(indexes)
            self._delivered.move_to_end(key)
            while len(self._delivered) > _REMEMBERED_KEYS:
                self._delivered.popitem(last=False)

    def _log(self, message: OutboundMessage, delivery: Delivery, matched: int) -> None:
        if delivery.ok:
            log.info("delivered %s (%s) to %d service(s)", message.key, message.kind, matched)
        else:
            log.warning(
                "delivery of %s (%s) failed, %s: %s", message.key, message.kind, delivery.failure, delivery.error
            )


def _combine(failures: list[tuple[_Service, Delivery]], delivered: list[_Service]) -> Delivery:
    """One delivery for the route: permanent only when every failure is permanent."""
    if not failures:
        return Delivery.sent()
    parts = [d.error or s.label for s, d in failures]
    if delivered:
        parts.append("already delivered to " + ", ".join(s.label for s in delivered))
    error = "; ".join(parts)
    if all(d.failure is FailureKind.PERMANENT for _, d in failures):
        return Delivery.permanent(error)
    return Delivery.transient(error)


def _load(path: Path) -> tuple[Apprise, list[_Service]]:
    """Read and check the YAML configuration; any doubt is a ConfigError naming the entry."""
    if not path.is_file():
        raise ConfigError(f"apprise configuration {path} not found")
    text = path.read_text(encoding="utf-8")
    with captured() as records:
        config = AppriseConfig()
        loaded = config.add_config(text, format="yaml")
        apprise = Apprise()
        apprise.add(config)
        plugins = list(apprise)
    problems = [_redact(r.getMessage()) for r in records if r.levelno >= logging.WARNING]
    if not loaded or problems:
        raise ConfigError(f"apprise configuration {path}: " + ("; ".join(problems) or "not readable as YAML"))
    if not plugins:
        raise ConfigError(f"apprise configuration {path} defines no service")
    services = [_Service(i, _label(i, p), p) for i, p in enumerate(plugins, start=1)]
    for service in services:
        _check_tags(path, service)
    return apprise, services


_URL = re.compile(r"\b([a-z][a-z0-9+.-]*)://\S+", re.IGNORECASE)
_VALUE = re.compile(r"\((?![^)]*entry #)[^)]*\)")


def _redact(text: str) -> str:
    """apprise's loading message without the values it quotes (URLs, tokens, keys)."""
    return _VALUE.sub("(…)", _URL.sub(r"\1://…", text))


def _label(index: int, plugin: NotifyBase) -> str:
    tags = ",".join(sorted(str(t) for t in plugin.tags))
    return f"{plugin.service_name}#{index}[{tags}]"


def _check_tags(path: Path, service: _Service) -> None:
    where = f"apprise configuration {path}, entry {service.label}"
    if not service.plugin.tags:
        raise ConfigError(f"{where}: has no tag, so no message can be routed to it")
    for tag in service.plugin.tags:
        name = str(tag)
        if name in ("always", "all"):
            raise ConfigError(f"{where}: tag {name!r} would match every route; tag it by RM, branch or team")
        if getattr(tag, "has_priority", False):
            raise ConfigError(f"{where}: tag priorities ('N:{name}') are not supported; the outbox retries instead")
        try:
            check_tag(name)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
