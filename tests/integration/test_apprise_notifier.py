"""The apprise adapter, through real apprise, to real servers started on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from apprise.manager_plugins import NotificationManager
from apprise.plugins.base import NotifyBase

from lifecycle.care.notifier import FailureKind, Notifier, OutboundMessage
from lifecycle.errors import ConfigError
from notifications.apprise_notifier import AppriseNotifier

if TYPE_CHECKING:  # imported by pytest_plugins, so that pytest rewrites their asserts
    from tests.support.http_sink import HttpSink
    from tests.support.smtp_sink import SmtpSink

pytest_plugins = ["tests.support.http_sink", "tests.support.smtp_sink"]

N_MGR = NotificationManager()
EXAMPLE = Path(__file__).resolve().parents[2] / "notifications" / "apprise.example.yml"

# Content that must never reach a log record: a masked-looking name, a mobile, an ID number.
TITLE_SECRET = "客户张三的提醒"
TEXT_SECRET = "13812345678"
HTML_SECRET = "110101199003077777"
RM_ADDRESS = "rm0001@bank.example"


def msg(key: str = "rm_digest:2026-06-30:RM0001", route: tuple[str, ...] = ("rm-RM0001",), *,
        html: bool = True) -> OutboundMessage:
    return OutboundMessage(
        key=key, kind="rm_digest", channel="apprise", route=route, locale="zh_CN",
        title=f"今日任务 {TITLE_SECRET}",
        text=f"新任务 3 项 / mobile {TEXT_SECRET}",
        html=f"<h1>新任务</h1><p>ID {HTML_SECRET}</p>" if html else None,
    )


def config(tmp_path: Path, *entries: tuple[str, str]) -> Path:
    """An apprise YAML file with one service per (url, tags) entry."""
    lines = ["version: 1", "urls:"]
    for url, tags in entries:
        lines += [f'  - "{url}":', f"      tag: {tags}"]
    path = tmp_path / "apprise.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def assert_no_content_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing of title, bodies or the recipient's address in any record, at any level."""
    assert caplog.records, "expected the notifier's own summary records"
    for record in caplog.records:
        rendered = " ".join([record.getMessage(), repr(record.args), str(record.exc_text or "")])
        for secret in (TITLE_SECRET, TEXT_SECRET, HTML_SECRET, RM_ADDRESS):
            assert secret not in rendered, f"{record.name}/{record.levelname} logged message content"


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Every test runs with all loggers at DEBUG, where apprise logs whole payloads."""
    caplog.set_level(logging.DEBUG)


# --- delivery ---------------------------------------------------------------------------

def test_an_html_email_arrives_with_subject_recipient_and_a_text_alternative(
    tmp_path: Path, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = AppriseNotifier(config(tmp_path, (smtp_sink.url(RM_ADDRESS), "rm-RM0001")), timeout=5)
    message = msg()
    assert isinstance(notifier, Notifier)

    delivery = notifier.send(message)

    assert delivery.ok, delivery.error
    [mail] = smtp_sink.wait_for(1)
    assert mail.envelope_to == (RM_ADDRESS,) and mail.to == RM_ADDRESS
    assert mail.subject == message.title
    assert mail.html == message.html
    assert mail.text is not None and HTML_SECRET in mail.text and "<p>" not in mail.text  # apprise's conversion
    assert mail.headers["X-Lifecycle-Message-Key"] == message.key
    assert_no_content_logged(caplog)


def test_a_text_only_message_is_a_plain_email_with_the_text_body(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    notifier = AppriseNotifier(config(tmp_path, (smtp_sink.url(RM_ADDRESS), "rm-RM0001")), timeout=5)
    message = msg(html=False)
    assert notifier.send(message).ok
    [mail] = smtp_sink.wait_for(1)
    assert mail.html is None
    assert mail.text is not None and mail.text.strip() == message.text


def test_a_json_post_carries_title_text_and_the_idempotency_key(
    tmp_path: Path, http_sink: HttpSink, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = AppriseNotifier(config(tmp_path, (http_sink.url("/hook"), "rm-RM0001")), timeout=5)
    message = msg()

    assert notifier.send(message).ok

    [post] = http_sink.wait_for(1)
    assert post.method == "POST" and post.path == "/hook"
    assert post.json["title"] == message.title
    assert post.json["message"] == message.text  # a text channel gets the text body, not converted HTML
    assert post.header("Idempotency-Key") == message.key
    assert_no_content_logged(caplog)


def test_a_configured_header_is_kept_and_the_shared_service_is_not_changed(tmp_path: Path, http_sink: HttpSink) -> None:
    notifier = AppriseNotifier(config(tmp_path, (http_sink.url("/hook", **{"+X-Auth": "t0k"}), "rm-RM0001")))
    assert notifier.send(msg("key-1")).ok and notifier.send(msg("key-2")).ok
    first, second = http_sink.wait_for(2)
    assert (first.header("X-Auth"), first.header("Idempotency-Key")) == ("t0k", "key-1")
    assert (second.header("X-Auth"), second.header("Idempotency-Key")) == ("t0k", "key-2")


# --- routing ----------------------------------------------------------------------------

@pytest.fixture
def branch_config(tmp_path: Path, http_sink: HttpSink) -> Path:
    return config(
        tmp_path,
        (http_sink.url("/rm1"), "rm-RM0001, branch-310101"),
        (http_sink.url("/rm2"), "rm-RM0002, branch-310101, team-wealth"),
        (http_sink.url("/rm3"), "rm-RM0003, branch-310102, team-wealth"),
    )


@pytest.mark.parametrize(
    ("route", "reached"),
    [
        (("rm-RM0001",), {"/rm1"}),
        (("RM-rm0001",), {"/rm1"}),  # tags ignore case
        (("rm-RM0001", "rm-RM0003"), {"/rm1", "/rm3"}),  # entries: OR
        (("branch-310101",), {"/rm1", "/rm2"}),
        (("branch-310101,team-wealth",), {"/rm2"}),  # commas inside an entry: AND
        (("team-wealth", "rm-RM0001"), {"/rm1", "/rm2", "/rm3"}),
    ],
)
def test_a_message_reaches_exactly_the_services_its_route_matches(
    branch_config: Path, http_sink: HttpSink, route: tuple[str, ...], reached: set[str]
) -> None:
    notifier = AppriseNotifier(branch_config, timeout=5)
    assert notifier.send(msg(route=route)).ok
    posts = http_sink.wait_for(len(reached))
    assert {p.path for p in posts} == reached
    assert len(posts) == len(reached)


def test_a_route_matching_no_service_fails_permanently_naming_its_tags(
    branch_config: Path, http_sink: HttpSink
) -> None:
    notifier = AppriseNotifier(branch_config, timeout=5)
    delivery = notifier.send(msg(route=("rm-RM0999", "branch-310101,team-ops")))
    assert delivery.failure is FailureKind.PERMANENT
    assert delivery.error is not None
    assert "rm-RM0999" in delivery.error and "branch-310101,team-ops" in delivery.error
    assert http_sink.requests == []


# --- failures ---------------------------------------------------------------------------

def test_a_500_is_transient_and_the_retry_carries_the_same_key(
    tmp_path: Path, http_sink: HttpSink, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = AppriseNotifier(config(tmp_path, (http_sink.url("/hook"), "rm-RM0001")), timeout=5)
    http_sink.fail_next(1, status=500)

    first = notifier.send(msg())
    second = notifier.send(msg())

    assert first.failure is FailureKind.TRANSIENT and "HTTP 500" in (first.error or "")
    assert second.ok
    posts = http_sink.wait_for(2)
    assert [p.status for p in posts] == [500, 200]
    assert {p.header("Idempotency-Key") for p in posts} == {msg().key}
    assert_no_content_logged(caplog)


@pytest.mark.parametrize(("status", "kind"), [
    (400, FailureKind.PERMANENT), (401, FailureKind.PERMANENT), (404, FailureKind.PERMANENT),
    (429, FailureKind.TRANSIENT), (503, FailureKind.TRANSIENT),
])
def test_the_http_status_decides_transient_or_permanent(
    tmp_path: Path, http_sink: HttpSink, status: int, kind: FailureKind, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = AppriseNotifier(config(tmp_path, (http_sink.url("/hook"), "rm-RM0001")), timeout=5)
    http_sink.fail_next(1, status=status)
    delivery = notifier.send(msg())
    assert delivery.failure is kind
    assert f"HTTP {status}" in (delivery.error or "")
    assert_no_content_logged(caplog)


def test_a_server_that_does_not_answer_is_a_bounded_transient_failure(
    tmp_path: Path, http_sink: HttpSink, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = AppriseNotifier(config(tmp_path, (http_sink.url("/hook"), "rm-RM0001")), timeout=1.0)
    http_sink.hang_next(30)

    started = time.monotonic()
    delivery = notifier.send(msg())
    elapsed = time.monotonic() - started

    assert delivery.failure is FailureKind.TRANSIENT
    assert "no answer within 1 s" in (delivery.error or "")
    assert 0.9 <= elapsed < 2.0
    assert len(http_sink.wait_for(1)) == 1  # it did arrive: the outcome was unknown, hence the key
    assert_no_content_logged(caplog)


def test_a_refused_connection_is_transient(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    notifier = AppriseNotifier(config(tmp_path, (f"json://127.0.0.1:{port}/hook", "rm-RM0001")), timeout=5)
    delivery = notifier.send(msg())
    assert delivery.failure is FailureKind.TRANSIENT and "connection error" in (delivery.error or "")


@pytest.mark.parametrize(("reply", "kind", "code"), [
    ("451 4.3.0 Try again later", FailureKind.TRANSIENT, "SMTP 451"),
    ("554 5.7.1 Message rejected", FailureKind.PERMANENT, "SMTP 554"),
])
def test_the_smtp_reply_decides_transient_or_permanent(
    tmp_path: Path, smtp_sink: SmtpSink, reply: str, kind: FailureKind, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = AppriseNotifier(config(tmp_path, (smtp_sink.url(RM_ADDRESS), "rm-RM0001")), timeout=5)
    smtp_sink.reply_next(reply)
    delivery = notifier.send(msg())
    assert delivery.failure is kind and code in (delivery.error or "")
    assert smtp_sink.messages == []
    assert_no_content_logged(caplog)


def test_a_partial_delivery_is_reported_and_the_retry_resends_only_what_failed(
    tmp_path: Path, http_sink: HttpSink, smtp_sink: SmtpSink
) -> None:
    notifier = AppriseNotifier(
        config(tmp_path, (smtp_sink.url(RM_ADDRESS), "rm-RM0001"), (http_sink.url("/hook"), "rm-RM0001")), timeout=5
    )
    http_sink.fail_next(1, status=502)

    first = notifier.send(msg())
    assert first.failure is FailureKind.TRANSIENT
    assert first.error is not None and "HTTP 502" in first.error and "already delivered to E-Mail#1" in first.error

    assert notifier.send(msg()).ok
    assert len(smtp_sink.wait_for(1)) == 1  # the email was not sent twice
    assert [p.status for p in http_sink.wait_for(2)] == [502, 200]


class _Boom(NotifyBase):  # type: ignore[misc]
    """A plugin class whose send raises with the message in the exception."""

    service_name = "Boom"
    protocol = "lifecycletestboom"
    secure_protocol = "lifecycletestbooms"

    def send(self, body: str, title: str = "", notify_type: object = None, **kwargs: object) -> bool:
        raise ValueError(f"cannot send {title} {body}")

    def url(self, privacy: bool = False, *args: object, **kwargs: object) -> str:
        return "lifecycletestboom://host"

    @staticmethod
    def parse_url(url: str) -> dict[str, object] | None:
        return NotifyBase.parse_url(url, verify_host=False)  # type: ignore[no-any-return]


def _register_test_plugins() -> None:
    from apprise.decorators import notify

    N_MGR.add(_Boom)

    @notify(on="lifecycletestraise", name="Raising decorator")
    def _raise(body: str, title: str, notify_type: str, *args: object, **kwargs: object) -> bool:
        raise ValueError(f"cannot send {title} {body}")


@pytest.mark.parametrize(("url", "raised"), [
    ("lifecycletestboom://host", "raised ValueError"),  # apprise's core catches and logs it with its traceback
    ("lifecycletestraise://host", "raised an exception"),  # a @notify plugin: apprise's wrapper catches it
])
def test_a_plugin_that_raises_is_a_permanent_failure_and_its_exception_is_not_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, url: str, raised: str
) -> None:
    _register_test_plugins()
    notifier = AppriseNotifier(config(tmp_path, (url, "rm-RM0001")), timeout=5)
    delivery = notifier.send(msg())
    assert delivery.failure is FailureKind.PERMANENT and raised in (delivery.error or "")
    assert TEXT_SECRET not in (delivery.error or "")
    assert_no_content_logged(caplog)


# --- logging ----------------------------------------------------------------------------

def test_control_plain_apprise_at_debug_logs_the_body(http_sink: HttpSink, caplog: pytest.LogCaptureFixture) -> None:
    """Why the adapter captures apprise's records: without it the check above would fail."""
    import apprise

    plain = apprise.Apprise()
    plain.add(http_sink.url("/hook"))
    assert plain.notify(body=msg().text, title=msg().title)
    assert TEXT_SECRET in caplog.text



