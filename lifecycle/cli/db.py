"""``bank-lifecycle db upgrade|status``: the schema of the main database and the key store.

Migrations are an explicit step, run by the demo and by a deployment's set-up
(before the first worker starts): no other command or flow changes a schema.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from lifecycle.bootstrap import upgrade_stores
from lifecycle.settings import get_settings
from lifecycle.store.db import current_revision, head_revision, make_engine, reaching


def register(groups: Any) -> None:
    db = groups.add_parser("db", help="create or migrate the main database and the key store")
    commands = db.add_subparsers(dest="command", metavar="COMMAND", required=True)
    upgrade = commands.add_parser("upgrade", help="migrate the main database to the code's schema and create the "
                                  "key store's tables (idempotent)")
    upgrade.set_defaults(handler=upgrade_schema)
    status = commands.add_parser("status", help="the main database's schema revision and the code's")
    status.set_defaults(handler=schema_status)


def upgrade_schema(args: argparse.Namespace, out: TextIO) -> int:
    main, keys = upgrade_stores()
    out.write(f"main database {main}: at schema revision {head_revision()}\nkey store {keys}: tables present\n")
    return 0


def schema_status(args: argparse.Namespace, out: TextIO) -> int:
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        with reaching(engine, "LIFECYCLE_DATABASE_URL"):
            current, head = current_revision(engine), head_revision()
    finally:
        engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    out.write(f"main database {where}: revision {current or 'none'}; code: {head}"
              f"{'' if current == head else ' — run `bank-lifecycle db upgrade`'}\n")
    return 0 if current == head else 1
