"""The quality gate: GX suites per source, validation of standardised frames, Data Docs.

Public API::

    gate = QualityGate(gx_root, data_docs_dir, suites_dir)
    outcome = gate.validate(df, suite_name, run_name=..., source=...)  # ValidationOutcome
    gate.build_data_docs()  # once per run: renders the pages of new results, the index; its Path

The names are loaded lazily: Great Expectations takes seconds to import, and the
suite files and the input contract (:mod:`lifecycle.integration.quality.suites`,
:mod:`lifecycle.integration.quality.contract`) do not need it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lifecycle.integration.quality.leak_scan import scan_for_values
    from lifecycle.integration.quality.results import ExpectationSummary, TableFailure, ValidationOutcome
    from lifecycle.integration.quality.runner import DEFAULT_CHUNK_ROWS, QualityGate

_EXPORTS = {
    "DEFAULT_CHUNK_ROWS": "lifecycle.integration.quality.runner",
    "QualityGate": "lifecycle.integration.quality.runner",
    "ExpectationSummary": "lifecycle.integration.quality.results",
    "TableFailure": "lifecycle.integration.quality.results",
    "ValidationOutcome": "lifecycle.integration.quality.results",
    "scan_for_values": "lifecycle.integration.quality.leak_scan",
}

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "ExpectationSummary",
    "QualityGate",
    "TableFailure",
    "ValidationOutcome",
    "scan_for_values",
]


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
