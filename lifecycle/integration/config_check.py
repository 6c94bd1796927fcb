"""The sources configuration checked against the loader and the store, before any row is read.

Pydantic checks each entry's shape (:mod:`lifecycle.integration.sources`); this
module checks what only the loader and the store know, so that a configuration
a run could not load is refused when it is read, not half-way through a load:

* the entity is one the loader has a table for (its entity list, not a hand list);
* a customer source has its key mapped to ``source_key`` and a ``name`` column;
* every NOT NULL column of a fact source's table (read from the SQLAlchemy models,
  so a new NOT NULL column is covered without touching this file) is mapped, or
  given a constant under ``defaults``;
* a fact source's rows can reach their customer: an ``owner_key`` with ``owners``
  that are configured customer sources, or the reference its entity uses
  (``account_no`` → an account source, ``card_no`` → a customer source with cards),
  itself resolvable;
* ``defaults`` name columns of the table, of the right type.

Every problem is reported at once, each naming the configuration key and what to
add, in one :class:`~lifecycle.errors.ConfigError` that names the file.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Column, Table

from lifecycle.errors import ConfigError
from lifecycle.integration.facts import ENTITY_ORDER, ENTITY_TABLES, OWNER_REFERENCES, owner_reference
from lifecycle.integration.sources import SourcesConfig, SourceSpec
from lifecycle.integration.stage import PARTY_ENTITIES

# Store columns the loader fills itself, with where each comes from.
LOADER_FILLED: dict[str, str] = {"customer_id": "the owner path", "file_id": "the ingested file",
                                 "card_ref": "card_no (its blind index)", "source": "the source's name",
                                 "holder_key": "account_no and owner_key", "fact_key": "the source's key",
                                 "values": "the extra fact's other columns"}
# Entities read but not loaded into a table of their own (joined into the sources that name them).
READ_ONLY_ENTITIES = ("reference",)
# What the customer loader reads from every customer source (identity, links, golden record).
PARTY_REQUIRED: dict[str, str] = {
    "source_key": "{column}: {{to: source_key, type: string, required: true}} (and key: {column})",
    "name": "{column}: {{to: name, type: string, required: true, pii: true}}",
}


def known_entities() -> tuple[str, ...]:
    """The entities the loader can load: customers, and each fact table it loads in order."""
    return (*PARTY_ENTITIES, *[e for e in ENTITY_ORDER if e in ENTITY_TABLES], *READ_ONLY_ENTITIES)


def required_columns(table: Table) -> list[Column[object]]:
    """The table's NOT NULL columns without a default that a source must provide."""
    return [c for c in table.columns if not c.nullable and c.default is None and c.server_default is None
            and c.name not in LOADER_FILLED]


def check_sources(config: SourcesConfig, file: Path) -> None:
    """Raise one ConfigError listing every problem of ``config`` (read from ``file``)."""
    problems = config_problems(config)
    if problems:
        listed = "; ".join(f"({n}) {p}" for n, p in enumerate(problems, 1))
        raise ConfigError(f"sources configuration {file}: {len(problems)} problem(s), nothing was read: {listed}")


def config_problems(config: SourcesConfig) -> list[str]:
    """Every problem of ``config``, each naming the source, the key and what to add."""
    problems: list[str] = []
    known = known_entities()
    for name, spec in config.sources.items():
        if spec.entity not in known:
            problems.append(f"sources.{name}.entity: {spec.entity!r} is not an entity the loader knows; "
                            f"set it to one of {', '.join(known)}")
        elif spec.entity in READ_ONLY_ENTITIES:
            continue
        elif spec.entity in PARTY_ENTITIES:
            problems += _party_problems(spec)
        else:
            problems += _fact_problems(spec, ENTITY_TABLES[spec.entity], config)
    return problems


def _mapped(spec: SourceSpec) -> dict[str, str]:
    """Canonical column -> the source column mapped to it (read or derived; input-only columns have none)."""
    return {c.to: source for source, c in spec.mapped_columns.items()}


def _party_problems(spec: SourceSpec) -> list[str]:
    mapped = _mapped(spec)
    problems = []
    if "source_key" not in mapped or spec.key != [mapped["source_key"]]:
        column = spec.key[0] if len(spec.key) == 1 else "CUSTOMER_ID"
        problems.append(f"sources.{spec.name}.key: a customer source (entity {spec.entity}) is keyed by one column "
                        "mapped to source_key, the key other sources name it by; add "
                        + PARTY_REQUIRED["source_key"].format(column=column))
    if "name" not in mapped:
        problems.append(f"sources.{spec.name}.columns: a customer source (entity {spec.entity}) needs a column "
                        "mapped to name; add " + PARTY_REQUIRED["name"].format(column="NAME_COLUMN"))
    return problems + _default_problems(spec, None)


