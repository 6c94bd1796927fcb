"""Expectation suites as reviewed JSON files: reading, checking, and turning into GX objects.

``expectations/<suite>.json`` holds one GX 1.x ExpectationSuite (``name``,
``expectations`` of ``{type, kwargs, meta: {rule}, notes}``, suite ``meta`` and
``notes``), without ids: GX assigns those when the suite is stored in a context.

Reading needs no GX import (GX takes seconds to import), so the input-contract
renderer and the config checks stay fast; only :func:`to_gx_suite` imports GX.
The files are code: :mod:`lifecycle.integration.quality.agreement` refuses a
configuration whose suites disagree with it, and
:mod:`lifecycle.integration.quality.derive` derives an agreeing suite from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.errors import ConfigError
from lifecycle.integration.quality.rules import RULES

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite


@dataclass(frozen=True)
class SuiteExpectation:
    """One expectation of a suite file: its GX type, rule code, kwargs and note."""

    type: str
    rule: str
    kwargs: Mapping[str, Any]
    notes: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns it checks row by row; empty for table-level expectations."""
        return expectation_columns(self.kwargs)


@dataclass(frozen=True)
class SuiteFile:
    """A suite as read from its JSON file (the reviewed source of truth)."""

    name: str
    path: Path
    expectations: tuple[SuiteExpectation, ...]
    document: Mapping[str, Any] = field(repr=False)

    @property
    def columns(self) -> list[str]:
        """Every column its row-level expectations check, in order of first use."""
        return list(dict.fromkeys(c for e in self.expectations for c in e.columns))


def expectation_columns(kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The columns named by an expectation's kwargs (column, column_list or a column pair)."""
    if "column" in kwargs:
        return (str(kwargs["column"]),)
    if "column_list" in kwargs:
        return tuple(str(c) for c in kwargs["column_list"])
    if "column_A" in kwargs:
        return (str(kwargs["column_A"]), str(kwargs["column_B"]))
    return ()


def read_suite(path: Path) -> SuiteFile:
    """Read and check one suite file; a ConfigError names the file and expectation."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read suite: {exc}") from None
    if not isinstance(document, dict) or not document.get("name"):
        raise ConfigError(f"{path}: a suite needs a name")
    if document["name"] != path.stem:
        raise ConfigError(f"{path}: suite name {document['name']!r} differs from the file name")
    expectations = []
    for index, raw in enumerate(document.get("expectations") or []):
        rule = (raw.get("meta") or {}).get("rule")
        if rule not in RULES:
            raise ConfigError(f"{path}: expectation #{index} ({raw.get('type')}) has unknown rule {rule!r}")
        expectations.append(SuiteExpectation(raw["type"], rule, raw.get("kwargs") or {}, raw.get("notes")))
    return SuiteFile(document["name"], path, tuple(expectations), document)


def read_suites(suites_dir: Path) -> dict[str, SuiteFile]:
    """Every ``*.json`` suite in a folder, by suite name."""
    files = sorted(Path(suites_dir).glob("*.json"))
    if not files:
        raise ConfigError(f"no expectation suites (*.json) in {suites_dir}")
    return {suite.name: suite for suite in map(read_suite, files)}


def to_gx_suite(suite: SuiteFile) -> ExpectationSuite:
    """Build the GX suite; fail loudly where GX would silently drop an invalid expectation."""
    import great_expectations as gx

    document = {k: v for k, v in suite.document.items() if k in ("name", "expectations", "meta", "notes")}
    try:
        gx_suite = gx.ExpectationSuite(**document)
    except Exception as exc:  # GX raises pydantic, marshmallow and its own errors alike
        raise ConfigError(f"{suite.path}: GX refused the suite: {exc}") from None
    if len(gx_suite.expectations) != len(suite.expectations):
        raise ConfigError(
            f"{suite.path}: GX accepted {len(gx_suite.expectations)} of {len(suite.expectations)} "
            "expectations; see the log for the invalid one"
        )
    return gx_suite
