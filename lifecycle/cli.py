"""``bank-lifecycle``: the operators' command line.

Subcommand groups live in their own modules, listed in :data:`COMMAND_GROUPS`.
Each module has ``register(subparsers)`` adding one group (``customer``,
``keys`` …) whose commands set ``handler`` — a function ``(args, out) -> exit
code`` that writes its output to ``out``. A new group (say ``quarantine
list|release``) is one new module plus one line here.

Wiring: :func:`open_stores` reads the settings (``LIFECYCLE_*``) and opens the
main database (migrated on first use) and the key store; the keyring comes from
``LIFECYCLE_KEYRING`` or ``LIFECYCLE_KEYRING_FILE`` (the command line does not
read Prefect blocks: keep it free of the orchestrator).

Log redaction is installed before anything else runs, and deliberate errors
(:class:`~lifecycle.errors.LifecycleError`) end with a one-line message and
exit code 2 instead of a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TextIO

from sqlalchemy import Engine

from lifecycle.errors import KeyringError, LifecycleError
from lifecycle.privacy.keyring import Keyring, load_keyring
from lifecycle.privacy.redaction import install_redaction
from lifecycle.settings import Settings, get_settings
from lifecycle.store.db import make_engine, migrate
from lifecycle.store.keystore import KeyStore

COMMAND_GROUPS: tuple[str, ...] = (
    "lifecycle.protection.cli_customer",
    "lifecycle.protection.cli_keys",
    "lifecycle.cli_quarantine",
)

Handler = Callable[[argparse.Namespace, TextIO], int]
EXIT_REFUSED = 2


@dataclass
class Stores:
    """The main database, the key store and the keyring, opened on first use."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.settings.resolved_database_url)
        migrate(engine)
        return engine

    @cached_property
    def keystore(self) -> KeyStore:
        return KeyStore(make_engine(self.settings.resolved_keystore_url))

    @cached_property
    def keyring(self) -> Keyring:
        try:
            return load_keyring()
        except KeyringError as exc:
            if self.settings.keyring_block:
                raise KeyringError(f"{exc} (LIFECYCLE_KEYRING_BLOCK is set, but the command line does not "
                                   "read Prefect blocks: export the keyring as LIFECYCLE_KEYRING or mount it "
                                   "as LIFECYCLE_KEYRING_FILE)") from None
            raise


def open_stores() -> Stores:
    """The stores of the configured environment (settings read once)."""
    return Stores(get_settings())


def build_parser() -> argparse.ArgumentParser:
    """The parser with every group of :data:`COMMAND_GROUPS` registered."""
    parser = argparse.ArgumentParser(prog="bank-lifecycle",
                                     description="Operate the bank customer lifecycle platform.")
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)
    for module in COMMAND_GROUPS:
        importlib.import_module(module).register(groups)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 2 refused or failed clearly)."""
    install_redaction()
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args, out or sys.stdout)
    except LifecycleError as exc:
        print(f"bank-lifecycle: error: {exc}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    raise SystemExit(main())
