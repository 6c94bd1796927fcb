"""Onboarding a new extract: profile it and draft its sources entry and its suite.

    result = scaffold([Path("landing/2026-06-30/clients.csv")], Path("onboarding"))

writes ``onboarding/sources.yaml`` (a loadable configuration, every guess marked
``# REVIEW``) and ``onboarding/expectations/<source>.json`` (each suite derived from
its drafted entry, so the two agree). Nothing is overwritten unless ``force``.
The command line is ``bank-lifecycle sources scaffold FILE…``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import ConfigError
from lifecycle.integration.config_check import config_problems
from lifecycle.integration.quality.derive import derive_suite, suite_json
from lifecycle.integration.scaffold.draft import DraftSource, draft_source, render_config
from lifecycle.integration.scaffold.profile import SAMPLE_ROWS, ExtractProfile, profile_extract
from lifecycle.integration.sources import load_sources

__all__ = ["ScaffoldResult", "scaffold"]


@dataclass(frozen=True)
class ScaffoldResult:
    sources_file: Path
    suite_files: tuple[Path, ...]
    profiles: tuple[ExtractProfile, ...]
    drafts: tuple[DraftSource, ...]
    before_first_load: tuple[str, ...] = ()  # what the loader needs that the review must add (owners, …)


def scaffold(files: list[Path], out: Path, *, force: bool = False, sample_rows: int = SAMPLE_ROWS) -> ScaffoldResult:
    """Profile ``files`` and write the drafts under ``out``; ConfigError when a file to write
    exists (without ``force``) or two extracts would get the same source name."""
    profiles = tuple(profile_extract(Path(f), sample_rows) for f in files)
    names = [p.name for p in profiles]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"several extracts would be source {twice[0]!r}: scaffold them one at a time")
    sources_file, suites_dir = out / "sources.yaml", out / "expectations"
    targets = [sources_file, *(suites_dir / f"{n}.json" for n in names)]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not force:
        raise ConfigError(f"{', '.join(existing)} already exist(s): nothing written; pass --force to overwrite")
    drafts = tuple(draft_source(p) for p in profiles)
    text = render_config(list(drafts))
    out.mkdir(parents=True, exist_ok=True)
    staged = out / ".sources.yaml.draft"
    staged.write_text(text, encoding="utf-8")
    try:
        config = load_sources(staged, loader_check=False)  # the draft's entries must be valid as written
    finally:
        staged.unlink()
    to_add = tuple(config_problems(config))  # what only the steward knows (owners, …): named, not guessed
    suites_dir.mkdir(exist_ok=True)
    suite_files = []
    for name in names:
        path = suites_dir / f"{config[name].suite}.json"
        path.write_text(suite_json(derive_suite(config[name])), encoding="utf-8")
        suite_files.append(path)
    if to_add:
        text = text.replace("version: 1\n", "".join(f"# REVIEW before the first load: {p}\n" for p in to_add)
                            + "version: 1\n", 1)
    sources_file.write_text(text, encoding="utf-8")
    return ScaffoldResult(sources_file, tuple(suite_files), profiles, drafts, to_add)
