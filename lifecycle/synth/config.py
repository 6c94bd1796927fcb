"""Generator settings, the landing-file contract and the run summary.

The contract (file names, column order, date formats, units, encodings) is
read from ``lifecycle/config/sources.yaml`` so the generator writes exactly
what the pipeline reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SOURCES_YAML = Path(__file__).resolve().parent.parent / "config" / "sources.yaml"
ASCII_ONLY_SOURCES = frozenset(
    {"accounts", "balances", "transactions", "loans", "digital_activity"}
)


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    formats: tuple[str, ...] = ()
    unit: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    name: str
    path: str
    encoding: str
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    control_file: str | None = None  # control totals of kind "file": the control file's path
    control_checksum: str = "sha256"

    def relative_path(self, as_of: dt.date) -> str:
        return self.path.replace("{as_of}", as_of.isoformat())

    def control_path(self, as_of: dt.date) -> str | None:
        """Where the source's control file goes (``None``: the source announces no control totals)."""
        return None if self.control_file is None else self.control_file.replace("{as_of}", as_of.isoformat())

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def load_sources(path: Path = SOURCES_YAML) -> dict[str, SourceSpec]:
    """Parse the sources configuration into column specs (order preserved)."""
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    specs: dict[str, SourceSpec] = {}
    for name, entry in raw["sources"].items():
        key = entry["key"]
        columns = tuple(
            ColumnSpec(
                name=col,
                type=str(rule.get("type", "string")),
                formats=tuple(rule.get("format", ())),
                unit=rule.get("unit"),
            )
            for col, rule in entry["columns"].items()
        )
        control = entry.get("control") or {}
        specs[name] = SourceSpec(
            name=name,
            path=str(entry["path"]),
            encoding=str(entry.get("encoding", "utf-8")),
            key=tuple(key) if isinstance(key, list) else (str(key),),
            columns=columns,
            control_file=str(control["file"]) if control.get("kind") == "file" else None,
            control_checksum=str(control.get("checksum", "sha256")),
        )
    return specs


@dataclass(frozen=True)
class SynthConfig:
    """What to generate. Same values (``out`` aside) give byte-identical files."""

    customers: int
    seed: int
    as_of: dt.date
    out: Path
    txns_per_customer: float = 20.0
    flaw_rate: float = 0.0
    encoding_flaws: tuple[str, ...] = ()
    drop_columns: tuple[tuple[str, str], ...] = ()
    delta_fraction: float | None = None
    chunk_size: int = 50_000

    def validate(self, sources: dict[str, SourceSpec]) -> None:
        """Reject impossible settings with a message naming the flag."""
        if self.customers < 20:
            raise ValueError("--customers must be at least 20")
        if self.txns_per_customer <= 0:
            raise ValueError("--txns-per-customer must be positive")
        if not 0.0 <= self.flaw_rate <= 0.5:
            raise ValueError("--flaw-rate must be between 0 and 0.5")
        if self.delta_fraction is not None and not 0.0 < self.delta_fraction <= 1.0:
            raise ValueError("--delta-fraction must be in (0, 1]")
        for source in self.encoding_flaws:
            if source not in sources:
                raise ValueError(f"--encoding-flaw: unknown source {source!r}")
            if source in ASCII_ONLY_SOURCES:
                raise ValueError(
                    f"--encoding-flaw {source}: the file is pure ASCII, so GBK and UTF-8 "
                    "bytes would be identical; choose a source with Chinese text"
                )
        for source, column in self.drop_columns:
            if source not in sources:
                raise ValueError(f"--drop-column: unknown source {source!r}")
            if column not in sources[source].column_names:
                raise ValueError(f"--drop-column: {source} has no column {column!r}")

    def manifest_args(self) -> dict[str, Any]:
        """Arguments recorded in the manifest (no output path: runs compare equal)."""
        return {
            "customers": self.customers,
            "seed": self.seed,
            "as_of": self.as_of.isoformat(),
            "txns_per_customer": self.txns_per_customer,
            "flaw_rate": self.flaw_rate,
            "encoding_flaws": list(self.encoding_flaws),
            "drop_columns": [f"{s}:{c}" for s, c in self.drop_columns],
            "delta_fraction": self.delta_fraction,
            "chunk_size": self.chunk_size,
        }


@dataclass(frozen=True)
class FileSummary:
    source: str
    path: str  # relative to the output directory
    rows: int
    bytes: int
    sha256: str
    encoding: str


@dataclass(frozen=True)
class GenerationSummary:
    out: Path
    landing_dir: Path
    truth_dir: Path
    mode: str
    files: tuple[FileSummary, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    def rows(self, source: str) -> int:
        return sum(f.rows for f in self.files if f.source == source)
