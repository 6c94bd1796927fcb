"""``bank-lifecycle consent|loyalty|campaigns …``: customers' consent, their points, the campaigns' results.

``consent opt-out CUSTOMER_REF --channel sms`` records an opt-out (``all``
channels at once if asked) and withdraws the customer's waiting care messages
on it; ``consent opt-in`` records a renewed consent (with a ``--reference`` to
the signed request); ``consent import FILE.csv`` applies an opt-out extract,
all or nothing; ``consent preferences`` sets language and lunar birthday;
``consent show`` lists a customer's consent per channel.

``loyalty balance CUSTOMER_REF`` shows the points and recent entries; ``loyalty
redeem CUSTOMER_REF --reward CODE --request ID`` spends points (never below
zero; the request id makes a retry redeem once); ``loyalty reconcile`` checks
every balance against the ledger (exit code 1 on a difference).

``campaigns report [--on DATE]`` prints, per campaign and channel, what was
queued, sent, held for quiet hours and suppressed (no consent, opted out, over
the frequency cap).
"""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from lifecycle.care.campaigns import campaign_report
from lifecycle.care.consent import (
    LANGUAGES,
    apply_optouts,
    consent_rows,
    parse_optouts,
    set_consent,
    set_preferences,
)
from lifecycle.care.loyalty import ledger_summary, reconcile, redeem
from lifecycle.cli import open_context
from lifecycle.clock import bank_today
from lifecycle.protection.customers import check_customer_ref, customer_row


def _channels(ctx: Any) -> list[str]:
    camp = ctx.care_rules.rules.campaigns
    return sorted({getattr(camp, c).channel for c in ("birthday", "festival", "anniversary", "tier_upgrade",
                                                       "loyalty_offer", "points_statement")})


def register(groups: Any) -> None:
    consent = groups.add_parser("consent", help="customers' marketing consent per channel, opt-outs, preferences")
    commands = consent.add_subparsers(dest="command", metavar="COMMAND", required=True)
    out = commands.add_parser("opt-out", help="record an opt-out; waiting care messages on the channel are withdrawn")
    out.add_argument("customer_ref", metavar="CUSTOMER_REF", help="e.g. CUS0000000042")
    out.add_argument("--channel", required=True, help="a care channel (sms, email …) or all")
    out.add_argument("--reference", help="the request's id in the channel that took it")
    out.set_defaults(handler=opt_out, granted=False)
    into = commands.add_parser("opt-in", help="record a renewed marketing consent for a channel")
    into.add_argument("customer_ref", metavar="CUSTOMER_REF", help="e.g. CUS0000000042")
    into.add_argument("--channel", required=True, help="a care channel (sms, email …) or all")
    into.add_argument("--reference", required=True, help="the signed consent's reference (required)")
    into.set_defaults(handler=opt_out, granted=True)
    imp = commands.add_parser("import", help="apply an opt-out extract: CSV customer_ref,channel,opted_out_at"
                              "[,reference], all or nothing")
    imp.add_argument("file", type=Path, metavar="FILE", help="the opt-out extract (UTF-8 CSV)")
    imp.set_defaults(handler=import_optouts)
    prefs = commands.add_parser("preferences", help="language of the customer's messages and lunar birthday")
    prefs.add_argument("customer_ref", metavar="CUSTOMER_REF", help="e.g. CUS0000000042")
    prefs.add_argument("--language", choices=LANGUAGES, help="language of the customer's messages")
    prefs.add_argument("--lunar-birthday", choices=["yes", "no"],
                       help="greet on the lunar birthday instead of the solar one")
    prefs.set_defaults(handler=preferences)
    show = commands.add_parser("show", help="a customer's consent per channel")
    show.add_argument("customer_ref", metavar="CUSTOMER_REF", help="e.g. CUS0000000042")
    show.set_defaults(handler=show_consent)

    loyalty = groups.add_parser("loyalty", help="the loyalty programme's points")
    commands = loyalty.add_subparsers(dest="command", metavar="COMMAND", required=True)
    bal = commands.add_parser("balance", help="a customer's points balance and recent entries")
    bal.add_argument("customer_ref", metavar="CUSTOMER_REF", help="e.g. CUS0000000042")
    bal.add_argument("--entries", type=int, default=10, help="recent ledger entries to list (default 10)")
    bal.set_defaults(handler=balance)
    red = commands.add_parser("redeem", help="spend points on a reward of the catalogue")
    red.add_argument("customer_ref", metavar="CUSTOMER_REF", help="e.g. CUS0000000042")
    red.add_argument("--reward", required=True, help="a reward code of the catalogue (care rules, loyalty.rewards)")
    red.add_argument("--request", required=True, help="the redemption request's id: a retry redeems once")
    red.set_defaults(handler=redeem_points)
    rec = commands.add_parser("reconcile", help="check every balance against the sum of its ledger entries")
    rec.set_defaults(handler=reconcile_ledger)

    campaigns = groups.add_parser("campaigns", help="care campaigns' results")
    commands = campaigns.add_subparsers(dest="command", metavar="COMMAND", required=True)
    rep = commands.add_parser("report", help="queued, sent, held and suppressed per campaign and channel")
    rep.add_argument("--on", type=date.fromisoformat, help="the campaigns' day (default: today, Asia/Shanghai)")
    rep.add_argument("--json", action="store_true", help="one JSON object per campaign and channel")
    rep.set_defaults(handler=report)


