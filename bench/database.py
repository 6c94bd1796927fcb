"""Fresh databases for one benchmark run: a SQLite file in a new folder, or PostgreSQL.

On PostgreSQL a new database is created next to the one the URL names when the
role may create databases (and dropped afterwards unless kept); otherwise the
given database is used after dropping every table in its ``public`` schema.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True)
class Database:
    url: str
    backend: str  # sqlite | postgresql
    created: bool  # True when this run created it (and may drop it)
    name: str
    server_version: str | None = None

    def describe(self) -> dict[str, object]:
        return {"backend": self.backend, "database": self.name, "created_for_run": self.created,
                "server_version": self.server_version, "url": make_url(self.url).render_as_string(hide_password=True)}


def backend_of(url: str | None) -> str:
    return "sqlite" if not url else make_url(url).get_backend_name()


def sqlite_database(folder: Path, name: str) -> Database:
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / f"{name}.db").resolve()
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    return Database(f"sqlite:///{path}", "sqlite", True, str(path))


def postgres_database(base_url: str, label: str) -> Database:
    """A fresh database on the server of ``base_url`` (or the given one, emptied)."""
    base = make_url(base_url)
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}".lower().replace("-", "_")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar())
            try:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            except Exception:  # no CREATEDB: fall back to the given database
                _drop_all_tables(admin)
                return Database(base.render_as_string(hide_password=False), "postgresql", False,
                                str(base.database), version)
    finally:
        admin.dispose()
    return Database(base.set(database=name).render_as_string(hide_password=False), "postgresql", True, name,
                    version)


def _drop_all_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))


def fresh_database(base_url: str | None, folder: Path, label: str) -> Database:
    """A fresh, empty database of the kind ``base_url`` names (SQLite when None)."""
    if base_url is None or backend_of(base_url) == "sqlite":
        return sqlite_database(folder, label)
    if backend_of(base_url) != "postgresql":
        raise ValueError(f"unsupported database for the benchmark: {backend_of(base_url)}")
    return postgres_database(base_url, label)


def drop_database(admin_url: str, name: str, attempts: int = 5) -> None:
    """Drop database ``name`` on the server of ``admin_url``, waiting out stray sessions.

    A plain ``DROP DATABASE`` comes first: the server itself stops an autovacuum
    worker busy in that database, which ``WITH (FORCE)`` may not do for a role
    without ``pg_signal_backend``. FORCE is the fallback for sessions of our own role.
    """
    admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(1, attempts + 1):
            statement = f'DROP DATABASE IF EXISTS "{name}"' + (" WITH (FORCE)" if attempt % 2 == 0 else "")
            try:
                with admin.connect() as conn:
                    conn.execute(text(statement))
                return
            except DBAPIError:
                if attempt == attempts:
                    raise
                time.sleep(0.5 * attempt)
    finally:
        admin.dispose()


def discard(database: Database, base_url: str | None) -> None:
    """Drop a PostgreSQL database this run created (SQLite folders are removed by the caller)."""
    if database.backend != "postgresql" or not database.created or base_url is None:
        return
    drop_database(base_url, database.name)
