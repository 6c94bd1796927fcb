"""``bank-lifecycle customer show|find``: the masked view, blind-index search, audited reveal.

``show CUSTOMER_REF`` prints the customer 360, masked (see customer360.py). ``--reveal --reason "…"`` first
records a ``reveal_audit`` row, then prints the chosen fields in clear
(``--fields name,mobile,…``; ``--actor`` defaults to ``$USER``). ``find
--id-no`` / ``--mobile`` searches through the blind index and prints masked
results only; without a value on the command line the value is read from
standard input, or prompted for without echo on a terminal, so that it does not
land in the shell history.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any, TextIO

from sqlalchemy import Connection

from lifecycle.care.consent import consent_rows
from lifecycle.care.loyalty import ledger_summary
from lifecycle.cli import UsageError, open_context
from lifecycle.cli.customer360 import render_360
from lifecycle.clock import bank_today
from lifecycle.protection.customers import check_customer_ref, customer_row
from lifecycle.protection.reveal import DEFAULT_FIELDS, REVEALABLE, CustomerView, audited_find, customer_view
from lifecycle.protection.reveal import reveal as reveal_fields

ASK = object()  # the option was given without a value: read it from stdin or a prompt


def register(groups: Any) -> None:
    """Add the ``customer`` group to the top-level subparsers."""
    customer = groups.add_parser("customer", help="masked view, blind-index search and audited reveal")
    commands = customer.add_subparsers(dest="command", metavar="COMMAND", required=True)
    show = commands.add_parser("show", help="the masked view of a customer; --reveal decrypts (audited)")
    show.add_argument("customer_ref", metavar="CUSTOMER_REF", help="e.g. CUS0000000042")
    show.add_argument("--reveal", action="store_true", help="decrypt --fields after recording the reveal")
    show.add_argument("--reason", help="why the fields are needed (required with --reveal; audited)")
    show.add_argument("--fields", default=",".join(DEFAULT_FIELDS),
                      help=f"comma-separated, of: {', '.join(REVEALABLE)} (default: %(default)s)")
    show.add_argument("--actor", help="who reveals (default: $USER)")
    show.set_defaults(handler=show_customer)
    find = commands.add_parser("find", help="find customers by ID number or mobile (blind index, masked output)")
    which = find.add_mutually_exclusive_group(required=True)
    which.add_argument("--id-no", nargs="?", const=ASK, help="resident ID number; omit the value to be prompted")
    which.add_argument("--mobile", nargs="?", const=ASK, help="mobile number; omit the value to be prompted")
    find.add_argument("--reason", required=True, help="why you search (recorded in lookup_audit with your name)")
    find.add_argument("--actor", help="who searches (default: $USER)")
    find.set_defaults(handler=find_customer)


def _consent(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def render_view(view: CustomerView) -> str:
    """The masked view as aligned lines."""
    rows = [
        ("customer", f"{view.customer_ref} ({view.customer_type})"),
        ("name", view.name_masked), ("mobile", view.mobile_masked), ("id_no", view.id_no_masked),
        ("branch", view.branch_code), ("rm", view.rm_id),
        ("open_date", view.open_date.isoformat() if view.open_date else None),
        ("consent", _consent(view.marketing_consent)),
        ("erased", view.erased_at.isoformat(sep=" ") if view.erased_at else "no"),
        ("accounts", str(view.accounts)), ("cards", str(view.cards)),
    ]
    return "".join(f"{label:<10} {value if value is not None else '-'}\n" for label, value in rows)


def render_loyalty(conn: Connection, customer_ref: str) -> str:
    """The customer's points balance, recent ledger entries and per-channel consent changes."""
    customer_id = int(customer_row(conn, customer_ref).customer_id)
    summary = ledger_summary(conn, customer_id, 5)
    lines = [f"{'points':<10} {summary['balance']:,} (earned {summary['earned']:,}, redeemed "
             f"{summary['redeemed']:,}, expired {summary['expired']:,})\n"]
    lines += [f"{'':<10} {e['date']} {e['kind']:<7} {e['points']:>+8,} {e['source'] or ''}\n"
              for e in summary["recent"]]  # type: ignore[attr-defined]
    lines += [f"{'consent':<10} {r['channel']}: {'yes' if r['granted'] else 'no'} ({r['source']}, "
              f"{r['changed_at']})\n" for r in consent_rows(conn, customer_id)]
    return "".join(lines)


def show_customer(args: argparse.Namespace, out: TextIO) -> int:
    if args.reveal and not (args.reason or "").strip():
        raise UsageError('--reveal needs --reason "…": every reveal is recorded with its reason')
    check_customer_ref(args.customer_ref)  # before any store is opened: the value may be PII
    ctx = open_context()
    with ctx.engine.connect() as conn:
        out.write(render_view(customer_view(conn, args.customer_ref)))
        out.write(render_loyalty(conn, args.customer_ref))
        customer_id = int(customer_row(conn, args.customer_ref).customer_id)
        out.write(render_360(conn, customer_id, complaint_overdue_days=ctx.care_rules.rules.retention.triggers
                             .complaint_overdue_days, today=bank_today(ctx.clock)))
    if args.reveal:
        actor = args.actor or os.environ.get("USER") or getpass.getuser()
        pairs = reveal_fields(ctx.engine, ctx.keystore, ctx.keyring, args.customer_ref,
                              args.fields.split(","), actor=actor, reason=args.reason,
                              now=ctx.clock.now())
        out.write(f"revealed to {actor} (recorded in reveal_audit):\n")
        out.writelines(f"{name:<10} {value if value is not None else '-'}\n" for name, value in pairs)
    return 0


def read_value(label: str, stdin: TextIO | None = None) -> str:
    """A value from a no-echo prompt on a terminal, else the first line of stdin."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        return getpass.getpass(f"{label}: ")
    return stdin.readline().strip()


def find_customer(args: argparse.Namespace, out: TextIO) -> int:
    label, value = ("id_no", args.id_no) if args.id_no is not None else ("mobile", args.mobile)
    if value is ASK:
        value = read_value(label)
    ctx = open_context()
    actor = args.actor or os.environ.get("USER") or getpass.getuser()
    found = audited_find(ctx.engine, ctx.keyring, actor=actor, reason=args.reason, now=ctx.clock.now(),
                         **{label: value})
    if not found:
        out.write("no customer found\n")
        return 1
    for view in found:
        out.write(render_view(view) + "\n")
    return 0