def test_apprise_records_of_other_callers_still_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    AppriseNotifier(EXAMPLE)  # installs the filter
    logging.getLogger("apprise").warning("a record of some other apprise user")
    assert "a record of some other apprise user" in caplog.text


# --- configuration ----------------------------------------------------------------------

def test_the_example_configuration_loads_with_every_channel(caplog: pytest.LogCaptureFixture) -> None:
    notifier = AppriseNotifier(EXAMPLE)
    names = {label.split("#")[0] for label in notifier.services}
    assert {"E-Mail", "WeCom Bot", "DingTalk", "Feishu", "Lark (Feishu)", "Slack", "JSON"} <= names
    assert notifier.services_for(msg(route=("rm-RM0001",))) == ["E-Mail#1[branch-310101,rm-rm0001]"]


@pytest.mark.parametrize(("tags", "complaint"), [
    ("branch:310101", "retry count"),
    ("rm:RM0001", "not routable"),
    ("2:rm-RM0001", "priorities"),
    ("always", "every route"),
])
def test_a_tag_the_notifier_cannot_route_by_is_a_config_error(tmp_path: Path, tags: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        AppriseNotifier(config(tmp_path, ("json://127.0.0.1:9/hook", tags)))


def test_an_untagged_service_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "apprise.yml"
    path.write_text("version: 1\nurls:\n  - json://127.0.0.1:9/hook\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no tag"):
        AppriseNotifier(path)


def test_an_unreadable_entry_is_a_config_error_that_quotes_no_secret(tmp_path: Path) -> None:
    path = config(tmp_path, ("json://127.0.0.1:9/hook", "rm-RM0001"), ("nosuch://s3cr3t-token@host", "rm-RM0002"),
                  ("wecombot://bad*key", "rm-RM0003"))
    with pytest.raises(ConfigError, match="entry #2") as caught:
        AppriseNotifier(path)
    assert "s3cr3t" not in str(caught.value) and "bad*key" not in str(caught.value)


def test_a_missing_configuration_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        AppriseNotifier(tmp_path / "absent.yml")
