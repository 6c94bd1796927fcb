"""The erasure log: an append-only file outside both databases, replayed after a restore.

Crypto-shredding makes an old copy of the *main* database useless, but a restore
of *both* databases from before an erasure brings the customer's key and PII
back. The platform team keeps this log beside the keyring (a secrets location,
backed up apart from the databases, and not rolled back by a database restore):
one JSON line per erasure — customer reference and id, when — and never PII.

* :meth:`ErasureLog.append` writes and fsyncs the line *before* the main
  database's erasure commits: a crash in between leaves an intent that the next
  replay completes; never an erasure the log does not know.
* :func:`replay_erasure_log` erases again every logged customer whose row is
  not erased (a restored backup) and destroys any key still present; the
  composition root runs it on start-up, before anything is read
  (:func:`lifecycle.bootstrap.build_context`).

A torn last line (a crash while appending) is ignored; any other unreadable line
is a :class:`~lifecycle.errors.ConfigError` naming the file and line: the log is
the proof of erasures and is not guessed at.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from lifecycle.errors import ConfigError
from lifecycle.store.keystore import KeyStore
from lifecycle.store.models import Customer

REPLAYED_BY = "erasure-log"


@dataclass(frozen=True)
class LoggedErasure:
    customer_ref: str
    customer_id: int
    erased_at: datetime


class ErasureLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, customer_ref: str, customer_id: int, erased_at: datetime) -> None:
        """Add one erasure, durably (flushed and fsynced) before the caller commits it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"customer_ref": customer_ref, "customer_id": int(customer_id),
                           "erased_at": erased_at.isoformat()}) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> list[LoggedErasure]:
        if not self.path.exists():
            return []
        lines = self.path.read_bytes().split(b"\n")
        out: list[LoggedErasure] = []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
                out.append(LoggedErasure(str(item["customer_ref"]), int(item["customer_id"]),
                                         datetime.fromisoformat(item["erased_at"])))
            except (ValueError, KeyError, TypeError):
                if number == len(lines):  # no newline after it: torn by a crash while appending
                    continue
                raise ConfigError(f"erasure log {self.path}, line {number}: not an erasure record; "
                                  "restore the log from its backup (it is the proof of erasures)") from None
        return out


@dataclass(frozen=True)
class ReplayResult:
    erased_again: list[str]  # customer references whose rows a restore had brought back
    keys_destroyed: int


def replay_erasure_log(engine: Engine, keystore: KeyStore, log: ErasureLog, now: datetime) -> ReplayResult:
    """Make every logged erasure true again in both databases; see the module doc."""
    from lifecycle.protection.erasure import erase_customer  # erasure appends to this log

    logged = log.entries()
    if not logged:
        return ReplayResult([], 0)
    refs = sorted({e.customer_ref for e in logged})
    with engine.connect() as conn:
        rows = conn.execute(select(Customer.customer_ref, Customer.customer_id, Customer.erased_at)
                            .where(Customer.customer_ref.in_(refs))).all()
    live = {str(r.customer_ref) for r in rows if r.erased_at is None}
    # Keys go by id only where the id still belongs to the logged reference: a main database restored
    # from before the customer existed may give that id to someone else.
    pairs = {(e.customer_ref, e.customer_id) for e in logged}
    owned = sorted(int(r.customer_id) for r in rows if (str(r.customer_ref), int(r.customer_id)) in pairs)
    again = []
    for entry in logged:
        if entry.customer_ref in live:
            erase_customer(engine, keystore, entry.customer_ref, REPLAYED_BY,
                           f"replayed from the erasure log: erased {entry.erased_at:%Y-%m-%d %H:%M}", now)
            live.discard(entry.customer_ref)
            again.append(entry.customer_ref)
    present = keystore.customer_keys(owned)["customer_id"].astype(int).tolist() if owned else []
    destroyed = sum(keystore.destroy_customer_key(i) for i in present)
    return ReplayResult(again, destroyed)
