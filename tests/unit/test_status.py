"""Every state machine: its statuses, its moves, and refusals that name the move."""

from __future__ import annotations

import pytest

from lifecycle.status import FILE, MACHINES, QUARANTINE, RUN, FileStatus, QuarantineStatus, RunStatus, TransitionError


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_every_status_of_a_machine_has_a_row_and_every_target_is_a_status(machine: object) -> None:
    moves = machine.moves  # type: ignore[attr-defined]
    statuses = set(type(next(iter(moves))))
    assert set(moves) == statuses
    assert all(target in statuses for targets in moves.values() for target in targets)
    assert machine.initial <= statuses  # type: ignore[attr-defined]
    reachable = set(machine.initial)  # type: ignore[attr-defined]
    frontier = list(reachable)
    while frontier:
        for target in moves[frontier.pop()]:
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == statuses  # no status is dead code


def test_a_finished_run_cannot_move_again() -> None:
    for final in RUN.final:
        with pytest.raises(TransitionError, match=f"'{final}' cannot become 'succeeded'"):
            RUN.check(final, RunStatus.SUCCEEDED)
    RUN.check(RunStatus.RUNNING, RunStatus.INTERRUPTED)


def test_a_loaded_file_is_only_superseded_and_a_new_row_is_loaded_or_refused() -> None:
    FILE.check(None, FileStatus.REFUSED)
    FILE.check(FileStatus.LOADED, FileStatus.SUPERSEDED)
    with pytest.raises(TransitionError, match="allowed: superseded"):
        FILE.check(FileStatus.LOADED, FileStatus.LOADED)
    with pytest.raises(TransitionError, match="a new row cannot become 'superseded'"):
        FILE.check(None, FileStatus.SUPERSEDED)


def test_release_is_reachable_from_open_only_and_statuses_compare_as_stored_text() -> None:
    assert QUARANTINE.sources_of(QuarantineStatus.RELEASED) == [QuarantineStatus.OPEN]
    assert QuarantineStatus.OPEN == "open" and f"{RunStatus.SKIPPED}" == "skipped"
