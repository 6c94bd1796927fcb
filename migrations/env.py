"""Alembic environment: migrations run on a connection handed in by
``lifecycle.store.db.upgrade`` or, from the command line, on
``LIFECYCLE_DATABASE_URL`` (``alembic -c alembic.ini upgrade head``)."""

from alembic import context
from sqlalchemy import Connection

from lifecycle.settings import get_settings
from lifecycle.store.db import make_engine
from lifecycle.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(get_settings().resolved_database_url)
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; give a database URL")
run_migrations_online()
