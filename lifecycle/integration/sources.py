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
from lifecycle.integration.expressions import Expression, ExpressionError, compile_expression
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
    """One source column: where it goes and how to read it.

    A column with ``expr`` is derived (computed from the row, see
    :mod:`lifecycle.integration.expressions`), not read from the file. A column
    without ``to`` is an input: read or derived only to feed other expressions,
    joins or the row filter, and stored nowhere. ``extra`` keeps a column the
    canonical model has no place for as a typed extra attribute of the customer.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str = Field(default="", description="canonical column name; omitted for an input-only column")
    type: ColumnType = ColumnType.STRING
    required: bool = False
    pii: bool = False
    format: list[str] = Field(default_factory=list, description="strptime formats, tried in order")
    century_pivot: Annotated[int, Field(ge=0, le=100)] | None = Field(
        default=None, description="two-digit years (%y) below it are 20yy, the others 19yy")
    unit: Literal["yuan", "fen"] | None = None
    codes: dict[str, str] = Field(default_factory=dict, description="source code -> canonical code")
    expr: str | None = Field(default=None, description="derived column: an expression over the row's columns")
    extra: bool = Field(default=False, description="store as a typed extra attribute of the customer")
    description: str = ""

    @model_validator(mode="after")
    def _check_type_options(self) -> ColumnSpec:
        what = f"column mapped to {self.to!r}" if self.to else "input column"
        if self.type in (ColumnType.DATE, ColumnType.DATETIME) and not self.format:
            raise ValueError(f"{what}: a {self.type} column needs a format")
        if self.type is ColumnType.CODE and not self.codes:
            raise ValueError(f"{what}: a code column needs its codes")
        two_digit = any("%y" in f for f in self.format)
        if two_digit and self.century_pivot is None:
            raise ValueError(f"{what}: a format with a two-digit year (%y) needs `century_pivot` "
                             "(two-digit years below it are 20yy, the others 19yy)")
        if self.century_pivot is not None and not two_digit:
            raise ValueError(f"{what}: `century_pivot` applies only to formats with a two-digit year (%y)")
        if not self.to and (self.extra or self.required or self.type is not ColumnType.STRING):
            raise ValueError("an input-only column (no `to`) is plain text: give it a `to` to type, require "
                             "or keep it as an extra attribute (`pii: true` is allowed: it is masked in the "
                             "quarantine's display)")
        if self.expr is not None:
            try:
                compile_expression(self.expr)
            except ExpressionError as exc:
                raise ValueError(f"{what}: expr {self.expr!r}: {exc}") from None
        return self

    @property
    def derived(self) -> bool:
        return self.expr is not None

    @property
    def expression(self) -> Expression:
        assert self.expr is not None
        return compile_expression(self.expr)


class JoinSpec(BaseModel):
    """Columns taken from a reference extract, matched on its key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str = Field(description="a source of entity `reference`")
    by: str = Field(description="this source's column holding the reference's key (`on` is a YAML boolean)")
    take: dict[str, str] = Field(min_length=1, description="reference column -> column name in this source")
    required: bool = Field(default=False, description="a key the reference lacks fails the row (reference_known)")


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
    optional: bool = Field(default=False, description="a day without this source's file is not an error")
    joins: list[JoinSpec] = Field(default_factory=list, description="columns taken from reference extracts")
    filter: str | None = Field(default=None, description="expression: only rows where it is true are loaded")
    duplicates: Literal["reject", "last_wins"] = Field(
        default="reject", description="rows sharing a key: all quarantined, or the file's last one wins")
    holders: str | None = Field(default=None, description="account or card: the account_holder source naming "
                                                         "the owner (an account's OWNER, a card's holder row)")
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
        targets = [c.to for c in self.columns.values() if c.to]
        dupes = sorted({t for t in targets if targets.count(t) > 1})
        if dupes:
            raise ValueError(f"source {self.name!r}: several columns map to {dupes}")
        if self.format == "parquet" and self.control is not None and self.control.kind == "trailer":
            raise ValueError(f"source {self.name!r}: a Parquet extract has no trailer line; use a control file")
        if self.decimal_separator == self.thousands_separator:
            raise ValueError(f"source {self.name!r}: decimal and thousands separators are both "
                             f"{self.decimal_separator!r}")
        derived_keys = [k for k in self.key if k not in self.read_columns or not self.columns[k].to]
        if derived_keys:
            raise ValueError(f"source {self.name!r}: key column(s) {derived_keys} must be read from the file "
                             "and mapped (`to`)")
        self._check_names()
        return self

    def _check_names(self) -> None:
        """Every name an expression, filter or join uses is a column known before it."""
        known = set(self.read_columns)
        for join in self.joins:
            if join.by not in known:
                raise ValueError(f"source {self.name!r}: join with {join.reference!r} on {join.by!r}, which is "
                                 "not a read column of the source")
            clash = sorted(set(join.take.values()) & known)
            if clash:
                raise ValueError(f"source {self.name!r}: join with {join.reference!r} takes {clash}, already "
                                 "read or joined columns of the source")
            known |= set(join.take.values())
        for name, column in self.columns.items():
            if column.derived:
                unknown = sorted(column.expression.names - known)
                if unknown:
                    raise ValueError(f"source {self.name!r}: derived column {name!r} uses {unknown}, not a read, "
                                     "joined or earlier derived column")
                known.add(name)
        if self.filter is not None:
            try:
                unknown = sorted(compile_expression(self.filter).names - known)
            except ExpressionError as exc:
                raise ValueError(f"source {self.name!r}: filter {self.filter!r}: {exc}") from None
            if unknown:
                raise ValueError(f"source {self.name!r}: filter uses {unknown}, not a column of the source")
        used = {n for c in self.columns.values() if c.derived for n in c.expression.names}
        used |= {j.by for j in self.joins} | (compile_expression(self.filter).names if self.filter else set())
        for name, column in self.columns.items():
            if not column.to and name not in used:
                raise ValueError(f"source {self.name!r}: input column {name!r} (no `to`) is used by no expression, "
                                 "join or filter: map it, keep it as an extra attribute (extra: true) or remove it")

    @property
    def joined_columns(self) -> set[str]:
        """Names of the columns taken from reference extracts."""
        return {name for join in self.joins for name in join.take.values()}

    @property
    def read_columns(self) -> dict[str, ColumnSpec]:
        """The columns read from the file (neither derived nor joined)."""
        joined = self.joined_columns
        return {n: c for n, c in self.columns.items() if not c.derived and n not in joined}

    @property
    def mapped_columns(self) -> dict[str, ColumnSpec]:
        """The columns standardised into the canonical frame (read or derived, with a ``to``)."""
        return {n: c for n, c in self.columns.items() if c.to}

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
        return [c.to for c in self.columns.values() if c.pii and c.to]

    @property
    def extra_columns(self) -> dict[str, ColumnSpec]:
        """Canonical name -> spec of the columns kept as extra attributes."""
        return {c.to: c for c in self.columns.values() if c.extra}


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

    @model_validator(mode="after")
    def _check_links(self) -> SourcesConfig:
        """Joins name reference sources, holders name link sources, and every mapped column
        has a place in its entity (or is kept as an extra attribute)."""
        from lifecycle.integration.targets import check_targets

        for spec in self.sources.values():
            for join in spec.joins:
                other = self.sources.get(join.reference)
                if other is None or other.entity != "reference":
                    raise ValueError(f"source {spec.name!r}: joins {join.reference!r}, which is not a source of "
                                     "entity `reference`")
                if len(other.key) != 1:
                    raise ValueError(f"source {spec.name!r}: reference {join.reference!r} needs a one-column key")
                missing = sorted(set(join.take) - set(other.read_columns))
                if missing:
                    raise ValueError(f"source {spec.name!r}: reference {join.reference!r} has no column(s) "
                                     f"{missing}")
            if spec.holders is not None:
                other = self.sources.get(spec.holders)
                if spec.entity not in ("account", "card") or other is None or other.entity != "account_holder":
                    raise ValueError(f"source {spec.name!r}: `holders` is for accounts and cards and names a "
                                     f"source of entity `account_holder` ({spec.holders!r} is not one)")
            check_targets(spec)
        return self

    def __getitem__(self, name: str) -> SourceSpec:
        try:
            return self.sources[name]
        except KeyError:
            raise ConfigError(f"unknown source {name!r}; configured: {', '.join(self.sources)}") from None


def load_sources(path: Path | str | None = None, *, loader_check: bool = True) -> SourcesConfig:
    """Read and validate the sources configuration, then check it against what the loader
    and the store need (:mod:`lifecycle.integration.config_check`); errors name the file
    and field, before any row is read. ``loader_check=False`` (a draft under review) checks
    the entries' shape only."""
    from lifecycle.integration.config_check import check_sources  # it imports the loader, which imports this

    file = Path(path) if path else DEFAULT_SOURCES_FILE
    config = load_yaml_model(file, SourcesConfig, "sources configuration")
    if loader_check:
        check_sources(config, file)
    return config
