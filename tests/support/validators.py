"""Hand-written fakes of the quality gate for tests of the stager's own rules."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class NoFailures:
    """A validator that passes every row (the rule under test is the stager's own)."""

    failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row_id", "rule", "expectation",
                                                                                  "column"]))
    table_failures: list[object] = field(default_factory=list)

    def validate(self, df: pd.DataFrame, suite_name: str, *, run_name: str, source: str) -> NoFailures:
        return self
