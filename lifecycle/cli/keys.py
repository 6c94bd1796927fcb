"""``bank-lifecycle keys …``: the operator's side of key rotation and erasure replay.

Rotation, step by step (docs/data-protection.md has the full procedure):

1. ``keys new-version --keyring-file F`` adds a fresh master key to a file
   keyring and makes it active (``Keyring.with_new_version``); the file is
   rewritten atomically with mode 0600. For a keyring held in a Prefect Secret
   block or an injected variable, do the same on a copy and publish it there.
2. Run the ``rotate-master-key`` flow: every stored key is re-wrapped.
3. ``keys status`` shows keys per master version and which versions no key
   uses; ``keys retire --version N --keyring-file F`` removes such a version,
   and refuses while any stored key still depends on it.

``keys replay-erasures`` destroys again the keys of erased customers: run it
after restoring the key store from a backup. No command prints key material.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from lifecycle.bootstrap import erasure_log
from lifecycle.cli import open_context
from lifecycle.errors import KeyringError
from lifecycle.privacy.keyring import Keyring, write_keyring
from lifecycle.protection.erasure import replay_erasures
from lifecycle.protection.erasure_log import replay_erasure_log
from lifecycle.protection.integrity import verify_store
from lifecycle.protection.rotation import retirable_versions, versions_in_use


def register(groups: Any) -> None:
    """Add the ``keys`` group to the top-level subparsers."""
    keys = groups.add_parser("keys", help="master-key versions, rotation and erasure replay")
    commands = keys.add_subparsers(dest="command", metavar="COMMAND", required=True)
    new = commands.add_parser("new-version", help="add a master key to a keyring file and make it active")
    new.add_argument("--keyring-file", type=Path, required=True,
                     help="the keyring file to extend (rewritten atomically, mode 0600)")
    new.set_defaults(handler=new_version)
    status = commands.add_parser("status", help="stored keys per master version; versions that can be retired")
    status.add_argument("--keyring-file", type=Path, help="default: the configured keyring")
    status.set_defaults(handler=key_status)
    retire = commands.add_parser("retire", help="remove a master version no stored key depends on")
    retire.add_argument("--version", type=int, required=True, help="the master key version to remove")
    retire.add_argument("--keyring-file", type=Path, required=True, help="the keyring file to remove it from")
    retire.set_defaults(handler=retire_version)
    replaying = commands.add_parser("replay-erasures",
                                    help="destroy erased customers' keys (after a key-store restore)")
    replaying.set_defaults(handler=replay)
    verifying = commands.add_parser("verify", help="check every live customer's key, ciphertexts and blind "
                                                   "indexes; exit 1 naming each tampered value's table, row, column")
    verifying.add_argument("--keyring-file", type=Path, help="default: the configured keyring")
    verifying.set_defaults(handler=verify)


def _versions(keyring: Keyring) -> str:
    return ", ".join(str(v) for v in sorted(keyring.master_keys))


def new_version(args: argparse.Namespace, out: TextIO) -> int:
    keyring = Keyring.from_file(args.keyring_file).with_new_version()
    write_keyring(keyring, args.keyring_file)
    out.write(f"{args.keyring_file}: master key version {keyring.active_version} is now active "
              f"(versions: {_versions(keyring)})\n"
              "next: publish this keyring where the flows read it, then run the rotate-master-key flow\n")
    return 0


def key_status(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    keyring = Keyring.from_file(args.keyring_file) if args.keyring_file else ctx.keyring
    in_use = versions_in_use(ctx.keystore)
    out.write(f"keyring: versions {_versions(keyring)}, active {keyring.active_version}\n")
    for kind, counts in in_use.items():
        listed = ", ".join(f"v{v}: {n:,}" for v, n in sorted(counts.items())) or "none"
        out.write(f"{kind}: {listed}\n")
    retirable = retirable_versions(keyring, in_use)
    out.write(f"retirable: {', '.join(map(str, retirable)) or 'none'}\n")
    return 0


def retire_version(args: argparse.Namespace, out: TextIO) -> int:
    keyring = Keyring.from_file(args.keyring_file)
    in_use = versions_in_use(open_context().keystore)
    users = {kind: counts.get(args.version, 0) for kind, counts in in_use.items()}
    if any(users.values()):
        detail = ", ".join(f"{n:,} {kind}" for kind, n in users.items() if n)
        raise KeyringError(f"master key version {args.version} still wraps {detail}: "
                           "run the rotate-master-key flow first")
    smaller = keyring.without_version(args.version)
    write_keyring(smaller, args.keyring_file)
    out.write(f"{args.keyring_file}: version {args.version} retired (versions: {_versions(smaller)})\n")
    return 0


def replay(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()  # opening the context replays the erasure log already (lifecycle/bootstrap.py)
    logged = replay_erasure_log(ctx.engine, ctx.keystore, erasure_log(ctx.settings), ctx.clock.now())
    destroyed = replay_erasures(ctx.engine, ctx.keystore)
    out.write(f"erasures replayed: {len(logged.erased_again)} customer(s) erased again from the erasure log, "
              f"{destroyed + logged.keys_destroyed} key(s) of erased customers destroyed\n")
    return 0


def verify(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    keyring = Keyring.from_file(args.keyring_file) if args.keyring_file else ctx.keyring
    report = verify_store(ctx.engine, ctx.keystore, keyring)
    for finding in report.findings:
        out.write(f"{finding}\n")
    out.write(f"verified {report.customers:,} customer(s), {report.values:,} value(s): "
              f"{len(report.findings):,} finding(s)\n")
    return 0 if report.ok else 1
