"""Master-key rotation: re-wrap every data key in the key store under the active version.

The operator first makes a new master-key version active *in the keyring*
(``Keyring.with_new_version()``, e.g. ``bank-lifecycle keys new-version``) and
publishes it where the flows read it; this module then re-wraps, batch by batch,
every customer key and every quarantine run key whose ``master_version`` is not
the active one. Data keys themselves do not change, so no ciphertext in the main
database is touched and a rotation of millions of customers moves only 63-byte
wrapped keys.

Contract:

* **Batches, each committed.** ``batch_size`` keys are read (keyset pagination
  on the primary key), re-wrapped in memory, and written in one key-store
  transaction. A crash loses at most the batch in flight; a second run selects
  only what is still on an old version, so it resumes where the first stopped.
* **Never resurrects.** A batch writes with ``UPDATE … WHERE id = ? AND
  wrapped_key = <the value read>``: a key destroyed by an erasure meanwhile is
  not re-created, and a key changed by a concurrent run is left to that run.
* **Recorded.** A ``key_rotations`` row in the main database holds start,
  finish, count and status (``running`` → ``succeeded`` | ``failed`` |
  ``incomplete``: keys on an old version remain, wrapped meanwhile by a process
  that still held the previous keyring — run again once every process has the
  new one); a ``running`` row found at start was left by a crash and becomes
  ``interrupted``.
  Run one rotation at a time (the deployment has a concurrency limit of 1).
* **Retirement.** The result names the keyring versions no stored key uses any
  more: those can be removed with ``Keyring.without_version`` (``bank-lifecycle
  keys retire``). Removing a version *before* rotating makes the keys still under
  it unreadable: rotation then stops with a :class:`~lifecycle.errors.KeyringError`
  naming the missing version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, func, insert, select, update

from lifecycle.privacy.envelope import rewrap_data_keys
from lifecycle.privacy.keyring import Keyring
from lifecycle.status import RotationStatus
from lifecycle.store.keystore import CustomerKey, KeyBase, KeyStore, RunKey, run_number
from lifecycle.store.models import KeyRotation

DEFAULT_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class KeyKind:
    """One table of wrapped keys: its model, key column and the id bound into the wrap."""

    name: str
    model: type[KeyBase]
    id_column: str
    aad_id: Callable[[Any], int]

    @property
    def table(self) -> Table:
        return cast(Table, self.model.__table__)


KINDS = (
    KeyKind("customer_keys", CustomerKey, "customer_id", int),
    KeyKind("run_keys", RunKey, "run_id", lambda run_id: run_number(str(run_id))),
)


@dataclass(frozen=True)
class BatchProgress:
    """What one committed batch did, for progress logging."""

    kind: str
    batch: int
    rewrapped: int
    done: int  # keys of this kind re-wrapped so far in this run
    total: int  # keys of this kind on an old version when the run started


@dataclass(frozen=True)
class RotationResult:
    rotation_id: int
    to_version: int
    rewrapped: dict[str, int]  # per kind
    batches: int
    versions_in_use: dict[str, dict[int, int]]  # kind -> master version -> keys
    retirable_versions: list[int]  # keyring versions no stored key uses
    interrupted: list[int] = field(default_factory=list)  # earlier rotations left running

    @property
    def total(self) -> int:
        return sum(self.rewrapped.values())

    @property
    def stale(self) -> int:
        """Keys still on another version than the target (0 after a complete run)."""
        return sum(n for counts in self.versions_in_use.values() for v, n in counts.items()
                   if v != self.to_version)


def versions_in_use(keystore: KeyStore) -> dict[str, dict[int, int]]:
    """Number of wrapped keys per master-key version, per kind of key."""
    out: dict[str, dict[int, int]] = {}
    with keystore.engine.connect() as conn:
        for kind in KINDS:
            table = kind.table
            rows = conn.execute(select(table.c.master_version, func.count())
                                .group_by(table.c.master_version)).all()
            out[kind.name] = {int(v): int(n) for v, n in rows}
    return out


def retirable_versions(keyring: Keyring, in_use: dict[str, dict[int, int]]) -> list[int]:
    """Keyring versions, other than the active one, that no stored key depends on."""
    used = {v for counts in in_use.values() for v, n in counts.items() if n}
    return sorted(v for v in keyring.master_keys if v != keyring.active_version and v not in used)


def _stale_count(keystore: KeyStore, kind: KeyKind, active: int) -> int:
    table = kind.table
    with keystore.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)
                                .where(table.c.master_version != active)).scalar_one())


def rewrap_batch(keystore: KeyStore, keyring: Keyring, kind: KeyKind, after: object, size: int
                 ) -> tuple[int, object]:
    """Re-wrap up to ``size`` keys of ``kind`` not on the active version, with ids above
    ``after``, in one committed transaction. Returns (keys re-wrapped, last id read);
    the last id is ``None`` when nothing was left."""
    table = kind.table
    key_col = table.c[kind.id_column]
    stmt = (select(key_col, table.c.wrapped_key).where(table.c.master_version != keyring.active_version)
            .order_by(key_col).limit(size))
    if after is not None:
        stmt = stmt.where(key_col > after)
    with keystore.engine.begin() as conn:
        rows = conn.execute(stmt).all()
        if not rows:
            return 0, None
        ids = [row[0] for row in rows]
        old = [bytes(row[1]) for row in rows]
        new = rewrap_data_keys(keyring, old, [kind.aad_id(i) for i in ids])
        conn.execute(
            update(table).where(key_col == bindparam("b_id"), table.c.wrapped_key == bindparam("b_old"))
            .values(wrapped_key=bindparam("b_new"), master_version=keyring.active_version),
            [{"b_id": i, "b_old": o, "b_new": n} for i, o, n in zip(ids, old, new, strict=True)])
    return sum(o != n for o, n in zip(old, new, strict=True)), ids[-1]


def _start(engine: Engine, to_version: int, now: datetime) -> tuple[int, list[int]]:
    with engine.begin() as conn:
        stale = conn.execute(select(KeyRotation.id).where(KeyRotation.status == RotationStatus.RUNNING)).scalars().all()
        if stale:
            conn.execute(update(KeyRotation).where(KeyRotation.id.in_(stale))
                         .values(status=RotationStatus.INTERRUPTED, finished_at=now))
        result = conn.execute(insert(KeyRotation).values(to_version=to_version, started_at=now, rewrapped=0,
                                                         status=RotationStatus.RUNNING))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0]), [int(i) for i in stale]


def _record(engine: Engine, rotation_id: int, rewrapped: int, status: str | None = None,
            finished_at: datetime | None = None) -> None:
    values: dict[str, object] = {"rewrapped": rewrapped}
    if status is not None:
        values.update(status=status, finished_at=finished_at)
    with engine.begin() as conn:
        conn.execute(update(KeyRotation).where(KeyRotation.id == rotation_id).values(**values))


def rotate_master_key(engine: Engine, keystore: KeyStore, keyring: Keyring, *,
                      batch_size: int = DEFAULT_BATCH_SIZE,
                      on_batch: Callable[[BatchProgress], None] | None = None,
                      clock: Callable[[], datetime] = datetime.now) -> RotationResult:
    """Re-wrap every stored key not on ``keyring``'s active version; see the module doc.

    ``on_batch`` is called after each committed batch (the flow logs progress with
    it). Any exception marks the ``key_rotations`` row ``failed`` and propagates;
    what was committed stays, and the next run completes it.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    active = keyring.active_version
    rotation_id, interrupted = _start(engine, active, clock())
    rewrapped = {kind.name: 0 for kind in KINDS}
    batches = 0
    try:
        for kind in KINDS:
            total = _stale_count(keystore, kind, active)
            after: object = None
            while True:
                n, after = rewrap_batch(keystore, keyring, kind, after, batch_size)
                if after is None:
                    break
                batches += 1
                rewrapped[kind.name] += n
                _record(engine, rotation_id, sum(rewrapped.values()))
                if on_batch is not None:
                    on_batch(BatchProgress(kind.name, batches, n, rewrapped[kind.name], total))
    except BaseException:
        _record(engine, rotation_id, sum(rewrapped.values()), RotationStatus.FAILED, clock())
        raise
    in_use = versions_in_use(keystore)
    result = RotationResult(rotation_id, active, rewrapped, batches, in_use,
                            retirable_versions(keyring, in_use), interrupted)
    # Keys wrapped meanwhile by a process still holding the previous keyring are
    # left on the old version: the run says so instead of claiming success.
    _record(engine, rotation_id, result.total,
            RotationStatus.SUCCEEDED if result.stale == 0 else RotationStatus.INCOMPLETE, clock())
    return result