def _fact_problems(spec: SourceSpec, table: Table, config: SourcesConfig) -> list[str]:
    mapped = _mapped(spec)
    problems = []
    for column in required_columns(table):
        if column.name not in mapped and column.name not in spec.defaults:
            problems.append(
                f"sources.{spec.name}.columns: the store's {table.name}.{column.name} is NOT NULL, and no column "
                f"is mapped to {column.name}; add 'SOURCE_COLUMN: {{to: {column.name}, required: true, ...}}'"
                + (f" or 'defaults: {{{column.name}: {_example(column)}}}'" if column.name not in spec.key else ""))
    card_ref = table.c.get("card_ref")
    if card_ref is not None and not card_ref.nullable and "card_no" not in mapped:
        problems.append(f"sources.{spec.name}.columns: the store's {table.name}.card_ref is NOT NULL, the blind "
                        "index of the card number, and no column is mapped to card_no; add "
                        "'CARD_COLUMN: {to: card_no, type: string, required: true, pii: true}'")
    if "customer_id" in table.c:
        problems += _owner_problems(spec, config)
    return problems + _default_problems(spec, table)


def _owner_problems(spec: SourceSpec, config: SourcesConfig) -> list[str]:
    """Whether the rows of ``spec`` can reach their customer (its table's customer_id is NOT NULL)."""
    parties = [n for n, s in config.sources.items() if s.entity in PARTY_ENTITIES]
    where = f"sources.{spec.name}"
    if spec.holders is not None:  # the owner comes from a link extract's holder rows
        link = config.sources.get(spec.holders)
        if link is None or link.entity != "account_holder":
            links = [n for n, s in config.sources.items() if s.entity == "account_holder"]
            return [f"{where}.holders: {spec.holders!r} is not a configured source of entity account_holder; name "
                    f"the link extract (configured: {', '.join(links) or 'none'})"]
        return []
    reference = owner_reference(spec)
    if reference is None:
        return [f"{where}.columns: a {spec.entity} row belongs to a customer, and nothing names it; map the column "
                "holding the customer's key to owner_key ('SOURCE_COLUMN: {to: owner_key, type: string, "
                f"required: true}}') and list the customer sources it refers to in owners (configured: "
                f"{', '.join(parties) or 'none'})"]
    if reference == "owner_key":
        if not spec.owners:
            return [f"{where}.owners: its rows name their customer by owner_key, but owners is empty; list the "
                    f"customer sources whose keys owner_key holds (configured: {', '.join(parties) or 'none'})"]
        return [f"{where}.owners: {owner!r} is not a configured customer source"
                + (f" (it is a source of entity {config.sources[owner].entity})" if owner in config.sources else "")
                + f"; list customer sources only (configured: {', '.join(parties) or 'none'})"
                for owner in spec.owners if owner not in parties]
    if spec.owners:
        return [f"{where}.owners: its rows reach their customer through {reference}, not owner_key; remove owners, "
                "or map the customer's key to owner_key"]
    target = OWNER_REFERENCES.get(spec.entity, (reference, "account"))[1]  # an extra fact names its account
    if target == "card":
        if not any("card_no" in _mapped(config.sources[p]) for p in parties):
            return [f"{where}: its rows reach their customer through card_no, but no customer source maps a column "
                    "to card_no; add the card holders' extract as a customer source with "
                    "'CARD_COLUMN: {to: card_no, type: string, pii: true}'"]
        return []
    holders = [n for n, s in config.sources.items() if s.entity == target]
    if not holders:
        return [f"{where}: its rows reach their customer through {reference}, but no source has entity {target}; "
                f"add the {target} extract (entity: {target}, its customer in owner_key and owners)"]
    return []


def _example(column: Column[object]) -> str:
    kind = _python_type(column)
    return {date: "2000-01-01", datetime: "2000-01-01 00:00:00", Decimal: "0", int: "0", float: "0"}.get(
        kind, "VALUE")


def _python_type(column: Column[object]) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:  # pragma: no cover - every canonical column has a Python type
        return object


def _default_problems(spec: SourceSpec, table: Table | None) -> list[str]:
    mapped = _mapped(spec)
    problems = []
    for column, value in spec.defaults.items():
        where = f"sources.{spec.name}.defaults.{column}"
        if column in mapped:
            problems.append(f"{where}: {mapped[column]} is already mapped to {column}; keep one of the two")
        elif table is None:
            problems.append(f"{where}: a customer source takes no defaults; map a column to {column}")
        elif column not in table.c or column in LOADER_FILLED:
            problems.append(f"{where}: {table.name} has no column {column} a source provides; remove it")
        elif not _fits(_python_type(table.c[column]), value):
            problems.append(f"{where}: {type(value).__name__} value does not fit {table.name}.{column} "
                            f"({_python_type(table.c[column]).__name__}); write e.g. {_example(table.c[column])}"
                            " (a date unquoted)")
    return problems


def _fits(kind: type, value: object) -> bool:
    if kind is datetime:
        return isinstance(value, date)
    if kind is date:
        return isinstance(value, date) and not isinstance(value, datetime)
    if kind in (Decimal, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)
