"""Command line: ``python -m lifecycle.synth --customers N --seed S --as-of D --out DIR``."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lifecycle.synth.config import SynthConfig
from lifecycle.synth.generate import generate


def _drop(value: str) -> tuple[str, str]:
    source, sep, column = value.partition(":")
    if not sep or not source or not column:
        raise argparse.ArgumentTypeError("expected SOURCE:COLUMN, e.g. core_customers:mobile")
    return source, column


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lifecycle.synth",
        description="Generate synthetic landing files for a Chinese retail and corporate bank, "
        "with planted personas, duplicates and data-quality flaws and their ground truth.",
    )
    parser.add_argument("--customers", type=int, required=True, help="customers (~95%% individuals)")
    parser.add_argument("--seed", type=int, required=True, help="random seed")
    parser.add_argument("--as-of", type=_date, required=True, help="as-of date YYYY-MM-DD")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--txns-per-customer", type=float, default=20.0,
                        help="average core transactions per customer (default 20)")
    parser.add_argument("--flaw-rate", type=float, default=0.0,
                        help="share of rows given one planted flaw (default 0)")
    parser.add_argument("--encoding-flaw", action="append", default=[], metavar="SOURCE",
                        help="write SOURCE in the wrong encoding (repeatable)")
    parser.add_argument("--drop-column", action="append", default=[], type=_drop,
                        metavar="SOURCE:COLUMN", help="leave a column out (repeatable)")
    parser.add_argument("--delta-fraction", type=float, default=None,
                        help="write only the day's changes for about this share of customers")
    parser.add_argument("--verbose", action="store_true", help="log progress per chunk")
    return parser


@contextmanager
def _progress_log(verbose: bool) -> Iterator[None]:
    """The generator's log lines on stderr for the command's duration, through a handler of its own.

    The root logger is left alone: ``main`` is also called as a library (the demo calls
    it before it imports Prefect), and a root handler installed here would make Prefect
    keep it instead of its own console format for every run log line that follows.
    """
    logger = logging.getLogger("lifecycle.synth")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with _progress_log(args.verbose):
        return _generate(args)


def _generate(args: argparse.Namespace) -> int:
    config = SynthConfig(
        customers=args.customers, seed=args.seed, as_of=args.as_of, out=args.out,
        txns_per_customer=args.txns_per_customer, flaw_rate=args.flaw_rate,
        encoding_flaws=tuple(args.encoding_flaw), drop_columns=tuple(args.drop_column),
        delta_fraction=args.delta_fraction,
    )
    try:
        summary = generate(config)
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    print(f"{summary.mode} extract for {config.as_of} in {summary.seconds:.1f} s -> {summary.out}")
    for f in summary.files:
        print(f"  {f.path:<55} {f.rows:>12,} rows {f.bytes / 1e6:>10.1f} MB  {f.encoding}")
    return 0
