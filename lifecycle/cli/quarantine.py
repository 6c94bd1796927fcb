"""``bank-lifecycle quarantine …``: data stewards review and release rejected rows.

``list`` shows open rows with their rules and the raw row masked (PII never
printed in clear); ``release ID … --note "what was fixed"`` marks rows for the
next run of their source to reprocess.
"""

from __future__ import annotations

import argparse
import getpass
import json
from typing import Any, TextIO

from lifecycle.cli import open_context
from lifecycle.integration import quarantine
from lifecycle.status import QuarantineStatus


def register(groups: Any) -> None:
    group = groups.add_parser("quarantine", help="review and release rows rejected by the quality gate")
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="quarantined rows with their rules (raw row masked)")
    listing.add_argument("--source", help="only this source")
    listing.add_argument("--status", default=QuarantineStatus.OPEN, type=QuarantineStatus,
                         choices=list(QuarantineStatus))
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=list_rows)
    release = commands.add_parser("release", help="release rows after a fix; the next run reprocesses them")
    release.add_argument("ids", type=int, nargs="+", metavar="ID")
    release.add_argument("--note", required=True, help="what was fixed")
    release.add_argument("--actor", default=getpass.getuser())
    release.set_defaults(handler=release_rows)


def list_rows(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    with ctx.engine.connect() as conn:
        rows = quarantine.list_rows(conn, ctx.keystore, ctx.keyring, ctx.sources, source=args.source,
                                    status=args.status, limit=args.limit)
    if rows.empty:
        out.write(f"no {args.status} quarantined rows\n")
        return 0
    for r in rows.itertuples():
        out.write(f"#{r.id}  {r.source}  {r.file} row {r.row_number}  key {r.source_key}  [{r.rules}]\n")
        out.write(f"      {json.dumps(r.row, ensure_ascii=False)}\n")
    return 0


def release_rows(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    with ctx.engine.begin() as conn:
        count = quarantine.release(conn, args.ids, actor=args.actor, note=args.note, now=ctx.clock.now())
    out.write(f"released {count} of {len(args.ids)} row(s); the next run of their source reprocesses them\n")
    return 0
