"""``bank-lifecycle quarantine …``: data stewards review and release rejected rows.

``list`` shows rows (open by default) with their run, business date, rules
and the raw row masked (PII never printed in clear), 50 at a time unless
``--limit N`` or ``--all``, as text, ``--json`` or ``--csv``; ``release ID …
--note "what was fixed"`` marks rows for the next run of their source to
reprocess. Rows are chosen by id and/or ``--source``, ``--rule``, ``--file``
(all given must hold); the command first prints what the next run will
reprocess (rows per source, rule and file), and ``--dry-run`` stops there.
``undo-release`` puts released rows back to open, until the next run of their
source has fed them. ``reveal ID --reason "…"`` shows the failing values of
one row in clear (by default the columns its rules name; ``--column`` chooses),
after recording the reveal in ``quarantine_reveal_audit``. An unknown source, an id that is not in the state the
command needs, or a choice that matches nothing is refused (exit code 1) and
nothing is changed.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, TextIO

from lifecycle.cli import UsageError, open_context
from lifecycle.cli.output import add_listing_options, page_limit, write_listing
from lifecycle.integration import quarantine
from lifecycle.integration.quarantine_reveal import reveal_row as reveal_values
from lifecycle.integration.release import Selection, select_rows, undo_release
from lifecycle.status import QuarantineStatus


def register(groups: Any) -> None:
    group = groups.add_parser("quarantine", help="review and release rows rejected by the quality gate")
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="quarantined rows with their rules (raw row masked)")
    listing.add_argument("--source", help="only this source (a name in the sources configuration)")
    listing.add_argument("--status", default=QuarantineStatus.OPEN, type=QuarantineStatus,
                         choices=list(QuarantineStatus), help="rows in this state (default: %(default)s)")
    listing.add_argument("--rule", help="only rows that broke this rule (e.g. owner_known)")
    listing.add_argument("--file", help="only rows of this landing file (its path or name)")
    listing.add_argument("--run", help="only rows quarantined by this run (its id or first characters, "
                         "as the run report shows it)")
    add_listing_options(listing, "rows")
    listing.set_defaults(handler=list_rows)
    releasing = commands.add_parser("release", help="release rows after a fix; the next run reprocesses them")
    _choice_options(releasing, "open")
    releasing.add_argument("--note", help="what was fixed (required, recorded with the release)")
    releasing.add_argument("--dry-run", action="store_true", help="show what would be reprocessed; release nothing")
    releasing.add_argument("--actor", default=getpass.getuser(), help="who releases (default: the current user)")
    releasing.set_defaults(handler=release_rows)
    undoing = commands.add_parser("undo-release",
                                  help="put released rows back to open, before the next run feeds them")
    _choice_options(undoing, "released")
    undoing.add_argument("--actor", default=getpass.getuser(), help="who undoes it (default: the current user)")
    undoing.set_defaults(handler=reopen_rows)
    revealing = commands.add_parser("reveal", help="show a quarantined row's failing values in clear (audited)")
    revealing.add_argument("id", type=int, metavar="ID", help="the quarantine id, as `list` shows it (#ID)")
    revealing.add_argument("--reason", help="why the values are needed (required; recorded with the reveal)")
    revealing.add_argument("--column", action="append", default=[], metavar="COLUMN",
                           help="reveal this source column (repeatable; default: the columns the row's rules name)")
    revealing.add_argument("--actor", default=getpass.getuser(), help="who reveals (default: the current user)")
    revealing.set_defaults(handler=reveal_row)


def _choice_options(parser: argparse.ArgumentParser, status: str) -> None:
    parser.add_argument("ids", type=int, nargs="*", metavar="ID", help="quarantine ids, as `list` shows them (#ID)")
    parser.add_argument("--source", help=f"every {status} row of this source")
    parser.add_argument("--rule", help=f"every {status} row that broke this rule (e.g. code_in_set)")
    parser.add_argument("--file", help=f"every {status} row of this landing file (its path or name)")


def _selection(args: argparse.Namespace) -> Selection:
    selection = Selection(tuple(args.ids), args.source, args.rule, args.file)
    if selection.empty:
        raise UsageError("say which rows: quarantine ids, or --source, --rule or --file")
    return selection


def _text(r: Mapping[str, Any]) -> str:
    return (f"#{r['id']}  {r['source']}  {r['file']} row {r['row_number']}  key {r['source_key']}  [{r['rules']}]  "
            f"run {str(r['run_id'])[:8]} of {r['as_of'] or '-'}\n"
            f"      {json.dumps(r['row'], ensure_ascii=False)}\n")


def list_rows(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    narrowed = Selection(rule=args.rule, file=args.file, run=args.run)
    with ctx.engine.connect() as conn:
        if narrowed.empty:
            rows = quarantine.list_rows(conn, ctx.keystore, ctx.keyring, ctx.sources, source=args.source,
                                        status=args.status, limit=page_limit(args))
            total = quarantine.count_rows(conn, source=args.source, status=args.status)
        else:
            chosen = select_rows(conn, ctx.sources, replace(narrowed, source=args.source), args.status,
                                 required=False).ids
            limit = page_limit(args)
            rows = quarantine.list_rows(conn, ctx.keystore, ctx.keyring, ctx.sources, source=args.source,
                                        status=args.status, limit=None, ids=chosen[:limit])
            total = len(chosen)
    columns = ["id", "source", "file", "row_number", "source_key", "rules", "run_id", "as_of", "created_at", "row"]
    records = rows[columns].to_dict("records") if len(rows) else []
    noun = f"{args.status} quarantined row(s)" + (f" of {args.source}" if args.source else "") + (
        f" matching {narrowed.describe()}" if not narrowed.empty else "")
    write_listing(args, out, records, total, noun, _text)
    return 0


def release_rows(args: argparse.Namespace, out: TextIO) -> int:
    selection = _selection(args)
    if not args.dry_run and not (args.note or "").strip():
        raise UsageError('a release needs --note "what was fixed" (or --dry-run to see what it would reprocess)')
    ctx = open_context()
    with ctx.engine.begin() as conn:
        chosen = select_rows(conn, ctx.sources, selection, QuarantineStatus.OPEN)
        out.write(f"the next run of their source will reprocess {len(chosen.ids):,} row(s):\n")
        out.writelines(f"  {line}\n" for line in chosen.lines())
        if args.dry_run:
            out.write("dry run: nothing released\n")
            return 0
        count = quarantine.release(conn, chosen.ids, actor=args.actor, note=args.note, now=ctx.clock.now())
    out.write(f"released {count:,} of {len(chosen.ids):,} row(s); until the next run of their source, "
              "`bank-lifecycle quarantine undo-release` with the same choice puts them back\n")
    return 0


def reopen_rows(args: argparse.Namespace, out: TextIO) -> int:
    selection = _selection(args)
    ctx = open_context()
    with ctx.engine.begin() as conn:
        chosen = select_rows(conn, ctx.sources, selection, QuarantineStatus.RELEASED)
        count = undo_release(conn, chosen.ids, actor=args.actor, now=ctx.clock.now())
    out.write(f"{count:,} released row(s) are open again; the next run will not reprocess them\n")
    out.writelines(f"  {line}\n" for line in chosen.lines())
    return 0


def reveal_row(args: argparse.Namespace, out: TextIO) -> int:
    if not (args.reason or "").strip():
        raise UsageError('reveal needs --reason "…": every reveal is recorded with its reason')
    ctx = open_context()
    values = reveal_values(ctx.engine, ctx.keystore, ctx.keyring, ctx.sources, args.id, args.column,
                           actor=args.actor, reason=args.reason, now=ctx.clock.now())
    out.write(f"quarantined row #{args.id}, revealed to {args.actor} (recorded in quarantine_reveal_audit):\n")
    for v in values:
        rules = f"  [{', '.join(v.rules)}]" if v.rules else ""
        out.write(f"  {v.column}: {json.dumps(v.value, ensure_ascii=False)}{rules}\n")
    return 0