def _which_channels(ctx: Any, channel: str) -> list[str]:
    known = _channels(ctx)
    if channel == "all":
        return known
    if channel not in known:
        from lifecycle.care.consent import ConsentError
        raise ConsentError(f"channel must be one of {', '.join([*known, 'all'])}")
    return [channel]


def opt_out(args: argparse.Namespace, out: TextIO) -> int:
    check_customer_ref(args.customer_ref)
    ctx = open_context()
    channels = _which_channels(ctx, args.channel)
    with ctx.engine.begin() as conn:
        change = set_consent(conn, args.customer_ref, channels, args.granted, source="cli",
                             reference=args.reference or f"cli:{getpass.getuser()}"[:64], now=ctx.clock.now())
    verb = "consents again to" if args.granted else "opted out of"
    out.write(f"{change.customer_ref} {verb} {change.channel}"
              + ("" if args.granted else f"; {change.cancelled} waiting message(s) withdrawn") + "\n")
    return 0


def import_optouts(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    optouts = parse_optouts(args.file, _channels(ctx))
    with ctx.engine.begin() as conn:
        customers, cancelled = apply_optouts(conn, args.file, optouts)
    out.write(f"{args.file}: {len(optouts)} opt-out(s) of {customers} customer(s) recorded; "
              f"{cancelled} waiting message(s) withdrawn\n")
    return 0


def preferences(args: argparse.Namespace, out: TextIO) -> int:
    check_customer_ref(args.customer_ref)
    ctx = open_context()
    lunar = None if args.lunar_birthday is None else args.lunar_birthday == "yes"
    with ctx.engine.begin() as conn:
        set_preferences(conn, args.customer_ref, language=args.language, lunar_birthday=lunar, now=ctx.clock.now())
    out.write(f"{args.customer_ref}: preferences recorded\n")
    return 0


def show_consent(args: argparse.Namespace, out: TextIO) -> int:
    check_customer_ref(args.customer_ref)
    ctx = open_context()
    with ctx.engine.connect() as conn:
        row = customer_row(conn, args.customer_ref)
        explicit = {str(r["channel"]): r for r in consent_rows(conn, int(row.customer_id))}
    for channel in _channels(ctx):
        r = explicit.get(channel)
        if r is None:
            flag = row.marketing_consent
            state = ("yes" if flag else "no") + " (source system's consent flag)"
        else:
            state = f"{'yes' if r['granted'] else 'no'} ({r['source']}, {r['changed_at']}, {r['reference'] or '-'})"
        out.write(f"{channel:<8} {state}\n")
    return 0


def balance(args: argparse.Namespace, out: TextIO) -> int:
    check_customer_ref(args.customer_ref)
    ctx = open_context()
    with ctx.engine.connect() as conn:
        row = customer_row(conn, args.customer_ref)
        summary = ledger_summary(conn, int(row.customer_id), args.entries)
    out.write(f"{args.customer_ref}: {summary['balance']:,} points (earned {summary['earned']:,}, redeemed "
              f"{summary['redeemed']:,}, expired {summary['expired']:,})\n")
    for e in summary["recent"]:  # type: ignore[attr-defined]
        out.write(f"  {e['date']}  {e['kind']:<7} {e['points']:>+9,}  {e['source'] or ''}\n")
    return 0


def redeem_points(args: argparse.Namespace, out: TextIO) -> int:
    check_customer_ref(args.customer_ref)
    ctx = open_context()
    with ctx.engine.begin() as conn:
        row = customer_row(conn, args.customer_ref)
        done = redeem(conn, int(row.customer_id), args.reward, args.request, ctx.care_rules.rules.loyalty,
                      day=bank_today(ctx.clock), now=ctx.clock.now())
    note = " (already redeemed: nothing changed)" if done.repeated else ""
    out.write(f"{args.customer_ref}: {args.reward} for {done.points:,} points; balance {done.balance:,}{note}\n")
    return 0


def reconcile_ledger(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    with ctx.engine.connect() as conn:
        bad = reconcile(conn)
    if not bad:
        out.write("every points balance equals the sum of its ledger entries\n")
        return 0
    for b in bad[:50]:
        out.write(f"customer {b['customer_id']}: balance {b['balance']:,}, entries sum to {b['entries']:,}\n")
    out.write(f"{len(bad)} balance(s) differ from the ledger\n")
    return 1


def report(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    day = args.on or bank_today(ctx.clock)
    with ctx.engine.connect() as conn:
        rows = campaign_report(conn, day, response_window_days=ctx.care_rules.rules.campaigns.response_window_days)
    if args.json:
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return 0
    if not rows:
        out.write(f"no care campaign messages for {day}\n")
        return 0
    head = ["campaign", "channel", "queued", "sent", "waiting", "held_for_quiet_hours", "failed", "cancelled",
            "suppressed_no_consent", "suppressed_opted_out", "suppressed_frequency_cap", "responded",
            "responded_positive"]
    out.write(f"care campaigns {day}\n" + "  ".join(head) + "\n")
    for r in rows:
        out.write("  ".join(str(r[h]) for h in head) + "\n")
    return 0
