"""``bank-lifecycle``: the operators' command line.

Subcommand groups live in their own modules, listed in :data:`COMMAND_GROUPS`.
Each module has ``register(subparsers)`` adding one group (``customer``,
``keys`` …) whose commands set ``handler`` — a function ``(args, out) -> exit
code`` that writes its output to ``out``. A new group (say ``quarantine
list|release``) is one new module plus one line here.

Wiring: :func:`open_context` builds the one :class:`~lifecycle.bootstrap.Context`
from the settings (``LIFECYCLE_*``): the main database (its schema checked, not
changed: ``db upgrade`` migrates it), the key store and, on first use, the
keyring from ``LIFECYCLE_KEYRING`` or ``LIFECYCLE_KEYRING_FILE`` (the command
line does not read Prefect blocks: keep it free of the orchestrator).

Log redaction is installed before anything else runs. Exit codes: 0 done;
1 refused or not found — a deliberate error (:class:`~lifecycle.errors.LifecycleError`:
a bad setting, an unreachable database, an unknown id or source) ends with one
line on stderr instead of a traceback; 2 a usage error (argparse's, or
:class:`UsageError`); 70 (``EX_SOFTWARE``) a bug: any other exception, whose
traceback is printed with PII redacted, so that a crash never reads as
"not found".
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import TextIO

from lifecycle.bootstrap import Context, build_context
from lifecycle.errors import LifecycleError
from lifecycle.privacy.redaction import install_redaction, redact_text

COMMAND_GROUPS: tuple[str, ...] = (
    "lifecycle.cli.db",
    "lifecycle.cli.customer",
    "lifecycle.cli.keys",
    "lifecycle.cli.quarantine",
    "lifecycle.cli.decision",
    "lifecycle.cli.retention",
    "lifecycle.cli.care",
    "lifecycle.cli.sources",
)

Handler = Callable[[argparse.Namespace, TextIO], int]
EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


class UsageError(LifecycleError):
    """Options that do not go together, or a value of the wrong shape (exit code 2)."""


def version() -> str:
    """The installed platform's version."""
    try:
        return importlib.metadata.version("bank-lifecycle")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def open_context() -> Context:
    """The context of the configured environment (settings read once)."""
    return build_context()


def build_parser(groups_from: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every group of ``groups_from`` (default :data:`COMMAND_GROUPS`) registered.

    The installed ``bank-lifecycle`` adds the orchestration's ``run`` group
    (``flows.cli``): the domain's command line knows nothing of Prefect.
    """
    parser = argparse.ArgumentParser(prog="bank-lifecycle",
                                     description="Operate the bank customer lifecycle platform.",
                                     epilog="exit codes: 0 done, 1 refused or not found, 2 usage error, "
                                     "70 internal error")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)
    for module in groups_from if groups_from is not None else COMMAND_GROUPS:
        importlib.import_module(module).register(groups)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None,
         groups_from: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 done, 1 refused or not found, 2 usage error, 70 a bug)."""
    install_redaction()
    args = build_parser(groups_from).parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args, out or sys.stdout)
    except LifecycleError as exc:
        print(f"bank-lifecycle: error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_REFUSED
    except Exception:  # a bug, not bad input
        print(redact_text(traceback.format_exc()), end="", file=sys.stderr)
        print("bank-lifecycle: internal error (exit code 70): a bug — please report it with the lines above",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
