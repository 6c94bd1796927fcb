"""`make demo`: the daily pipeline on generated data, on the embedded default.

Generates a development keyring (marked development-only) and a synthetic
bank's landing files, runs the daily flow on SQLite with Prefect's ephemeral
API, runs it again to show that a second run of the same day changes nothing,
and prints where the results are.
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path


def _prepare(home: Path, customers: int, seed: int, as_of: date, flaw_rate: float) -> Path:
    from lifecycle.privacy.keyring import generate_keyring, write_keyring
    from lifecycle.synth.cli import main as synth

    home.mkdir(parents=True, exist_ok=True)
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
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument("--flaw-rate", type=float, default=0.005, help="share of planted flawed rows")
    parser.add_argument("--home", type=Path, default=Path("var"))
    args = parser.parse_args(argv)

    generated = _prepare(args.home.resolve(), args.customers, args.seed, args.as_of, args.flaw_rate)
    from flows.daily import daily_lifecycle
    from lifecycle.bootstrap import upgrade_stores
    from lifecycle.settings import get_settings
    from tasks.ephemeral import local_api

    upgrade_stores()  # what `bank-lifecycle db upgrade` does: the schema is an explicit step
    with local_api():  # a Prefect API that cannot outlive this process
        first = daily_lifecycle(args.as_of)
        second = daily_lifecycle(args.as_of)
    settings = get_settings()
    print()
    print(f"daily run {args.as_of}: {first['status']}; second run of the same day: {second['status']}")
    sources: dict[str, dict[str, int]] = first["sources"]  # type: ignore[assignment]
    for source, counts in sources.items():
        print(f"  {source:<22} read {counts['rows_read']:>9,}  failed checks {counts['rows_failed']:>6,}")
    print(f"loaded: {first['loaded']}")
    decided = first.get("decisions")
    if isinstance(decided, dict):
        print(f"decided: {decided.get('customers', 0):,} customers; stages {decided.get('lifecycle_stage')}; "
              f"value tiers {decided.get('value_tier')}; risk tiers {decided.get('risk_tier')}")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
