"""The platform's state machines: each status is a ``StrEnum`` with its allowed moves.

A status is stored as its plain string value (``"open"``, ``"loaded"`` …), so
the enums compare equal to what the database holds and SQL filters take them
as they are. Every state machine lists its transitions here, in one place:
code that changes a status asks :meth:`StateMachine.check` (or filters its
``UPDATE`` on :meth:`StateMachine.sources_of`) instead of knowing the rules
itself, and a test walks every table of transitions.

Machines: ingestion runs, ingested files, quarantined rows, key rotations, decision runs, retention
tasks, outbox messages, complaints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from lifecycle.errors import LifecycleError

S = TypeVar("S", bound=StrEnum)


class TransitionError(LifecycleError):
    """A status change that its state machine does not allow (a programming error or a race)."""


@dataclass(frozen=True)
class StateMachine(Generic[S]):
    """The allowed moves of one status: ``moves[a]`` is the set of statuses ``a`` may become."""

    name: str
    initial: frozenset[S]
    moves: Mapping[S, frozenset[S]]

    def allows(self, current: S | None, new: S) -> bool:
        """Whether ``current`` may become ``new`` (None: a new row)."""
        return new in (self.initial if current is None else self.moves.get(current, frozenset()))

    def refusal(self, current: S | None, new: S) -> str | None:
        """Why ``current`` may not become ``new``, or None when it may."""
        if self.allows(current, new):
            return None
        allowed = self.initial if current is None else self.moves.get(current, frozenset())
        start = "a new row" if current is None else f"'{current}'"
        return f"{self.name}: {start} cannot become '{new}' (allowed: {', '.join(sorted(allowed)) or 'none'})"

    def check(self, current: S | None, new: S) -> None:
        """Raise :class:`TransitionError` unless ``current`` may become ``new`` (None: a new row)."""
        reason = self.refusal(current, new)
        if reason is not None:
            raise TransitionError(reason)

    def sources_of(self, new: S) -> list[S]:
        """The statuses from which ``new`` may be reached (for ``UPDATE … WHERE status IN``)."""
        return sorted(s for s, targets in self.moves.items() if new in targets)

    @property
    def final(self) -> frozenset[S]:
        return frozenset(s for s, targets in self.moves.items() if not targets)


class RunStatus(StrEnum):
    """An ingestion run (one per attempt at a day)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"  # the day's files committed, all or nothing
    REFUSED = "refused"  # the quality gate refused it: quarantine kept, nothing loaded
    FAILED = "failed"  # an error stopped it; nothing of it was loaded
    SKIPPED = "skipped"  # every file was already loaded
    INTERRUPTED = "interrupted"  # its process died; a later run found it still "running"


RUN = StateMachine[RunStatus](
    "ingestion run",
    initial=frozenset({RunStatus.RUNNING}),
    moves={
        RunStatus.RUNNING: frozenset({RunStatus.SUCCEEDED, RunStatus.REFUSED, RunStatus.FAILED, RunStatus.SKIPPED,
                                      RunStatus.INTERRUPTED}),
        RunStatus.SUCCEEDED: frozenset(), RunStatus.REFUSED: frozenset(), RunStatus.FAILED: frozenset(),
        RunStatus.SKIPPED: frozenset(), RunStatus.INTERRUPTED: frozenset(),
    },
)


class FileStatus(StrEnum):
    """A landing file of one source and day, identified by its SHA-256."""

    LOADED = "loaded"
    REFUSED = "refused"  # read by a run the quality gate refused; a later run may load it
    SUPERSEDED = "superseded"  # a corrected file of the same source and day replaced it


FILE = StateMachine[FileStatus](
    "ingested file",
    initial=frozenset({FileStatus.LOADED, FileStatus.REFUSED}),
    moves={
        FileStatus.REFUSED: frozenset({FileStatus.LOADED, FileStatus.REFUSED, FileStatus.SUPERSEDED}),
        FileStatus.LOADED: frozenset({FileStatus.SUPERSEDED}),
        FileStatus.SUPERSEDED: frozenset({FileStatus.LOADED, FileStatus.REFUSED}),  # the same file sent again
    },
)


class QuarantineStatus(StrEnum):
    """A row the quality gate (or the owner check) rejected."""

    OPEN = "open"
    RELEASED = "released"  # a steward released it: the next run of its source feeds it again
    REPROCESSED = "reprocessed"  # fed again: loaded, or quarantined anew with fresh reasons
    SUPERSEDED = "superseded"  # a later file of its source carried the same row (or key)


QUARANTINE = StateMachine[QuarantineStatus](
    "quarantined row",
    initial=frozenset({QuarantineStatus.OPEN}),
    moves={
        QuarantineStatus.OPEN: frozenset({QuarantineStatus.RELEASED, QuarantineStatus.SUPERSEDED}),
        QuarantineStatus.RELEASED: frozenset({QuarantineStatus.REPROCESSED, QuarantineStatus.SUPERSEDED,
                                              QuarantineStatus.OPEN}),
        QuarantineStatus.REPROCESSED: frozenset(), QuarantineStatus.SUPERSEDED: frozenset(),
    },
)


