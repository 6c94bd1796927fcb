"""Listings on the command line: text for people, ``--json`` or ``--csv`` for tools, explicit paging.

Every listing command calls :func:`add_listing_options` (``--json``, ``--csv``,
``--limit N``, ``--all``) and writes with :func:`write_listing`. Text ends with
"showing N of M …"; JSON (one object per line) and CSV (a header row) keep
standard output machine-readable, so there the same line goes to standard
error, and only when rows were left out.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TextIO

DEFAULT_LIMIT = 50


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def add_listing_options(parser: argparse.ArgumentParser, noun: str, default_limit: int = DEFAULT_LIMIT) -> None:
    """``--json`` / ``--csv`` (exclusive) and ``--limit N`` / ``--all`` (exclusive) on a listing command."""
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_const", dest="format", const="json",
                       help="one JSON object per line (no text around it)")
    shape.add_argument("--csv", action="store_const", dest="format", const="csv",
                       help="CSV with a header row (nested values as JSON)")
    paging = parser.add_mutually_exclusive_group()
    paging.add_argument("--limit", type=positive_int, default=default_limit, metavar="N",
                        help=f"show at most N {noun} (default: %(default)s)")
    paging.add_argument("--all", action="store_true", help=f"show every {noun}, however many")
    parser.set_defaults(format="text")


def page_limit(args: argparse.Namespace) -> int | None:
    """The number of rows to fetch: None with ``--all``."""
    return None if args.all else int(args.limit)


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _cell(value: object) -> object:
    value = _plain(value)
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else value


def write_listing(args: argparse.Namespace, out: TextIO, records: Sequence[Mapping[str, Any]], total: int,
                  noun: str, text: Callable[[Mapping[str, Any]], str], err: TextIO | None = None) -> None:
    """Write ``records`` (``total`` match in all) as text, JSON lines or CSV, with the paging line."""
    showing = f"showing {len(records):,} of {total:,} {noun}"
    if len(records) < total:
        showing += " (--limit N or --all for more)"
    if args.format == "json":
        out.writelines(json.dumps({k: _plain(v) for k, v in r.items()}, ensure_ascii=False, default=str) + "\n"
                       for r in records)
    elif args.format == "csv":
        if records:
            writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: _cell(v) for k, v in r.items()} for r in records)
    else:
        out.writelines(text(r) for r in records)
        out.write(showing + "\n")
        return
    if len(records) < total:
        print(showing, file=err or sys.stderr)
