"""``bank-lifecycle quarantine …``: data stewards review and release rejected rows.

``list`` shows rows (open by default) with their run, business date, rules
and the raw row masked (PII never printed in clear), 50 at a time unless
``--limit N`` or ``--all``, as text, ``--json`` or ``--csv``; ``release ID …
--note "what was fixed"`` marks rows for the next run of their source to
reprocess. An unknown source, or an id that is not an open quarantined row,
is refused (exit code 1) and nothing is released.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Mapping
from typing import Any, TextIO

from lifecycle.cli import open_context
from lifecycle.cli.output import add_listing_options, page_limit, write_listing
from lifecycle.integration import quarantine
from lifecycle.status import QuarantineStatus


def register(groups: Any) -> None:
    group = groups.add_parser("quarantine", help="review and release rows rejected by the quality gate")
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="quarantined rows with their rules (raw row masked)")
    listing.add_argument("--source", help="only this source (a name in the sources configuration)")
    listing.add_argument("--status", default=QuarantineStatus.OPEN, type=QuarantineStatus,
                         choices=list(QuarantineStatus), help="rows in this state (default: %(default)s)")
    add_listing_options(listing, "rows")
    listing.set_defaults(handler=list_rows)
    release = commands.add_parser("release", help="release rows after a fix; the next run reprocesses them")
    release.add_argument("ids", type=int, nargs="+", metavar="ID", help="quarantine ids, as `list` shows them (#ID)")
    release.add_argument("--note", required=True, help="what was fixed (recorded with the release)")
    release.add_argument("--actor", default=getpass.getuser(), help="who releases (default: the current user)")
    release.set_defaults(handler=release_rows)


def _text(r: Mapping[str, Any]) -> str:
    return (f"#{r['id']}  {r['source']}  {r['file']} row {r['row_number']}  key {r['source_key']}  [{r['rules']}]  "
            f"run {str(r['run_id'])[:8]} of {r['as_of'] or '-'}\n"
            f"      {json.dumps(r['row'], ensure_ascii=False)}\n")


def list_rows(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    with ctx.engine.connect() as conn:
        rows = quarantine.list_rows(conn, ctx.keystore, ctx.keyring, ctx.sources, source=args.source,
                                    status=args.status, limit=page_limit(args))
        total = quarantine.count_rows(conn, source=args.source, status=args.status)
    columns = ["id", "source", "file", "row_number", "source_key", "rules", "run_id", "as_of", "created_at", "row"]
    records = rows[columns].to_dict("records") if len(rows) else []
    noun = f"{args.status} quarantined row(s)" + (f" of {args.source}" if args.source else "")
    write_listing(args, out, records, total, noun, _text)
    return 0


def release_rows(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    with ctx.engine.begin() as conn:
        count = quarantine.release(conn, args.ids, actor=args.actor, note=args.note, now=ctx.clock.now())
    out.write(f"released {count} of {len(args.ids)} row(s); the next run of their source reprocesses them\n")
    return 0
