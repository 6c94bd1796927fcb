"""Sources configuration: what each landing extract looks like and how it maps
onto the canonical model.

The configuration is versioned YAML (``lifecycle/config/sources.yaml`` by
default) validated by the pydantic models below. A bank onboards a new extract
by adding an entry, not by writing code: the reader, the standardiser, the
quality gate and the input-contract document are all driven from it.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lifecycle.errors import ConfigError
from lifecycle.integration.identity_keys import IdentityRules
from lifecycle.yamlconfig import load_yaml_model

DEFAULT_SOURCES_FILE = Path(__file__).resolve().parents[1] / "config" / "sources.yaml"


class ColumnType(StrEnum):
    STRING = "string"
    CODE = "code"
    DATE = "date"
    DATETIME = "datetime"
    DECIMAL = "decimal"
    INTEGER = "integer"


class ColumnSpec(BaseModel):
    """One source column: where it goes and how to read it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str = Field(description="canonical column name")
    type: ColumnType = ColumnType.STRING
    required: bool = False
    pii: bool = False
    format: list[str] = Field(default_factory=list, description="strptime formats, tried in order")
    unit: Literal["yuan", "fen"] | None = None
    codes: dict[str, str] = Field(default_factory=dict, description="source code -> canonical code")
    description: str = ""

    @model_validator(mode="after")
    def _check_type_options(self) -> ColumnSpec:
        if self.type in (ColumnType.DATE, ColumnType.DATETIME) and not self.format:
            raise ValueError(f"column mapped to {self.to!r}: a {self.type} column needs a format")
        if self.type is ColumnType.CODE and not self.codes:
            raise ValueError(f"column mapped to {self.to!r}: a code column needs its codes")
        return self


Encoding = Literal["utf-8", "utf-8-sig", "gbk", "gb18030", "auto"]


class SqlSource(BaseModel):
    """A source read from a database instead of a landing file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url_env: str = Field(description="environment variable holding the SQLAlchemy URL (it may hold a password)")
    query: str = Field(description="SQL text; :as_of is bound to the as-of date")


Separator = Literal[".", ",", " ", "'", ""]
Checksum = Literal["sha256", "md5", "none"]


class ControlTotals(BaseModel):
    """How a source announces its own completeness: a trailer line or a control file.

    The trailer is the file's last line, ``<marker><delimiter><rows>[<delimiter><checksum>]``,
    its checksum taken over the file's bytes before that line. A control file holds one
    line ``<rows>[,<checksum>]``, its checksum taken over the whole extract. A file whose
    control totals are missing or disagree is refused: it is incomplete or altered.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["trailer", "file"]
    marker: str = Field(default="TRAILER", min_length=1, description="trailer only: the trailer's first field")
    file: str | None = Field(default=None, description="file only: glob of the control file; {as_of} substituted")
    checksum: Checksum = "sha256"

    @model_validator(mode="after")
    def _check(self) -> ControlTotals:
        if self.kind == "file" and not self.file:
            raise ValueError("control totals of kind 'file' need the control file's path (file: ...)")
        return self


class SourceSpec(BaseModel):
    """One source extract."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    system: str
    entity: str
    path: str | None = Field(default=None, description="glob under the landing zone; {as_of} is substituted")
    sql: SqlSource | None = None
    format: Literal["csv", "parquet"] = "csv"
    encoding: Encoding = "auto"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    decimal_separator: Literal[".", ","] = Field(default=".", description="decimal separator of amounts")
    thousands_separator: Separator = Field(default=",", description="digit grouping of amounts; '' for none")
    quoted_newlines: bool = Field(default=False, description="whether a quoted value may span lines")
    max_field_chars: int = Field(default=65_536, ge=1, description="longest value accepted, in characters")
    control: ControlTotals | None = None
    min_rows: int = Field(default=1, ge=0, description="fewest data rows a complete extract holds")
    volume_tolerance: Annotated[float, Field(gt=0.0)] | None = Field(
        default=None, description="largest relative change of the row count from the previous load")
    stable_seconds: float = Field(default=0.0, ge=0.0,
                                  description="a file modified more recently than this is still being written")
    suite: str
    error_budget: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    trust: int = Field(default=9, description="survivorship rank: lower is more trusted")
    key: list[str]
    owners: list[str] = Field(
        default_factory=list, description="customer sources whose source keys owner_key refers to")
    columns: dict[str, ColumnSpec]
    defaults: dict[str, date | int | float | str] = Field(
        default_factory=dict, description="canonical column -> constant, for a column the extract does not have")

    @field_validator("key", mode="before")
    @classmethod
    def _key_as_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> SourceSpec:
        if (self.path is None) == (self.sql is None):
            raise ValueError(f"source {self.name!r}: give exactly one of path or sql")
        missing = [k for k in self.key if k not in self.columns]
        if missing:
            raise ValueError(f"source {self.name!r}: key column(s) {missing} are not in its columns")
        targets = [c.to for c in self.columns.values()]
        dupes = sorted({t for t in targets if targets.count(t) > 1})
        if dupes:
            raise ValueError(f"source {self.name!r}: several columns map to {dupes}")
        if self.format == "parquet" and self.control is not None and self.control.kind == "trailer":
            raise ValueError(f"source {self.name!r}: a Parquet extract has no trailer line; use a control file")
        if self.decimal_separator == self.thousands_separator:
            raise ValueError(f"source {self.name!r}: decimal and thousands separators are both "
                             f"{self.decimal_separator!r}")
        return self

    def canonical(self, source_column: str) -> str:
        return self.columns[source_column].to

    def source_column(self, canonical: str) -> str:
        """The source's own name for a canonical column (for messages to stewards)."""
        for src, spec in self.columns.items():
            if spec.to == canonical:
                return src
        return canonical

    @property
    def canonical_key(self) -> list[str]:
        return [self.columns[k].to for k in self.key]

    @property
    def pii_columns(self) -> list[str]:
        return [c.to for c in self.columns.values() if c.pii]


class SourcesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    identity: IdentityRules = Field(default_factory=IdentityRules)
    sources: dict[str, SourceSpec]

    @model_validator(mode="before")
    @classmethod
    def _name_sources(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("sources"), dict):
            for name, spec in data["sources"].items():
                if isinstance(spec, dict):
                    spec.setdefault("name", name)
        return data

    def __getitem__(self, name: str) -> SourceSpec:
        try:
            return self.sources[name]
        except KeyError:
            raise ConfigError(f"unknown source {name!r}; configured: {', '.join(self.sources)}") from None


def load_sources(path: Path | str | None = None) -> SourcesConfig:
    """Read and validate the sources configuration, then check it against what the loader
    and the store need (:mod:`lifecycle.integration.config_check`); errors name the file
    and field, before any row is read."""
    from lifecycle.integration.config_check import check_sources  # it imports the loader, which imports this

    file = Path(path) if path else DEFAULT_SOURCES_FILE
    config = load_yaml_model(file, SourcesConfig, "sources configuration")
    check_sources(config, file)
    return config
