"""What the flows add around the care services: the notification channel, artifacts.

The notifier is the apprise adapter (``notifications/``) built from the
platform team's apprise YAML (``LIFECYCLE_NOTIFY_CONFIG``); without one,
messages stay in the outbox (``pending``) until a configured dispatcher runs.
"""

from __future__ import annotations

from prefect.artifacts import create_markdown_artifact

from lifecycle.bootstrap import Context
from lifecycle.care.campaigns import CampaignResult
from lifecycle.care.consent import withheld
from lifecycle.care.digests import DigestResult
from lifecycle.care.loyalty import LedgerResult
from lifecycle.care.outbox import DispatchSummary, dispatch
from lifecycle.care.sending import CustomerContexts
from lifecycle.care.service import RetentionResult
from lifecycle.errors import ConfigError
from notifications.apprise_notifier import AppriseNotifier
from notifications.renderer import TemplateRenderer


def notifier_of(ctx: Context) -> AppriseNotifier:
    config = ctx.settings.notify_config
    if config is None:
        raise ConfigError("LIFECYCLE_NOTIFY_CONFIG is not set: point it at the apprise YAML of the notification "
                          "channels (see notifications/apprise.example.yml); messages wait in the outbox meanwhile")
    return AppriseNotifier(config, timeout=ctx.settings.notify_timeout)


def renderer_of(ctx: Context) -> TemplateRenderer:
    """Templates, with customer contexts opened in the send step (the keyring is read on the first one)."""
    return TemplateRenderer(decrypt=CustomerContexts(ctx.engine, ctx.keystore, lambda: ctx.keyring,
                                                     ctx.care_rules.rules.campaigns.signature))


def dispatch_outbox(ctx: Context, kinds: list[str] | None = None) -> DispatchSummary:
    """Send what is due through the configured channels (a task of the flows); care messages of
    customers who opted out meanwhile are withdrawn instead."""
    rules = ctx.care_rules.rules
    return dispatch(ctx.engine, ctx.clock, notifier_of(ctx), renderer_of(ctx), rules.dispatcher,
                    rules.quiet_hours, kinds=kinds, withhold=withheld)


def publish_campaigns(result: CampaignResult) -> None:
    keys = sorted(set(result.planned) | set(result.suppressed))
    lines = [f"# Care campaigns {result.day}", "",
             f"Festival: {result.festival or 'none'}; tiers from the decisions of {result.decided_as_of or '-'}; "
             f"held for the end of quiet hours: {result.deferred_quiet_hours:,}.", "",
             "| campaign / channel | planned | queued | already queued | no consent | opted out | over the cap |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for k in keys:
        why = result.suppressed.get(k, {})
        lines.append(f"| {k} | {result.planned.get(k, 0):,} | {result.queued.get(k, 0):,} | "
                     f"{result.already_queued.get(k, 0):,} | {why.get('no_consent', 0):,} | "
                     f"{why.get('opted_out', 0):,} | {why.get('frequency_cap', 0):,} |")
    create_markdown_artifact(markdown="\n".join(lines) + "\n", key="care-campaigns",
                             description=f"Care messages planned, queued and suppressed, {result.day}")


def publish_ledger(result: LedgerResult) -> None:
    lines = [f"# Loyalty points {result.as_of}", "", f"Earned {result.earned_points:,} points in "
             f"{result.earned_entries:,} entries; expired {result.expired_points:,} in {result.expired_entries:,}.",
             "", "| earned on | points |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in sorted(result.by_source.items())]
    create_markdown_artifact(markdown="\n".join(lines) + "\n", key="loyalty-ledger",
                             description=f"Points earned and expired, {result.as_of}")


def publish_retention(result: RetentionResult) -> None:
    lines = [f"# Retention tasks {result.as_of}", "", f"New {result.created:,}; expired {result.expired:,}; "
             f"customers with a task already open {result.already_open:,}; entitlement changes "
             f"{result.entitlement_changes:,}.", "", "| assignee (RM or branch queue) | new tasks |", "|---|---:|"]
    lines += [f"| {who} | {n:,} |" for who, n in sorted(result.by_assignee.items())]
    lines += ["", "| trigger | new tasks |", "|---|---:|"]
    lines += [f"| {t} | {n:,} |" for t, n in sorted(result.by_trigger.items())]
    create_markdown_artifact(markdown="\n".join(lines) + "\n", key="retention-tasks",
                             description=f"Retention tasks created per RM and branch, {result.as_of}")


def publish_digests(result: DigestResult) -> None:
    create_markdown_artifact(markdown=f"# RM digests {result.as_of}\n\n{result.enqueued:,} digest(s) queued for "
                             f"{len(result.assignees):,} assignee(s), {result.tasks_listed:,} task line(s).\n",
                             key="rm-digests", description="Digests written to the outbox")


def publish_delivery(summary: DispatchSummary) -> None:
    lines = ["# Delivery", "", "Quiet hours: nothing sent." if summary.quiet else
             f"Claimed {summary.claimed:,}; sent {summary.sent:,}; retried {summary.retried:,}; "
             f"failed {summary.failed:,}; lost lease {summary.lost_lease:,}; withdrawn (opted out) "
             f"{summary.withheld:,}.", "",
             "| kind / channel | outcome | messages |", "|---|---|---:|"]
    lines += [f"| {kind} | {outcome} | {n:,} |" for kind, counts in sorted(summary.by_kind.items())
              for outcome, n in sorted(counts.items())]
    lines += [f"| {kind} | still queued | {n:,} |" for kind, n in sorted(summary.queued.items())]
    create_markdown_artifact(markdown="\n".join(lines) + "\n", key="delivery-report",
                             description="Outbox messages sent, retried and failed by kind")
