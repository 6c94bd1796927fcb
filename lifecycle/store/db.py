"""Engine set-up and schema migrations, one code path for SQLite and PostgreSQL.

Migrations are an explicit step (``bank-lifecycle db upgrade``, run by the demo
and by a deployment's set-up); building a context only *checks* that the
schema is at the code's head revision and says what to run when it is not, so
no process changes a production schema as a side effect of starting.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

from lifecycle.errors import ConfigError


def migrations_dir() -> Path:
    """The Alembic scripts, wherever the platform is installed (repository or wheel)."""
    module = importlib.import_module("migrations")
    assert module.__file__ is not None
    return Path(module.__file__).resolve().parent


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL (readers go on while one writer writes)
    and enforced foreign keys, and its folder is created.

    A URL that cannot be parsed, or names a driver that is not installed, is a
    :class:`ConfigError` that never quotes the URL (it may hold a password)."""
    try:
        return _make_engine(url, **kwargs)
    except NoSuchModuleError:
        raise ConfigError(f"no SQLAlchemy driver for {_dialect(url)!r} is installed: install it or use "
                          "another database URL") from None
    except ArgumentError:
        raise ConfigError("a database URL is not a SQLAlchemy URL (dialect+driver://user:password@host/database, "
                          "or sqlite:///path)") from None


def _dialect(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else "?"


@contextmanager
def reaching(engine: Engine, setting: str) -> Iterator[None]:
    """Turn a failure to reach ``engine``'s database into one :class:`ConfigError` line.

    The line names the database (password hidden) and the ``setting`` that
    points at it, and keeps the first line of the driver's reason (with the
    password removed, should a driver ever echo it) — no traceback.
    """
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise ConfigError(unreachable(engine, exc, setting)) from None


def unreachable(engine: Engine, exc: Exception, setting: str) -> str:
    """The message of :func:`reaching`."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    if engine.url.password:
        first = first.replace(str(engine.url.password), "***")
    where = engine.url.render_as_string(hide_password=True)
    return f"cannot reach the database {where} ({setting}): {first} — check the URL and that the database is up"


def _make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # The driver would begin transactions only before DML, so DDL (a bulk load's
            # index rebuild, a migration) would run outside them and survive a rollback.
            # Hand transaction control to SQLAlchemy instead (see _sqlite_begin).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA cache_size=-262144")  # 256 MiB: index upkeep during bulk loads
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (idempotent)."""
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_schema(engine: Engine) -> None:
    """Refuse a database whose schema is not at the code's head, naming what to run."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        state = "has no schema yet" if current is None else f"is at schema revision {current}"
        raise ConfigError(f"the database {where} {state}; this version of the platform needs revision {head}: "
                          "run `bank-lifecycle db upgrade`")


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite ``url`` when it does not exist yet (opening it would create it), else None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    return None if path.exists() else path
