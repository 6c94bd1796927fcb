"""Run the outbox dispatcher in this process, optionally killing it at a kill point.

    python tests/support/dispatch_child.py --db URL --notify apprise.yml [--kill-at P] [--offset S]
        [--barrier DIR --parties N]           # wait, once imported, until N children are ready
        [--keystore URL --keyring-file PATH]   # customer messages: contexts opened, opt-outs withheld

Exit codes: 0 done (prints the summary as JSON), -SIGKILL when killed at the point.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--notify", required=True, type=Path)
    parser.add_argument("--kill-at")
    parser.add_argument("--offset", type=float, default=0.0, help="seconds added to the wall clock")
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--lease", type=int, default=60)
    parser.add_argument("--keystore", help="key store URL: open customer messages' contexts")
    parser.add_argument("--keyring-file", type=Path)
    parser.add_argument("--barrier", type=Path, help="folder where the children meet before dispatching")
    parser.add_argument("--parties", type=int, default=1)
    args = parser.parse_args()
    from lifecycle.care.config import DispatcherRules, QuietHours
    from lifecycle.care.outbox import dispatch
    from lifecycle.store.db import make_engine
    from notifications.apprise_notifier import AppriseNotifier
    from notifications.renderer import TemplateRenderer
    from tests.support.clocks import MovableClock
    from tests.support.killpoints import arm

    if args.kill_at:
        arm(args.kill_at)
    clock = MovableClock(datetime.now() + timedelta(seconds=args.offset))
    quiet = QuietHours(start="23:59", end="00:00")  # the children run at any hour of the test machine
    engine = make_engine(args.db)
    renderer, withhold = TemplateRenderer(), None
    if args.keystore:
        from lifecycle.care.consent import withheld
        from lifecycle.care.sending import CustomerContexts
        from lifecycle.privacy.keyring import Keyring
        from lifecycle.store.keystore import KeyStore

        keyring = Keyring.from_file(args.keyring_file)
        renderer = TemplateRenderer(decrypt=CustomerContexts(engine, KeyStore(make_engine(args.keystore)),
                                                             lambda: keyring, {"zh_CN": "示例银行", "en": "Bank"}))
        withhold = withheld
    if args.barrier:
        _meet(args.barrier, args.parties)
    summary = dispatch(engine, clock, AppriseNotifier(args.notify, timeout=5),
                       renderer, DispatcherRules(batch=args.batch, lease_seconds=args.lease,
                                                 backoff_seconds=1, max_attempts=5), quiet, withhold=withhold)
    print(json.dumps({"claimed": summary.claimed, "sent": summary.sent, "retried": summary.retried}))
    return 0


def _meet(folder: Path, parties: int, timeout: float = 120.0) -> None:
    """Start together: imports take seconds, so children started at once would otherwise run one after the
    other and the first could drain the outbox alone."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(os.getpid())).touch()
    deadline = time.monotonic() + timeout
    while len(list(folder.iterdir())) < parties:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(list(folder.iterdir()))} of {parties} dispatchers reached the barrier")
        time.sleep(0.01)


if __name__ == "__main__":
    raise SystemExit(main())
