"""SQL sources: a query's result becomes an extract file in the landing zone.

A source configured with ``sql: {url_env, query}`` is read from a database
(SQLAlchemy URL in the named environment variable — it may hold a password,
so it never sits in the config) with ``:as_of`` bound to the as-of date. The
result is written, streamed in chunks, as a UTF-8 CSV under
``<landing>/<as_of>/_sql/<source>.csv``; from there on it is an extract like
any other: hashed for idempotency, validated, quarantined, purged by the
purge flow.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from lifecycle.errors import ConfigError, SourceError
from lifecycle.integration.sources import SourceSpec

CHUNK_ROWS = 200_000


def extract_path(spec: SourceSpec, landing_dir: Path, as_of: date) -> Path:
    return landing_dir / as_of.isoformat() / "_sql" / f"{spec.name}.csv"


def extract_sql(spec: SourceSpec, landing_dir: Path, as_of: date) -> Path:
    """Run the source's query for ``as_of`` and write its result as the day's extract."""
    assert spec.sql is not None
    url = os.environ.get(spec.sql.url_env)
    if not url:
        raise ConfigError(f"source {spec.name!r}: environment variable {spec.sql.url_env} "
                          "(the database URL of its query) is not set")
    target = extract_path(spec, landing_dir, as_of)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    engine = create_engine(url)
    try:
        with engine.connect() as conn, partial.open("w", encoding="utf-8", newline="") as out:
            chunks = pd.read_sql(text(spec.sql.query), conn, params={"as_of": as_of.isoformat()},
                                 chunksize=CHUNK_ROWS, dtype=object)
            header = True
            for chunk in chunks:
                missing = [c for c in spec.read_columns if c not in chunk.columns]
                if missing:
                    raise SourceError(f"sql:{spec.name}", 0, missing[0], "required_column",
                                      "the query does not return this column")
                chunk[list(spec.read_columns)].to_csv(out, index=False, header=header)
                header = False
            if header:  # no rows: still an extract, with its header
                out.write(",".join(spec.read_columns) + "\n")
    except SQLAlchemyError as exc:
        raise SourceError(f"sql:{spec.name}", None, None, "query",
                          f"the source query failed: {type(getattr(exc, 'orig', None) or exc).__name__}") from None
    finally:
        engine.dispose()
    partial.replace(target)
    return target
