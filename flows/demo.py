"""`make demo`: the daily pipeline on generated data, on the embedded default.

Generates a development keyring (marked development-only) and a synthetic
bank's landing files, runs the daily flow on SQLite with Prefect's ephemeral
API, runs it again to show that a second run of the same day changes nothing,
and prints the run report's table, where the results are, and the one line
that lets the command line find them afterwards (``LIFECYCLE_HOME`` and the
keyring variable).

A home holds one synthetic bank: the demo records its parameters in
``<home>/demo.json``; run again with the same ones it says it reuses the home
(the day is loaded already, so both runs skip), with other ones it refuses
rather than load a second bank on top of the first.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

MARKER = "demo.json"


class HomeInUse(Exception):
    """The home already holds a synthetic bank made with other parameters."""


def claim_home(home: Path, bank: str, holds_runs: Callable[[], bool]) -> bool:
    """Record that ``home`` holds the synthetic ``bank``; True when it held it already.

    Raises :class:`HomeInUse` when it holds another bank, or a database with runs
    the demo did not record (``holds_runs``); an empty or new database is claimed.
    """
    marker = home / MARKER
    if marker.exists():
        held = str(json.loads(marker.read_text(encoding="utf-8")).get("bank"))
        if held != bank:
            raise HomeInUse(f"{home} holds the demo bank {held}; loading {bank} would put a second bank on top "
                            f"of it: run `make clean` first, or give this one a home of its own (--home)")
        return True
    if holds_runs():
        raise HomeInUse(f"{home} holds a database with runs the demo did not record: run `make clean` first, "
                        "or give the demo a home of its own (--home)")
    home.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"bank": bank}) + "\n", encoding="utf-8")
    return False


def _holds_runs() -> bool:
    """Whether the configured main database has recorded any ingestion run (without creating it)."""
    from sqlalchemy import func, inspect, select

    from lifecycle.settings import get_settings
    from lifecycle.store.db import make_engine, missing_sqlite_file
    from lifecycle.store.models import IngestionRun

    url = get_settings().resolved_database_url
    get_settings.cache_clear()  # the demo sets more variables before the flows read the settings
    if missing_sqlite_file(url):
        return False
    engine = make_engine(url)
    try:
        if IngestionRun.__tablename__ not in inspect(engine).get_table_names():
            return False
        with engine.connect() as conn:
            return bool(conn.execute(select(func.count()).select_from(IngestionRun)).scalar_one())
    finally:
        engine.dispose()


def newcomer_line(home: Path, environ: Mapping[str, str] = os.environ) -> str:
    """The ``export`` line that points the command line at the demo's home and keyring."""
    line = f"export LIFECYCLE_HOME={shlex.quote(environ.get('LIFECYCLE_HOME', str(home)))}"
    if "LIFECYCLE_KEYRING_FILE" in environ:
        return f"{line} LIFECYCLE_KEYRING_FILE={shlex.quote(environ['LIFECYCLE_KEYRING_FILE'])}"
    return f"{line}   # and LIFECYCLE_KEYRING (or LIFECYCLE_KEYRING_FILE), as for this run"


def _counts(counts: object) -> str:
    if not isinstance(counts, dict):
        return str(counts)
    return ", ".join(f"{name} {n:,}" if isinstance(n, int) else f"{name} {n}" for name, n in counts.items())


def _prepare(home: Path, customers: int, seed: int, as_of: date, flaw_rate: float) -> Path:
    from lifecycle.privacy.keyring import generate_keyring, write_keyring
    from lifecycle.synth.cli import main as synth

    os.environ.setdefault("LIFECYCLE_HOME", str(home))
    if not (os.environ.get("LIFECYCLE_KEYRING") or os.environ.get("LIFECYCLE_KEYRING_FILE")):
        keyring_file = home / "dev-keyring.json"
        if not keyring_file.exists():
            write_keyring(generate_keyring(development_only=True), keyring_file)
            print(f"generated a DEVELOPMENT-ONLY keyring: {keyring_file}")
        os.environ["LIFECYCLE_KEYRING_FILE"] = str(keyring_file)
    out = home / "generated" / f"n{customers}-s{seed}-{as_of}"
    if not (out / "truth" / "manifest.json").exists():
        synth(["--customers", str(customers), "--seed", str(seed), "--as-of", as_of.isoformat(),
               "--out", str(out), "--flaw-rate", str(flaw_rate)])
    os.environ["LIFECYCLE_LANDING_DIR"] = str(out / "landing")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000, help="customers of the synthetic bank")
    parser.add_argument("--seed", type=int, default=42, help="random seed of the generator")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 6, 30), help="business date")
    parser.add_argument("--flaw-rate", type=float, default=0.005, help="share of planted flawed rows")
    parser.add_argument("--home", type=Path, default=Path("var"), help="the demo's home (default: %(default)s)")
    args = parser.parse_args(argv)

    home = args.home.resolve()
    os.environ.setdefault("LIFECYCLE_HOME", str(home))
    bank = f"n{args.customers}-s{args.seed}-{args.as_of}-f{args.flaw_rate}"
    try:
        if claim_home(home, bank, _holds_runs):
            print(f"reusing {home}, which holds the demo bank {bank}: its day is loaded already")
    except HomeInUse as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    generated = _prepare(home, args.customers, args.seed, args.as_of, args.flaw_rate)
    from flows.daily import daily_lifecycle
    from lifecycle.bootstrap import build_context, upgrade_stores
    from lifecycle.integration.report import render_text, run_report
    from lifecycle.settings import get_settings
    from tasks.ephemeral import local_api

    upgrade_stores()  # what `bank-lifecycle db upgrade` does: the schema is an explicit step
    with local_api():  # a Prefect API that cannot outlive this process
        first = daily_lifecycle(args.as_of)
        second = daily_lifecycle(args.as_of)
    settings = get_settings()
    print()
    print(f"daily run {args.as_of}: {first['status']}; second run of the same day: {second['status']}")
    if first["status"] != "skipped":
        ctx = build_context()  # the report reads counts only: the keyring is not opened
        try:
            with ctx.engine.connect() as conn:
                print(render_text(run_report(conn, str(first["run_id"]), ctx.sources)), end="")
        finally:
            ctx.dispose()
    decided = first.get("decisions")
    if isinstance(decided, dict):
        print(f"decided: {decided.get('customers', 0):,} customers")
        for key, label in (("lifecycle_stage", "stages"), ("value_tier", "value tiers"), ("risk_tier", "risk tiers")):
            print(f"  {label:<12} {_counts(decided.get(key))}")
    print()
    print(f"database:        {settings.resolved_database_url}")
    print(f"landing files:   {generated / 'landing' / args.as_of.isoformat()}")
    print(f"ground truth:    {generated / 'truth'}")
    print(f"reports:         {settings.resolved_reports_dir.resolve()}")
    print(f"data docs:       {(settings.data_docs_dir / 'index.html').resolve()}")
    report = first.get("management_report")
    if report:
        print(f"management:      {report}")
    print(f"explain one:     LIFECYCLE_HOME={args.home} .venv/bin/bank-lifecycle decision explain CUS0000000001")
    print()
    print("to use the command line on these results (from any folder), first run:")
    print(f"  {newcomer_line(home)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
