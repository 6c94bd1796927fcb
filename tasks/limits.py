"""The database-writer limit: a Prefect global concurrency limit every writing task takes one slot of.

SQLite takes one writer at a time: two flow runs writing together (the nightly
load and a dispatch-outbox run falling due, a back-fill started by hand) make one
of them wait on the database lock until it times out. The limit named
:data:`DATABASE_WRITERS` serialises the writing tasks of every flow run on the
server instead — a waiting task shows as Running in the UI and its slot as taken
on the limit's page — whatever worker or process they run in.

* The operator creates it once per server (``make writer-limit``: 1 for SQLite;
  with PostgreSQL, as many as the database takes concurrent bulk writers, e.g. the
  partition count).
* A server without the limit does not block anything: Prefect 3.8's
  ``concurrency(..., strict=False)`` logs "Concurrency limits [...] do not exist -
  skipping acquisition" and runs the task (prefect/concurrency/_asyncio.py). The
  local API of ``bank-lifecycle run`` and the demo creates it (limit 1 for SQLite)
  so that they run as a server would, without that warning on every task.
* A slot is held for the whole task, never across tasks: steps nested inside a
  writing task (those inside the day's transaction, the refusal recorded when the
  day's orphans put it over budget) take none, or a limit of 1 would wait on
  itself. :func:`database_writer` knows it is nested from a context variable, so
  this holds whatever the nested step's policy says.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

DATABASE_WRITERS = "lifecycle-database-writers"
#: Slots held while a slot is taken are renewed every 75 % of this (Prefect's lease thread).
LEASE_SECONDS = 300.0
#: True while this context (a task and the tasks it runs inline) holds a slot.
_HOLDING: ContextVar[bool] = ContextVar("lifecycle_database_writer_held", default=False)


@contextmanager
def database_writer() -> Iterator[None]:
    """Hold one slot of :data:`DATABASE_WRITERS` for the duration (waits while all are taken).

    Inside a step that already holds one (a nested task run), takes none: the
    enclosing slot covers it.
    """
    if _HOLDING.get():
        yield
        return
    with concurrency(DATABASE_WRITERS, occupy=1, lease_duration=LEASE_SECONDS, strict=False,
                     raise_on_lease_renewal_failure=False):
        token = _HOLDING.set(True)
        try:
            yield
        finally:
            _HOLDING.reset(token)


def default_writers(database_url: str) -> int:
    """The limit to create where none is given: 1 on SQLite (one writer at a time), 4 otherwise."""
    return 1 if database_url.startswith("sqlite") else 4


def ensure_writer_limit(client: SyncPrefectClient, limit: int) -> bool:
    """Create :data:`DATABASE_WRITERS` with ``limit`` slots unless it exists; True when it was created.

    An existing limit is left as the operator set it.
    """
    try:
        client.read_global_concurrency_limit_by_name(DATABASE_WRITERS)
        return False
    except ObjectNotFound:
        pass
    try:
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=DATABASE_WRITERS, limit=limit))
    except ObjectAlreadyExists:  # created meanwhile by another process
        return False
    return True


def ensure_ephemeral_writer_limit(database_url: str) -> None:
    """On Prefect's ephemeral API (no ``PREFECT_API_URL``), create the limit for ``database_url``'s database.

    A configured server is the operator's: its limit is created by the deploy procedure
    (``make writer-limit``), never by a run.
    """
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return
    with get_client(sync_client=True) as client:
        ensure_writer_limit(client, default_writers(database_url))
