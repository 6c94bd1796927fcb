"""Flows that reach people: RM digests, care campaigns and the outbox dispatcher.

``rm-digests`` (09:00 on working days): one digest per relationship manager (or
branch queue) for the latest decided date, written to the outbox and sent.
``care-campaigns`` (08:30 every day): the day's greetings and loyalty messages to
customers (see lifecycle/care/campaigns.py), queued and sent.
``dispatch-outbox`` (every few minutes, one at a time): sends whatever is due —
retries with back-off, never in quiet hours, never twice.
"""

from __future__ import annotations

from datetime import date

import holidays
from prefect import flow, get_run_logger

from lifecycle.care.campaigns import CAMPAIGNS, kind_of, plan_campaigns
from lifecycle.care.digests import enqueue_digests
from lifecycle.clock import bank_today, previous_day
from tasks.care import dispatch_outbox, publish_campaigns, publish_delivery, publish_digests
from tasks.context import flow_context
from tasks.steps import PrefectSteps


def is_working_day(day: date) -> bool:
    """A working day in mainland China: not a public holiday, and a weekday or one of the
    weekends the State Council makes a working day (the ``holidays`` package knows both)."""
    return bool(holidays.country_holidays("CN", years=day.year).is_working_day(day))


@flow(name="rm-digests", log_prints=False, persist_result=False)
def rm_digests(as_of: date | None = None, working_days_only: bool = True) -> dict[str, object]:
    """Queue and send each RM's digest of retention tasks.

    Args:
        as_of: the decided date the digests are about (default: yesterday in Asia/Shanghai).
        working_days_only: on a weekend or public holiday (China calendar) send nothing.
    """
    ctx = flow_context()
    day = as_of or previous_day(ctx.clock)
    if working_days_only and not is_working_day(bank_today(ctx.clock)):
        get_run_logger().info("%s is not a working day: no digests", bank_today(ctx.clock))
        return {"skipped": "not a working day"}
    steps = PrefectSteps(after={"digests": publish_digests, "dispatch": publish_delivery})
    digests = steps("digests", enqueue_digests, ctx, day)
    sent = steps("dispatch", dispatch_outbox, ctx, ["rm_digest"])
    return {"enqueued": digests.enqueued, "assignees": len(digests.assignees), "sent": sent.sent,
            "retried": sent.retried, "failed": sent.failed}


@flow(name="care-campaigns", log_prints=False, persist_result=False)
def care_campaigns(on: date | None = None, send: bool = True) -> dict[str, object]:
    """Queue the day's greetings and loyalty messages to customers, then send what is due.

    Birthdays (solar or lunar), the configured festivals, account anniversaries, tier upgrades of the
    latest decisions, and on the monthly day the tier offers and points statements: only with consent
    for the channel, within the frequency cap, never in quiet hours, each occasion once.

    Args:
        on: the day the greetings are for (default: today in Asia/Shanghai).
        send: dispatch the queued care messages right away (otherwise dispatch-outbox sends them).
    """
    ctx = flow_context()
    day = on or bank_today(ctx.clock)
    steps = PrefectSteps(after={"campaigns": publish_campaigns, "dispatch": publish_delivery})
    planned = steps("campaigns", plan_campaigns, ctx, day)
    out: dict[str, object] = {"queued": sum(planned.queued.values()), "festival": planned.festival,
                              "suppressed": sum(sum(v.values()) for v in planned.suppressed.values())}
    if send:
        sent = steps("dispatch", dispatch_outbox, ctx, [kind_of(c) for c in CAMPAIGNS])
        out.update(sent=sent.sent, retried=sent.retried, failed=sent.failed, withheld=sent.withheld,
                   quiet_hours=sent.quiet)
    return out


@flow(name="dispatch-outbox", log_prints=False, persist_result=False)
def dispatch_outbox_flow() -> dict[str, object]:
    """Send every outbox message that is due (see lifecycle/care/outbox.py for the guarantees)."""
    ctx = flow_context()
    steps = PrefectSteps(after={"dispatch": publish_delivery})
    sent = steps("dispatch", dispatch_outbox, ctx)
    return {"claimed": sent.claimed, "sent": sent.sent, "retried": sent.retried, "failed": sent.failed,
            "lost_lease": sent.lost_lease, "quiet_hours": sent.quiet}
