"""``python -m bench --scale S|M|L|curve [--database-url URL] [--out DIR] [--profile]``.

Runs the daily pipeline at a fixed scale and writes ``<out>/<scale>-<timestamp>.{md,json}``
and ``<out>/latest-<scale>.{md,json}`` (``--out`` defaults to ``var/bench/reports``).
``--scale curve`` (or ``--scales S,M,L``) runs several scales, each in a process of
its own, and writes the scaling curve. The only module of the package that prints.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # before anything imports GX

from bench.runner import STEPS
from bench.scales import CURVE, SCALES, scale_named

DEFAULT_ROOT = Path("var") / "bench"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", default="S", help=f"{', '.join(SCALES)} or curve (default S)")
    parser.add_argument("--scales", default=None,
                        help=f"comma-separated scales for a curve (default {','.join(CURVE)})")
    parser.add_argument("--database-url", default=None,
                        help="run on this PostgreSQL server (a fresh database per run) instead of SQLite")
    parser.add_argument("--out", type=Path, default=None, help="reports folder (default var/bench/reports)")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                        help="profile the slowest stage (default: on for M and L)")
    parser.add_argument("--profile-step", choices=[s for s in STEPS if s != "other"], default=None,
                        help="profile this stage instead of the slowest (implies --profile)")
    parser.add_argument("--keep", action="store_true", help="keep the run's databases and working folder")
    parser.add_argument("--from-reports", action="store_true",
                        help="curve only: build it from the latest reports instead of running the scales")
    # Hidden: for tests and experiments.
    parser.add_argument("--customers", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--profiler", choices=("auto", "pyinstrument", "cprofile"), default="auto",
                        help=argparse.SUPPRESS)
    return parser


def redacted(argv: list[str]) -> list[str]:
    """The command line as the report records it: a database URL without its password."""
    from sqlalchemy.engine import make_url

    def hide(url: str) -> str:
        try:
            return make_url(url).render_as_string(hide_password=True)
        except Exception:  # not a URL argparse will accept anyway
            return "***"

    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg.startswith("--database-url="):
            out.append("--database-url=" + hide(arg.split("=", 1)[1]))
        elif i and argv[i - 1] == "--database-url":
            out.append(hide(arg))
        else:
            out.append(arg)
    return out


def _run_one(args: argparse.Namespace, argv: list[str]) -> int:
    from bench.report import fmt_bytes, fmt_ratio, fmt_seconds
    from bench.suite import Options, run_scale

    scale = scale_named(args.scale, args.customers)
    out_dir = args.out or args.root / "reports"
    profile = scale.profile_by_default if args.profile is None else args.profile
    profile = profile or args.profile_step is not None
    print(f"bench {scale.name}: {scale.customers:,} customers on {args.database_url and 'PostgreSQL' or 'SQLite'}"
          f"{' with profile' if profile else ''} ...", flush=True)
    outcome = run_scale(Options(scale, args.root, out_dir, args.database_url, profile, args.profiler, args.keep,
                                args.profile_step, argv))
    r = outcome.report
    full = r.get("full_run") or {}
    print(f"full run: {full.get('status')} in {fmt_seconds(full.get('wall_seconds'))} s"
          + (f" ({full.get('error')})" if full.get("error") else ""))
    for step, seconds in (full.get("steps") or {}).items():
        print(f"  {step:<12} {fmt_seconds(seconds):>10} s")
    ratios = r["ratios"]
    print(f"pipeline/floor {fmt_ratio(ratios['pipeline_floor'])}; incremental/full "
          f"{fmt_ratio(ratios['incremental_full'], percent=True)}; peak RSS "
          f"{fmt_bytes(r['memory']['pipeline_peak_bytes'])}; verdict {r['verdict']['overall']}")
    for name, error in r.get("errors", {}).items():
        if not name.endswith("_traceback"):
            print(f"  error in {name}: {error}")
    print(f"report: {outcome.paths['md']}")
    return 0 if full.get("status") == "succeeded" else 1


def _run_curve(args: argparse.Namespace) -> int:
    from bench.curve import run_curve

    names = [s.strip().upper() for s in (args.scales or ",".join(CURVE)).split(",") if s.strip()]
    out_dir = args.out or args.root / "reports"
    try:
        result, path = run_curve(names, out_dir=out_dir, root=args.root, database_url=args.database_url,
                                 profile=args.profile, from_reports=args.from_reports)
    except (FileNotFoundError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for point in result["points"]:
        print(f"{point['scale']:>3}: {point['customers']:>9,} customers  {point['full_seconds']:>9.1f} s  "
              f"{point['ms_per_customer']:.3f} ms/customer")
    print(f"curve: {result['shape']} ({result['summary']})")
    print(f"report: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(raw)
    if args.scale.lower() == "curve" or args.scales:
        return _run_curve(args)
    try:
        scale_named(args.scale, args.customers)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return _run_one(args, redacted(raw))


if __name__ == "__main__":
    raise SystemExit(main())
