"""The complaint state machine over hand-made frames: moves, refusals with reasons, overdue detection."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from lifecycle.complaints import complaint_states, refused_transitions, unresolved
from lifecycle.status import COMPLAINT, ComplaintStatus, TransitionError


def _events(rows: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    """(row_id, case_ref, time, status) -> a batch of status rows."""
    return pd.DataFrame({"row_id": [r[0] for r in rows], "interaction_id": [f"I{r[0]:03d}" for r in rows],
                         "case_ref": [r[1] for r in rows], "interaction_time": pd.to_datetime([r[2] for r in rows]),
                         "complaint_status": [r[3] for r in rows], "customer_id": 1})


NOTHING_STORED = pd.Series(dtype=object)


def test_open_then_in_progress_then_resolved_is_accepted_in_time_order_whatever_the_row_order() -> None:
    batch = _events([(1, "FB1", "2026-03-05 10:00", "resolved"), (2, "FB1", "2026-03-01 09:00", "open"),
                     (3, "FB1", "2026-03-02 09:00", "in_progress"), (4, "FB1", "2026-03-03 09:00", "in_progress")])
    assert refused_transitions(batch, NOTHING_STORED).empty


def test_a_resolved_complaint_cannot_reopen_and_the_reason_names_case_and_move() -> None:
    batch = _events([(1, "FB1", "2026-03-01", "open"), (2, "FB1", "2026-03-02", "resolved"),
                     (3, "FB1", "2026-03-03", "open"), (4, "FB2", "2026-03-01", "open")])
    refused = refused_transitions(batch, NOTHING_STORED)
    assert refused["row_id"].tolist() == [3]
    assert refused["reason"].iloc[0] == ("case FB1: complaint: 'resolved' cannot become 'open' (allowed: none)")


def test_a_case_must_be_opened_before_it_moves() -> None:
    refused = refused_transitions(_events([(7, "FB9", "2026-03-02", "in_progress")]), NOTHING_STORED)
    assert refused["row_id"].tolist() == [7]
    assert "a new row cannot become 'in_progress' (allowed: open)" in refused["reason"].iloc[0]


def test_the_stored_state_is_where_a_batch_starts() -> None:
    stored = pd.Series({"FB1": "resolved", "FB2": "in_progress"})
    batch = _events([(1, "FB1", "2026-03-10", "in_progress"), (2, "FB2", "2026-03-10", "resolved"),
                     (3, "FB2", "2026-03-11", "open")])
    refused = refused_transitions(batch, stored)
    assert refused.sort_values("row_id")["row_id"].tolist() == [1, 3]
    # FB2's resolution (row 2) is accepted, so row 3 is judged from "resolved"
    assert "case FB2: complaint: 'resolved' cannot become 'open'" in refused.set_index("row_id").at[3, "reason"]


def test_a_refused_row_does_not_move_its_case_so_the_next_row_is_judged_from_before_it() -> None:
    # open, then a second "open" (refused), then in_progress: judged from "open", accepted
    batch = _events([(1, "FB1", "2026-03-01", "open"), (2, "FB1", "2026-03-02", "open"),
                     (3, "FB1", "2026-03-03", "open"), (4, "FB1", "2026-03-04", "in_progress")])
    refused = refused_transitions(batch, NOTHING_STORED)
    assert sorted(refused["row_id"].tolist()) == [2, 3]


def _cases(rows: list[tuple[str, int, str, str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame({"case_ref": [r[0] for r in rows], "customer_id": [r[1] for r in rows],
                         "feedback_date": pd.to_datetime([r[2] for r in rows]).date,
                         "category": "服务态度", "severity": [r[3] for r in rows], "status": [r[4] for r in rows]})


def test_overdue_means_unresolved_after_the_service_level_due_date() -> None:
    events = _events([(1, "FB1", "2026-03-01 09:00", "open"),  # due 03-16, unresolved on 03-20: overdue
                      (2, "FB2", "2026-03-01 09:00", "open"), (3, "FB2", "2026-03-10 09:00", "resolved"),
                      (4, "FB3", "2026-03-10 09:00", "open"), (5, "FB3", "2026-03-12 09:00", "in_progress"),
                      (6, "FB4", "2026-03-01 09:00", "open"), (7, "FB4", "2026-03-02 09:00", "in_progress")])
    cases = _cases([("FB1", 1, "2026-03-01", "HIGH", "OPEN"), ("FB2", 1, "2026-03-01", "LOW", "OPEN"),
                    ("FB3", 2, "2026-03-10", "LOW", None), ("FB4", 2, "2026-03-01", "MEDIUM", None)])
    states = complaint_states(events, cases, date(2026, 3, 20), sla_days=15).set_index("case_ref")
    assert states["status"].to_dict() == {"FB1": "open", "FB2": "resolved", "FB3": "in_progress",
                                          "FB4": "in_progress"}
    assert states.at["FB1", "due_on"] == date(2026, 3, 16)
    assert states["overdue"].to_dict() == {"FB1": True, "FB2": False, "FB3": False, "FB4": True}
    assert set(unresolved(states.reset_index())["case_ref"]) == {"FB1", "FB3", "FB4"}


def test_a_status_row_after_the_day_is_not_seen_and_the_due_day_itself_is_not_overdue() -> None:
    events = _events([(1, "FB1", "2026-03-01 09:00", "open"), (2, "FB1", "2026-03-17 09:00", "resolved")])
    cases = _cases([("FB1", 1, "2026-03-01", "HIGH", None)])
    on_due_day = complaint_states(events, cases, date(2026, 3, 16), sla_days=15).iloc[0]
    assert (on_due_day["status"], on_due_day["overdue"]) == ("open", False)
    day_after = complaint_states(events, cases, date(2026, 3, 17), sla_days=15).iloc[0]
    assert (day_after["status"], day_after["overdue"], day_after["status_on"]) == ("resolved", False,
                                                                                   date(2026, 3, 17))


def test_a_case_without_status_rows_keeps_its_feedback_status_and_a_row_without_a_record_is_a_case() -> None:
    events = _events([(1, "FB8", "2026-02-01 09:00", "open")])
    cases = _cases([("FB5", 3, "2026-02-01", "LOW", "RESOLVED"), ("FB6", 3, "2026-02-01", "LOW", "OPEN")])
    states = complaint_states(events, cases, date(2026, 3, 1), sla_days=15).set_index("case_ref")
    assert states["status"].to_dict() == {"FB5": "resolved", "FB6": "open", "FB8": "open"}
    assert states["overdue"].to_dict() == {"FB5": False, "FB6": True, "FB8": True}
    assert states.at["FB8", "customer_id"] == 1 and pd.isna(states.at["FB8", "severity"])


def test_the_machine_refuses_by_raising_with_the_allowed_moves() -> None:
    COMPLAINT.check(ComplaintStatus.IN_PROGRESS, ComplaintStatus.IN_PROGRESS)  # a follow-up contact
    with pytest.raises(TransitionError, match="'open' cannot become 'open' .allowed: in_progress, resolved."):
        COMPLAINT.check(ComplaintStatus.OPEN, ComplaintStatus.OPEN)


@pytest.mark.parametrize("with_events, with_cases", [(False, False), (True, False), (False, True)])
def test_a_customer_without_complaints_or_with_one_side_only_gets_typed_states(with_events: bool,
                                                                              with_cases: bool) -> None:
    events = _events([(1, "FB1", "2026-03-01 09:00", "open")]) if with_events else \
        _events([(1, "FB1", "2026-03-01 09:00", "open")]).iloc[0:0].astype(object)  # as an empty read gives
    cases = _cases([("FB2", 1, "2026-03-01", "LOW", None)]) if with_cases else \
        _cases([("FB2", 1, "2026-03-01", "LOW", None)]).iloc[0:0].astype(object)
    states = complaint_states(events, cases, date(2026, 3, 20), sla_days=15)
    assert len(states) == int(with_events) + int(with_cases)
    assert list(states.columns) == ["case_ref", "customer_id", "category", "severity", "status", "opened_on",
                                    "status_on", "due_on", "overdue"]
    assert states["overdue"].all()  # opened 03-01, due 03-16, still open on 03-20
