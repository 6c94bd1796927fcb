"""The installed ``bank-lifecycle``: the domain's command groups plus ``run``, which runs the flows locally.

``bank-lifecycle run daily --as-of 2026-06-30`` runs the same flow a deployment
runs, on Prefect's ephemeral API (no server, no worker) or on the server that
``PREFECT_API_URL`` names; its tasks, retries and artifacts are the deployment's.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TextIO

from lifecycle import cli

GROUPS = (*cli.COMMAND_GROUPS, "flows.cli")


def _print(out: TextIO, name: str, result: object) -> int:
    out.write(f"{name}: " + json.dumps(result, ensure_ascii=False, default=str, sort_keys=True) + "\n")
    return 0


def _daily(args: argparse.Namespace, out: TextIO) -> int:
    from flows.daily import daily_lifecycle
    from tasks.context import flow_context

    flow_context()  # settings, stores and the sources configuration checked before the flow starts (exit 1)
    return _print(out, "daily-lifecycle", daily_lifecycle(as_of=args.as_of, sources=args.source or None,
                                                          decide=not args.no_decide))


def _decide(args: argparse.Namespace, out: TextIO) -> int:
    from flows.daily import decide_dates

    return _print(out, "decide-dates", decide_dates(start=args.start, end=args.end))


def _campaigns(args: argparse.Namespace, out: TextIO) -> int:
    from flows.care import care_campaigns

    return _print(out, "care-campaigns", care_campaigns(on=args.on, send=not args.no_send))


def _digests(args: argparse.Namespace, out: TextIO) -> int:
    from flows.care import rm_digests

    return _print(out, "rm-digests", rm_digests(as_of=args.as_of, working_days_only=not args.any_day))


def _dispatch(args: argparse.Namespace, out: TextIO) -> int:
    from flows.care import dispatch_outbox_flow

    return _print(out, "dispatch-outbox", dispatch_outbox_flow())


def _groups(args: argparse.Namespace, out: TextIO) -> int:
    from flows.segments import refresh_groups

    return _print(out, "refresh-groups", refresh_groups(as_of=args.as_of))


def _refit(args: argparse.Namespace, out: TextIO) -> int:
    from flows.segments import refit_models

    return _print(out, "refit-models", refit_models(as_of=args.as_of))


def _rotate(args: argparse.Namespace, out: TextIO) -> int:
    from flows.rotate_keys import rotate_master_key

    return _print(out, "rotate-master-key", rotate_master_key(batch_size=args.batch_size))


def _erase(args: argparse.Namespace, out: TextIO) -> int:
    from flows.erase_customer import erase_customer

    return _print(out, "erase-customer", erase_customer(customer_ref=args.customer, requested_by=args.requested_by,
                                                        reason=args.reason))


def _purge(args: argparse.Namespace, out: TextIO) -> int:
    from flows.purge import purge

    return _print(out, "purge", purge(purge_file=args.purge_file, today=args.today))


def _with_writer_limit(handler: Callable[[argparse.Namespace, TextIO], int]
                       ) -> Callable[[argparse.Namespace, TextIO], int]:
    """Run ``handler`` after creating the database-writer limit on the ephemeral API (tasks/limits.py), so
    that a local run serialises its writers as a server does (and logs no "limit does not exist" per task)."""
    def run(args: argparse.Namespace, out: TextIO) -> int:
        from lifecycle.protection.customers import check_customer_ref
        from lifecycle.settings import get_settings
        from tasks.context import flow_context
        from tasks.limits import ensure_ephemeral_writer_limit

        if getattr(args, "customer", None) is not None:  # before anything, even the settings: the value may be PII
            check_customer_ref(args.customer)
        flow_context()  # settings, stores and sources configuration first: a bad one exits 1 before any API starts
        ensure_ephemeral_writer_limit(get_settings().resolved_database_url)
        return handler(args, out)

    return run


def register(groups: Any) -> None:
    run = groups.add_parser("run", help="run a flow here, as its deployment would (ephemeral Prefect API "
                                        "unless PREFECT_API_URL is set)")
    commands = run.add_subparsers(dest="command", metavar="FLOW", required=True)

    def command(name: str, handler: Callable[[argparse.Namespace, TextIO], int], text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = commands.add_parser(name, help=text, description=text)
        parser.set_defaults(handler=_with_writer_limit(handler))
        return parser

    daily = command("daily", _daily, "integrate a day's extracts, decide it, label it, plan its tasks and points")
    daily.add_argument("--as-of", type=date.fromisoformat, help="business date (default: yesterday, Asia/Shanghai)")
    daily.add_argument("--source", action="append", help="only this source (repeatable; default: all)")
    daily.add_argument("--no-decide", action="store_true", help="integrate only")
    decide = command("decide", _decide, "decide every date from --start to --end (a back-fill)")
    decide.add_argument("--start", type=date.fromisoformat, required=True, help="first as-of date")
    decide.add_argument("--end", type=date.fromisoformat, help="last as-of date (default: the start)")
    campaigns = command("campaigns", _campaigns, "plan and send the day's care campaigns")
    campaigns.add_argument("--on", type=date.fromisoformat, help="the campaigns' day (default: today)")
    campaigns.add_argument("--no-send", action="store_true", help="plan only; the dispatcher sends later")
    digests = command("digests", _digests, "queue and send the RM digests of a day")
    digests.add_argument("--as-of", type=date.fromisoformat, help="the tasks' date (default: today)")
    digests.add_argument("--any-day", action="store_true", help="also on a weekend or public holiday")
    command("dispatch", _dispatch, "send what is due in the outbox")
    groups_ = command("groups", _groups, "label the latest decided date again and refresh the customer groups")
    groups_.add_argument("--as-of", type=date.fromisoformat, help="a decided date (default: the latest)")
    refit = command("refit", _refit, "fit the activity and spend models again on the latest decided date")
    refit.add_argument("--as-of", type=date.fromisoformat, help="a decided date (default: the latest)")
    rotate = command("rotate-keys", _rotate, "re-wrap every data key under the keyring's active master key")
    rotate.add_argument("--batch-size", type=int, default=10_000, help="data keys per transaction")
    erase = command("erase", _erase, "erase one customer's personal data (audited)")
    erase.add_argument("--customer", required=True, help="the customer reference, e.g. CUS0000000042 (never PII)")
    erase.add_argument("--requested-by", required=True, help="who asked (recorded)")
    erase.add_argument("--reason", required=True, help="why, e.g. the request's ticket (recorded)")
    purge = command("purge", _purge, "delete data past its keeping period")
    purge.add_argument("--purge-file", help="keeping periods YAML (default: the packaged one)")
    purge.add_argument("--today", type=date.fromisoformat, help="the day to purge as of (default: today)")


def build_parser() -> argparse.ArgumentParser:
    return cli.build_parser(GROUPS)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    return cli.main(argv, out, GROUPS)


if __name__ == "__main__":
    raise SystemExit(main())
