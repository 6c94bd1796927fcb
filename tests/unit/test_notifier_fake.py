"""The Notifier port's value types and its in-memory fake, as a dispatcher's tests will use them."""

from __future__ import annotations

import threading

import pytest

from lifecycle.care.notifier import (
    MAX_ERROR_LENGTH,
    Delivery,
    FailureKind,
    InMemoryNotifier,
    Notifier,
    OutboundMessage,
    SimulatedCrash,
    branch_tag,
    rm_tag,
    team_tag,
)

SECRET = "张三 13812345678"


def message(key: str = "rm_digest:2026-06-30:RM0001", route: tuple[str, ...] = ("rm-RM0001",)) -> OutboundMessage:
    return OutboundMessage(
        key=key, kind="rm_digest", channel="apprise", route=route,
        title=f"今日任务 {SECRET}", text=f"客户 {SECRET}", html=f"<p>{SECRET}</p>",
    )


# --- OutboundMessage -------------------------------------------------------------------

def test_repr_of_a_message_shows_its_route_but_none_of_its_content() -> None:
    text = repr(message())
    assert "rm_digest:2026-06-30:RM0001" in text and "rm-RM0001" in text
    assert "张三" not in text and "13812345678" not in text


def test_message_is_frozen() -> None:
    with pytest.raises(AttributeError):
        message().text = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("tag", ["branch:310101", "2:rm-RM0001", "rm RM0001", "", "-x", "rm-RM0001;drop"])
def test_a_tag_apprise_would_misread_is_refused_naming_it(tag: str) -> None:
    with pytest.raises(ValueError, match="not routable"):
        message(route=(tag,))


def test_route_entries_are_alternatives_of_required_tags() -> None:
    m = message(route=("rm-RM0001", "branch-310101 , team-Wealth"))
    assert m.route == ("rm-RM0001", "branch-310101,team-Wealth")
    assert m.route_groups == (frozenset({"rm-rm0001"}), frozenset({"branch-310101", "team-wealth"}))


def test_a_single_string_route_is_one_entry_not_its_characters() -> None:
    m = OutboundMessage(key="k1", kind="rm_digest", channel="apprise", route="rm-RM0001",  # type: ignore[arg-type]
                        title="t", text="b")
    assert m.route == ("rm-RM0001",)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"key": ""}, "message key"),
        ({"key": "has space"}, "message key"),
        ({"key": "x" * 129}, "message key"),
        ({"key": "键"}, "message key"),
        ({"channel": "c" * 17}, "channel"),
        ({"route": ()}, "route"),
        ({"text": "  "}, "text body"),
    ],
)
def test_an_unusable_message_is_refused(changes: dict[str, object], complaint: str) -> None:
    fields: dict[str, object] = {"key": "k1", "kind": "rm_digest", "channel": "apprise", "route": ("rm-RM0001",),
                                 "title": "t", "text": "body"}
    fields.update(changes)
    with pytest.raises(ValueError, match=complaint):
        OutboundMessage(**fields)  # type: ignore[arg-type]


def test_tag_helpers_build_the_platform_tags() -> None:
    assert (rm_tag("RM0001"), branch_tag("310101"), team_tag("wealth")) == ("rm-RM0001", "branch-310101", "team-wealth")
    with pytest.raises(ValueError):
        rm_tag("RM 1")


# --- Delivery --------------------------------------------------------------------------

def test_delivery_kinds() -> None:
    assert Delivery.sent("id-1") == Delivery(ok=True, channel_id="id-1")
    assert Delivery.transient("HTTP 503").retryable
    assert not Delivery.permanent("HTTP 404").retryable
    assert not Delivery.sent().retryable


def test_a_delivery_cannot_be_both_ok_and_failed_or_fail_silently() -> None:
    with pytest.raises(ValueError):
        Delivery(ok=True, failure=FailureKind.TRANSIENT, error="x")
    with pytest.raises(ValueError):
        Delivery(ok=False)
    with pytest.raises(ValueError):
        Delivery(ok=False, failure=FailureKind.PERMANENT, error="")


