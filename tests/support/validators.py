"""Hand-written fakes of the quality gate for tests of the stager's own rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class NoFailures:
    """A validator that passes every row (the rule under test is the stager's own)."""

    failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row_id", "rule", "expectation",
                                                                                  "column"]))
    table_failures: list[object] = field(default_factory=list)

    def validate(self, df: pd.DataFrame, suite_name: str, *, run_name: str, source: str) -> NoFailures:
        return self


@dataclass
class NoFailuresGate(NoFailures):
    """A whole quality gate that passes every row, with an empty Data Docs site in
    ``docs_dir`` (for runs whose subject is not validation)."""

    docs_dir: Path = Path("data-docs")

    def build_data_docs(self) -> Path:
        self.docs_dir.mkdir(parents=True, exist_ok=True)
        index = self.docs_dir / "index.html"
        index.write_text("<html><body>no validations</body></html>", encoding="utf-8")
        return index
