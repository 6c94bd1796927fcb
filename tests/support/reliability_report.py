"""A pytest plugin that turns a run of the reliability suite into a figures table (``make reliability``).

    pytest -p tests.support.reliability_report <the suite's test files>

Each test counts in the category of its module (``CATEGORIES``); kill-point tests
are listed per point with their outcome; the leak census's per-place figures
(``$LIFECYCLE_RELIABILITY_FIGURES/leaks.json``, written by tests/integration/test_leak_census.py)
become a table of their own. The Markdown goes to ``$LIFECYCLE_RELIABILITY_REPORT``
(default ``var/reports/reliability.md``). What a passing test asserts is stated per
category: a passing crash case *is* "0 rows lost, 0 duplicated" because it compares
every table's content with an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

# module -> (category, what a passing case proves)
CATEGORIES: dict[str, tuple[str, str]] = {
    "test_day_kill": ("crash: integration (SIGKILL)", "store equals an uninterrupted day: 0 rows lost, "
                      "0 duplicated, PII and quarantine decrypt"),
    "test_night_kill": ("crash: decisions, care, dispatch, rotation, erasure (SIGKILL)",
                        "store equals an uninterrupted night; every digest delivered, none twice but the one "
                        "in flight (same Idempotency-Key); keys all on the new version; erasure complete"),
    "test_outbox_delivery": ("crash and faults: outbox dispatch", "each message key delivered once at the "
                             "receiver, retries after 5xx, two dispatchers never share a message"),
    "test_apprise_notifier": ("faults: notification channels", "500, timeout, refused connection, SMTP refusals "
                              "classified transient or permanent; nothing logged of the body"),
    "test_task_retries": ("faults: a step failing after its work committed", "the retry ends in the same store"),
    "test_malformed_corpus": ("malformed input corpus", "a clear refusal or quarantine naming file, row, column "
                              "and rule; never a traceback, never a partly loaded day"),
    "test_bad_files": ("malformed input: encodings and headers", "refused naming file, row, column, rule; no "
                       "content in any message or log"),
    "test_input_completeness": ("input completeness (configured)", "cut, empty or far-off extracts refused whole"),
    "test_packaged_completeness": ("input completeness (packaged config)", "a cut or altered fact extract is "
                                   "refused with the shipped config"),
    "test_store_tamper": ("tamper: ciphertexts, indexes, keys, keyring", "fails closed naming table, row, "
                          "column; never decrypts into a wrong value"),
    "test_privacy_envelope": ("tamper: wrapped keys (unit)", "altered, truncated, moved keys fail"),
    "test_privacy_fields": ("tamper: field ciphertexts (unit)", "wrong key, altered, swapped, moved fail"),
    "test_erasure_restore": ("erasure survives restores", "both databases restored from before an erasure: "
                             "the customer's PII cannot be revealed"),
    "test_protection_leaks": ("leaks: daily flow", "0 plaintext hits in tables, database files, logs, artifacts"),
    "test_leak_census": ("leaks: full night, every place", "0 plaintext hits in every place (table below)"),
}
PROPERTY = ("rules under generated inputs (hypothesis among them)", "ID / USCC / mobile checks agree with "
            "python-stdnum, masking and redaction hide what they must, tier rules are monotone")
PROPERTY_MODULES = frozenset({"test_checks", "test_privacy_masking", "test_privacy_redaction", "test_synth_ids",
                              "test_tier_properties"})
_POINT = re.compile(r"\[([a-z0-9-]+)\]$")


@dataclass
class _Figures:
    outcomes: dict[str, str] = field(default_factory=dict)  # nodeid -> passed | failed | skipped
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


_FIGURES = _Figures()


def _category(nodeid: str) -> tuple[str, str]:
    module = Path(nodeid.split("::", 1)[0]).stem
    if module in CATEGORIES:
        return CATEGORIES[module]
    return PROPERTY if module in PROPERTY_MODULES else (module, "")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _FIGURES.outcomes[report.nodeid] = "skipped" if report.skipped else report.outcome


def _kill_points() -> dict[str, str]:
    from tests.support.killpoints import DISPATCH_POINTS, NIGHT_POINTS, POINTS

    return {name: p.description for points in (POINTS, DISPATCH_POINTS, NIGHT_POINTS) for name, p in points.items()}


def render(outcomes: dict[str, str], leaks: dict[str, object] | None, started: datetime) -> str:
    """The Markdown figures table of one run."""
    per: dict[str, Counter[str]] = {}
    proves: dict[str, str] = {}
    for nodeid, outcome in outcomes.items():
        category, claim = _category(nodeid)
        per.setdefault(category, Counter())[outcome] += 1
        proves[category] = claim
    total = Counter[str]()
    lines = [f"# Reliability and security figures ({started:%Y-%m-%d %H:%M} UTC)", "",
             "Written by `make reliability` (tests/support/reliability_report.py). A passing case asserts what its "
             "category says; a failing one is listed below.", "",
             "| category | cases tried | passed | failed | skipped | a pass means |", "|---|---:|---:|---:|---:|---|"]
    for category in sorted(per):
        c = per[category]
        total.update(c)
        lines.append(f"| {category} | {sum(c.values())} | {c['passed']} | {c['failed']} | {c['skipped']} | "
                     f"{proves[category]} |")
    lines.append(f"| **total** | **{sum(total.values())}** | **{total['passed']}** | **{total['failed']}** | "
                 f"**{total['skipped']}** | |")
    points = _kill_points()
    killed = {m.group(1): o for nodeid, o in outcomes.items() if "kill" in nodeid and (m := _POINT.search(nodeid))
              and m.group(1) in points}
    if killed:
        lines += ["", f"## Kill points ({len(killed)} tried)", "",
                  "| point | killed while | outcome (rows lost / duplicated) |", "|---|---|---|"]
        for name in sorted(killed):
            verdict = "passed (0 / 0)" if killed[name] == "passed" else killed[name]
            lines.append(f"| `{name}` | {points[name]} | {verdict} |")
    if leaks:
        places = leaks.get("places", [])
        lines += ["", f"## Plaintext scan after a full night ({leaks.get('needles', 0):,} generated PII values)", "",
                  "| place | files | bytes | plaintext hits |", "|---|---:|---:|---:|"]
        for p in places if isinstance(places, list) else []:
            lines.append(f"| {p['place']} | {p['files']:,} | {p['bytes']:,} | {p['hits']} |")
    failed = sorted(n for n, o in outcomes.items() if o == "failed")
    if failed:
        lines += ["", "## Failed", "", *[f"- `{n}`" for n in failed]]
    return "\n".join(lines) + "\n"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _FIGURES.outcomes:
        return
    figures = os.environ.get("LIFECYCLE_RELIABILITY_FIGURES")
    leaks_file = Path(figures) / "leaks.json" if figures else None
    leaks = json.loads(leaks_file.read_text(encoding="utf-8")) if leaks_file and leaks_file.is_file() else None
    out = Path(os.environ.get("LIFECYCLE_RELIABILITY_REPORT", str(session.config.rootpath / "var" / "reports"
                                                                   / "reliability.md")))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(_FIGURES.outcomes, leaks, _FIGURES.started), encoding="utf-8")