def test_a_long_error_is_cut_to_the_outbox_column() -> None:
    error = Delivery.transient("x" * 2000).error
    assert error is not None and len(error) == MAX_ERROR_LENGTH and error.endswith("…")


# --- InMemoryNotifier ------------------------------------------------------------------

def test_the_fake_is_a_notifier_and_records_deliveries_in_order() -> None:
    fake = InMemoryNotifier()
    assert isinstance(fake, Notifier)
    first, second = message("k1"), message("k2")
    assert fake.send(first).ok and fake.send(second).ok
    assert fake.delivered == [first, second]
    assert fake.attempts == ["k1", "k2"]
    assert fake.send(first).channel_id == "mem-3"
    assert fake.count("k1") == 2


def test_scripted_failures_apply_to_the_next_sends_of_that_key_only() -> None:
    fake = InMemoryNotifier()
    fake.fail_next("k1", times=2)
    outcomes = [fake.send(message("k1")) for _ in range(3)]
    assert [d.failure for d in outcomes] == [FailureKind.TRANSIENT, FailureKind.TRANSIENT, None]
    assert fake.send(message("k2")).ok
    assert fake.delivered_keys() == ["k1", "k2"]
    assert fake.attempts == ["k1", "k1", "k1", "k2"]


def test_a_permanent_failure_carries_its_error_and_delivers_nothing() -> None:
    fake = InMemoryNotifier()
    fake.fail_next("k1", kind=FailureKind.PERMANENT, error="HTTP 404 (rejected)")
    delivery = fake.send(message("k1"))
    assert delivery == Delivery.permanent("HTTP 404 (rejected)")
    assert fake.delivered == []


def test_raise_next_raises_and_delivers_nothing() -> None:
    fake = InMemoryNotifier()
    fake.raise_next("k1", RuntimeError("adapter bug"))
    with pytest.raises(RuntimeError, match="adapter bug"):
        fake.send(message("k1"))
    assert fake.delivered == [] and fake.attempts == ["k1"]
    assert fake.send(message("k1")).ok


def test_crash_after_send_delivers_but_the_caller_never_hears_back() -> None:
    fake = InMemoryNotifier()
    fake.crash_after_next("k1")
    with pytest.raises(SimulatedCrash):
        fake.send(message("k1"))
    assert not issubclass(SimulatedCrash, Exception)  # a dispatcher's catch-all must not swallow a crash
    assert fake.delivered_keys() == ["k1"]
    assert fake.send(message("k1")).ok
    assert fake.count("k1") == 2  # the naive retry after a crash is the duplicate the outbox must prevent


def test_steps_queue_in_the_order_they_were_scripted() -> None:
    fake = InMemoryNotifier()
    fake.fail_next("k1")
    fake.crash_after_next("k1")
    assert fake.send(message("k1")).retryable
    with pytest.raises(SimulatedCrash):
        fake.send(message("k1"))
    assert fake.send(message("k1")).ok
    assert fake.count("k1") == 2


def test_scripting_zero_times_is_a_mistake() -> None:
    with pytest.raises(ValueError):
        InMemoryNotifier().fail_next("k1", times=0)


def test_with_known_tags_the_fake_routes_like_the_adapter() -> None:
    fake = InMemoryNotifier(known_tags=["rm-RM0001", "branch-310101"])
    fake.fail_next("k3")
    assert fake.send(message("k1", ("rm-rm0001",))).ok
    assert fake.send(message("k2", ("branch-310101,rm-RM0001",))).ok
    unknown = fake.send(message("k3", ("rm-RM0002", "branch-310101,team-ops")))
    assert unknown.failure is FailureKind.PERMANENT and "rm-RM0002" in (unknown.error or "")
    assert fake.delivered_keys() == ["k1", "k2"]
    assert fake.send(message("k3", ("rm-RM0001",))).retryable  # the scripted step was not used up by routing


def test_the_fake_is_safe_across_threads() -> None:
    fake = InMemoryNotifier()
    threads = [threading.Thread(target=lambda i=i: [fake.send(message(f"k{i}-{j}")) for j in range(50)])
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(fake.delivered) == 400 and len(set(fake.delivered_keys())) == 400
