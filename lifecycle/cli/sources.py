"""``bank-lifecycle sources scaffold|suite|check``: onboarding an extract by configuration.

* ``scaffold FILE… --out DIR`` profiles extracts and drafts their sources entries
  (``DIR/sources.yaml``, every guess marked ``# REVIEW``) and their suites
  (``DIR/expectations/``); nothing is overwritten without ``--force``.
* ``suite SOURCE…`` (or ``--all``) derives sources' GX suites from their
  configuration: one printed, or written into the suites folder with ``--write``
  (``--force`` to replace).
* ``check`` says whether every source's suite agrees with its configuration — what
  every run checks before it reads a file.

None of them opens a database. ``--json`` makes the output one JSON object per line.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from lifecycle.cli import UsageError
from lifecycle.cli.output import positive_int
from lifecycle.errors import ConfigError
from lifecycle.integration.quality.agreement import check_sources
from lifecycle.integration.quality.derive import derive_suite, suite_json
from lifecycle.integration.scaffold import scaffold
from lifecycle.integration.scaffold.profile import SAMPLE_ROWS
from lifecycle.integration.sources import load_sources
from lifecycle.settings import get_settings


def register(groups: Any) -> None:
    """Add the ``sources`` group to the top-level subparsers."""
    sources = groups.add_parser("sources", help="onboard extracts: draft their config and suites, derive and "
                                                "check suites")
    commands = sources.add_subparsers(dest="command", metavar="COMMAND", required=True)
    draft = commands.add_parser("scaffold", help="profile extracts and draft their sources entries and suites",
                                description="Profile CSV extracts (encoding, delimiter, types, keys, code sets, "
                                            "date formats, amounts, likely PII) and draft DIR/sources.yaml and "
                                            "DIR/expectations/<source>.json for a steward to review.")
    draft.add_argument("files", nargs="+", type=Path, metavar="FILE", help="an extract (CSV); one source each")
    draft.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder the drafts are written to")
    draft.add_argument("--force", action="store_true", help="overwrite drafts already in DIR")
    draft.add_argument("--sample-rows", type=positive_int, default=SAMPLE_ROWS, metavar="N",
                       help="profile at most N rows of a file, sampled evenly (default: %(default)s)")
    draft.add_argument("--json", action="store_true", help="one JSON object per drafted source")
    draft.set_defaults(handler=scaffold_sources)
    suite = commands.add_parser("suite", help="derive sources' GX suites from their configuration")
    suite.add_argument("sources", nargs="*", metavar="SOURCE", help="a configured source (several with --write)")
    suite.add_argument("--all", action="store_true", help="with --write: every configured source")
    _config_options(suite)
    suite.add_argument("--write", action="store_true", help="write it to the suites folder instead of printing it")
    suite.add_argument("--force", action="store_true", help="with --write: replace an existing suite file")
    suite.set_defaults(handler=derive_source_suite)
    check = commands.add_parser("check", help="whether every source's suite agrees with its configuration")
    _config_options(check)
    check.add_argument("--json", action="store_true", help="one JSON object per disagreement")
    check.set_defaults(handler=check_agreement)


def _config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sources-file", type=Path, metavar="FILE",
                        help="sources configuration (default: LIFECYCLE_SOURCES_FILE or the packaged one)")
    parser.add_argument("--suites-dir", type=Path, metavar="DIR",
                        help="suites folder (default: LIFECYCLE_SUITES_DIR or the packaged expectations/)")


def _config(args: argparse.Namespace) -> tuple[Path | None, Path]:
    settings = get_settings()
    return args.sources_file or settings.sources_file, args.suites_dir or settings.resolved_suites_dir


def scaffold_sources(args: argparse.Namespace, out: TextIO) -> int:
    result = scaffold(list(args.files), args.out, force=args.force, sample_rows=args.sample_rows)
    for profile, draft in zip(result.profiles, result.drafts, strict=True):
        record = {"source": draft.name, "file": str(profile.path), "encoding": profile.encoding,
                  "delimiter": profile.delimiter, "rows": profile.rows, "sampled": profile.sampled,
                  "columns": len(profile.columns), "entity": draft.spec["entity"], "key": draft.spec["key"],
                  "to_review": draft.review_count}
        if args.json:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            key = ", ".join(draft.spec["key"]) if isinstance(draft.spec["key"], list) else draft.spec["key"]
            out.write(f"{draft.name}: {profile.path.name}, {profile.encoding}, {profile.rows:,} rows "
                      f"({profile.sampled:,} profiled), {len(profile.columns)} columns, entity "
                      f"{draft.spec['entity']}, key {key or '(none found)'}; {draft.review_count} to review\n")
    if not args.json:
        out.writelines(f"before the first load: {p}\n" for p in result.before_first_load)
        out.write(f"drafted {result.sources_file} and {len(result.suite_files)} suite(s) in "
                  f"{result.sources_file.parent / 'expectations'}\n"
                  "next: review every line marked REVIEW, derive the suites again "
                  f"(`bank-lifecycle sources suite --all --sources-file {result.sources_file} --suites-dir "
                  f"{result.sources_file.parent / 'expectations'} --write --force`), then `bank-lifecycle sources "
                  "check` with the same options (docs/onboarding.md)\n")
    return 0


def derive_source_suite(args: argparse.Namespace, out: TextIO) -> int:
    if bool(args.sources) == args.all:
        raise UsageError("name the source(s) to derive, or pass --all")
    if not args.write and (args.all or len(args.sources) > 1):
        raise UsageError("several suites are written (--write), not printed: pass --write or one SOURCE")
    sources_file, suites_dir = _config(args)
    config = load_sources(sources_file, loader_check=False)  # a suite follows the entries; a draft may lack owners
    specs = list(config.sources.values()) if args.all else [config[name] for name in args.sources]
    if not args.write:
        out.write(suite_json(derive_suite(specs[0])))
        return 0
    paths = {spec.name: suites_dir / f"{spec.suite}.json" for spec in specs}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not args.force:
        raise ConfigError(f"{', '.join(existing)} already exist(s): nothing written; pass --force to replace")
    suites_dir.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        document = derive_suite(spec)
        paths[spec.name].write_text(suite_json(document), encoding="utf-8")
        out.write(f"{paths[spec.name]}: suite {spec.suite!r} of source {spec.name!r}, "
                  f"{len(document['expectations'])} expectations\n")
    return 0


def check_agreement(args: argparse.Namespace, out: TextIO) -> int:
    sources_file, suites_dir = _config(args)
    sources = load_sources(sources_file, loader_check=False)  # suites against entries; the run checks the rest
    found = check_sources(sources, suites_dir)
    for mismatch in found:
        if args.json:
            out.write(json.dumps({"suite_file": str(mismatch.suite_file), "expectation": mismatch.expectation,
                                  "rule": mismatch.rule, "type": mismatch.type, "column": mismatch.column,
                                  "problem": mismatch.problem}, ensure_ascii=False) + "\n")
        else:
            out.write(f"{mismatch}\n")
    if not args.json:
        out.write(f"{len(sources.sources)} source(s), {len(found)} disagreement(s) with their suites in "
                  f"{suites_dir}\n")
    return 1 if found else 0