class RotationStatus(StrEnum):
    """A master-key rotation."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    INCOMPLETE = "incomplete"  # keys on an old version remain (wrapped meanwhile by an older keyring)
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died; the next rotation completes the work


ROTATION = StateMachine[RotationStatus](
    "key rotation",
    initial=frozenset({RotationStatus.RUNNING}),
    moves={
        RotationStatus.RUNNING: frozenset({RotationStatus.SUCCEEDED, RotationStatus.INCOMPLETE,
                                           RotationStatus.FAILED, RotationStatus.INTERRUPTED}),
        RotationStatus.SUCCEEDED: frozenset(), RotationStatus.INCOMPLETE: frozenset(),
        RotationStatus.FAILED: frozenset(), RotationStatus.INTERRUPTED: frozenset(),
    },
)



class DecisionStatus(StrEnum):
    """The deciding of one as-of date."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"  # every partition decided: the date's decisions are complete
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died; deciding the date again replaces its rows


DECISION = StateMachine[DecisionStatus](
    "decision run",
    initial=frozenset({DecisionStatus.RUNNING}),
    moves={
        DecisionStatus.RUNNING: frozenset({DecisionStatus.SUCCEEDED, DecisionStatus.FAILED,
                                           DecisionStatus.INTERRUPTED}),
        DecisionStatus.SUCCEEDED: frozenset(), DecisionStatus.FAILED: frozenset(),
        DecisionStatus.INTERRUPTED: frozenset(),
    },
)



class TaskStatus(StrEnum):
    """A retention task: work for a relationship manager to keep a customer."""

    OPEN = "open"
    CONTACTED = "contacted"  # the RM reached the customer; the outcome is pending
    RETAINED = "retained"
    LOST = "lost"
    EXPIRED = "expired"  # still open or contacted past its due date and the grace period
    CANCELLED = "cancelled"  # the customer was erased


TASK = StateMachine[TaskStatus](
    "retention task",
    initial=frozenset({TaskStatus.OPEN}),
    moves={
        TaskStatus.OPEN: frozenset({TaskStatus.CONTACTED, TaskStatus.RETAINED, TaskStatus.LOST, TaskStatus.EXPIRED,
                                    TaskStatus.CANCELLED}),
        TaskStatus.CONTACTED: frozenset({TaskStatus.RETAINED, TaskStatus.LOST, TaskStatus.EXPIRED,
                                         TaskStatus.CANCELLED}),
        TaskStatus.RETAINED: frozenset(), TaskStatus.LOST: frozenset(), TaskStatus.EXPIRED: frozenset(),
        TaskStatus.CANCELLED: frozenset(),
    },
)


class OutboxStatus(StrEnum):
    """A message in the outbox."""

    PENDING = "pending"  # waiting for its not_before time and a dispatcher
    SENDING = "sending"  # claimed by a dispatcher under a lease
    SENT = "sent"
    FAILED = "failed"  # a permanent failure, or out of attempts: a person must look
    CANCELLED = "cancelled"  # withdrawn before sending (erasure, opt-out)


OUTBOX = StateMachine[OutboxStatus](
    "outbox message",
    initial=frozenset({OutboxStatus.PENDING}),
    moves={
        OutboxStatus.PENDING: frozenset({OutboxStatus.SENDING, OutboxStatus.CANCELLED}),
        OutboxStatus.SENDING: frozenset({OutboxStatus.SENT, OutboxStatus.PENDING, OutboxStatus.FAILED,
                                         OutboxStatus.SENDING, OutboxStatus.CANCELLED}),  # re-claimed after a lease
        OutboxStatus.SENT: frozenset(), OutboxStatus.FAILED: frozenset({OutboxStatus.PENDING}),  # re-queued by hand
        OutboxStatus.CANCELLED: frozenset(),
    },
)



class ComplaintStatus(StrEnum):
    """A customer's complaint, moved by the status rows of the interactions extract."""

    OPEN = "open"  # logged; nobody has taken it up yet
    IN_PROGRESS = "in_progress"  # being handled (a follow-up contact keeps it in progress)
    RESOLVED = "resolved"  # answered and closed: final (a new grievance is a new complaint)


COMPLAINT = StateMachine[ComplaintStatus](
    "complaint",
    initial=frozenset({ComplaintStatus.OPEN}),
    moves={
        ComplaintStatus.OPEN: frozenset({ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED}),
        ComplaintStatus.IN_PROGRESS: frozenset({ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED}),
        ComplaintStatus.RESOLVED: frozenset(),
    },
)

MACHINES: tuple[StateMachine[RunStatus] | StateMachine[FileStatus] | StateMachine[QuarantineStatus]
                | StateMachine[RotationStatus] | StateMachine[DecisionStatus] | StateMachine[TaskStatus]
                | StateMachine[OutboxStatus] | StateMachine[ComplaintStatus], ...] = (
    RUN, FILE, QUARANTINE, ROTATION, DECISION, TASK, OUTBOX, COMPLAINT)
