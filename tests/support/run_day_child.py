"""Run one day's integration in this process, optionally killing it at a kill point.

    python tests/support/run_day_child.py --as-of 2026-06-30 [--kill-at inside-fact-load]

Settings come from the environment (``LIFECYCLE_HOME``, ``LIFECYCLE_LANDING_DIR``,
``LIFECYCLE_KEYRING_FILE`` …). Exit codes: 0 the run succeeded or was skipped,
3 it failed with an error (printed), -SIGKILL when killed at the point.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for tests.support


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--kill-at")
    args = parser.parse_args()
    from lifecycle.bootstrap import build_context
    from lifecycle.integration.service import run_day
    from tests.support.killpoints import arm

    if args.kill_at:
        arm(args.kill_at)
    try:
        result = run_day(build_context(), args.as_of)
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    print(result.status)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
