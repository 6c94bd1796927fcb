"""Run one phase of the night after integration in this process, optionally killing it at a kill point.

    python tests/support/night_child.py --phase decide --as-of 2026-06-30 [--notify apprise.yml] [--kill-at P]
    python tests/support/night_child.py --phase rotate --keyring-file new.json [--batch 50] [--kill-at P]
    python tests/support/night_child.py --phase erase --customer-ref CUS… [--kill-at P]

Phases, as the flows run them (without Prefect):

* ``decide``: the date's features and decisions, labels and groups, retention
  tasks, loyalty points, the RMs' digests into the outbox and, with
  ``--notify``, their dispatch through apprise;
* ``rotate``: master-key rotation to the keyring file's active version;
* ``erase``: one customer's erasure.

Settings come from the environment (``LIFECYCLE_HOME``, ``LIFECYCLE_KEYRING_FILE`` …;
``--keyring-file`` overrides the keyring). The clock is 10:00 in Asia/Shanghai on the
day after ``--as-of`` (outside quiet hours, whatever the test machine's hour), plus
``--offset`` seconds. Exit codes: 0 done (prints a JSON summary), 3 a deliberate
error (printed), -SIGKILL when killed at the point.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from lifecycle.bootstrap import Context
    from tests.support.clocks import MovableClock

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for tests.support


def _clock(as_of: date, offset: float) -> MovableClock:
    from tests.support.clocks import MovableClock

    bank = datetime(as_of.year, as_of.month, as_of.day, 10, tzinfo=ZoneInfo("Asia/Shanghai")) + timedelta(days=1)
    return MovableClock(bank.astimezone().replace(tzinfo=None) + timedelta(seconds=offset))


def _decide(ctx: Context, as_of: date, notify: Path | None) -> dict[str, object]:
    from lifecycle.care.digests import enqueue_digests
    from lifecycle.care.loyalty import post_day
    from lifecycle.care.outbox import dispatch
    from lifecycle.care.service import plan_retention
    from lifecycle.decisioning.service import decide_day
    from lifecycle.segments.service import label_day

    decided = decide_day(ctx, as_of)
    label_day(ctx, as_of)
    plan_retention(ctx, as_of)
    post_day(ctx, as_of)
    digests = enqueue_digests(ctx, as_of)
    out: dict[str, object] = {"customers": decided.summary.get("customers"), "digests": digests.enqueued}
    if notify is not None:
        from notifications.apprise_notifier import AppriseNotifier
        from notifications.renderer import TemplateRenderer

        rules = ctx.care_rules.rules
        sent = dispatch(ctx.engine, ctx.clock, AppriseNotifier(notify, timeout=30),
                        TemplateRenderer(), rules.dispatcher, rules.quiet_hours, kinds=["rm_digest"])
        out.update(sent=sent.sent, retried=sent.retried, failed=sent.failed)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", choices=["decide", "rotate", "erase"], required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument("--kill-at")
    parser.add_argument("--offset", type=float, default=0.0, help="seconds added to the clock")
    parser.add_argument("--notify", type=Path, help="apprise YAML: dispatch the digests")
    parser.add_argument("--keyring-file", type=Path, help="rotate: the keyring with the new active version")
    parser.add_argument("--batch", type=int, default=50, help="rotate: keys per batch")
    parser.add_argument("--customer-ref", help="erase: the customer")
    args = parser.parse_args()
    from lifecycle.bootstrap import build_context
    from lifecycle.errors import LifecycleError
    from lifecycle.privacy.keyring import Keyring
    from tests.support.killpoints import arm

    if args.kill_at:
        arm(args.kill_at)
    keyring = Keyring.from_file(args.keyring_file) if args.keyring_file else None
    ctx = build_context(keyring=keyring, clock=_clock(args.as_of, args.offset))
    try:
        if args.phase == "decide":
            out = _decide(ctx, args.as_of, args.notify)
        elif args.phase == "rotate":
            from lifecycle.protection.rotation import rotate_master_key

            rotated = rotate_master_key(ctx.engine, ctx.keystore, ctx.keyring, batch_size=args.batch)
            out = {"rewrapped": rotated.total, "stale": rotated.stale, "batches": rotated.batches}
        else:
            from lifecycle.protection.erasure import erase_customer

            erased = erase_customer(ctx.engine, ctx.keystore, args.customer_ref, "reliability-test",
                                    "crash-consistency check", ctx.clock.now())
            out = erased.as_dict()
    except LifecycleError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    finally:
        ctx.dispose()
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
