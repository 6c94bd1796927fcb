"""Complaints: open → in_progress → resolved, with a service-level due date.

A complaint is a case (``case_ref``: its record in the feedback extract, which
carries the category and severity). Its statuses arrive as rows of the
interactions extract: the contact that logs it (``open``) and the later
contacts that take it up (``in_progress``) and answer it (``resolved``). The
moves are those of :data:`lifecycle.status.COMPLAINT`; this module applies them
to frames, vectorised:

* :func:`refused_transitions` — the incoming status rows that the machine does
  not allow from the case's state (stored or earlier in the batch), each with a
  reason naming the case and the move. The loader quarantines them.
* :func:`complaint_states` — every case's status as of a day, its opening date,
  due date (opened + the service level in days) and whether it is overdue
  (unresolved after its due date). A case with no status rows takes the
  feedback record's own status (``OPEN``/``RESOLVED``), opened on its date.

Pure: pandas only, no store, no clock.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from lifecycle.status import COMPLAINT, ComplaintStatus

TRANSITION_RULE = "complaint_transition"
UNRESOLVED = (ComplaintStatus.OPEN.value, ComplaintStatus.IN_PROGRESS.value)
_NEW = ""  # the state of a case nobody has opened yet
_ALLOWED = frozenset(
    [f"{_NEW}>{s}" for s in COMPLAINT.initial]
    + [f"{a}>{b}" for a, targets in COMPLAINT.moves.items() for b in targets]
)
# The feedback record's own status, for cases the interactions extract says nothing about.
FEEDBACK_STATUS = {"OPEN": ComplaintStatus.OPEN.value, "IN_PROGRESS": ComplaintStatus.IN_PROGRESS.value,
                   "RESOLVED": ComplaintStatus.RESOLVED.value, "CLOSED": ComplaintStatus.RESOLVED.value}
EVENT_COLUMNS = ("case_ref", "customer_id", "interaction_id", "interaction_time", "complaint_status")
STATE_COLUMNS = ("case_ref", "customer_id", "category", "severity", "status", "opened_on", "status_on",
                 "due_on", "overdue")


def _reason(case: str, current: str, new: str) -> str:
    refusal = COMPLAINT.refusal(ComplaintStatus(current) if current else None, ComplaintStatus(new))
    return f"case {case}: {refusal}"


def refused_transitions(events: pd.DataFrame, current: pd.Series) -> pd.DataFrame:
    """Status rows the complaint machine refuses: ``row_id``, ``case_ref``, ``reason``.

    ``events``: ``row_id``, ``interaction_id``, ``case_ref``, ``interaction_time``,
    ``complaint_status`` (statuses as stored: ``open`` …) — the batch's status rows.
    ``current``: ``case_ref`` -> the case's status before the batch (absent: a new case).

    Rows are taken in time order (then by interaction id) per case. A refused row
    does not move its case: the rows after it are judged from the state before it.
    Vectorised: each pass judges every row at once and sets aside the first
    refused row of each case, so the passes are as many as the most refusals a
    single case has.
    """
    cols = ["row_id", "interaction_id", "case_ref", "interaction_time", "complaint_status"]
    pending = events[cols].sort_values(["case_ref", "interaction_time", "interaction_id"], kind="stable")
    pending = pending.reset_index(drop=True)
    before = current.astype(object).where(current.notna(), _NEW)
    refused: list[pd.DataFrame] = []
    while len(pending):
        new = pending["complaint_status"].astype(str)
        previous = pending.groupby("case_ref", sort=False)["complaint_status"].shift(1)
        first = previous.isna()
        previous = previous.astype(object).where(~first, pending["case_ref"].map(before)).fillna(_NEW).astype(str)
        bad = ~(previous + ">" + new).isin(_ALLOWED)
        if not bad.any():
            break
        worst = pending[bad].drop_duplicates("case_ref")
        reasons = [_reason(c, p, n) for c, p, n in zip(worst["case_ref"], previous[worst.index], new[worst.index],
                                                        strict=True)]
        refused.append(worst[["row_id", "case_ref"]].assign(reason=reasons))
        pending = pending.drop(index=worst.index).reset_index(drop=True)
    if not refused:
        return pd.DataFrame({"row_id": pd.Series(dtype="int64"), "case_ref": pd.Series(dtype=object),
                             "reason": pd.Series(dtype=object)})
    return pd.concat(refused, ignore_index=True)


def latest_status(events: pd.DataFrame) -> pd.Series:
    """``case_ref`` -> the status of its latest row (time, then interaction id)."""
    if events.empty:
        return pd.Series(dtype=object)
    last = events.sort_values(["case_ref", "interaction_time", "interaction_id"], kind="stable") \
        .drop_duplicates("case_ref", keep="last")
    return last.set_index("case_ref")["complaint_status"].astype(object)


def complaint_states(events: pd.DataFrame, cases: pd.DataFrame, day: date, sla_days: int) -> pd.DataFrame:
    """Every complaint's state as of ``day``: one row per case, columns :data:`STATE_COLUMNS`.

    ``events``: ``case_ref``, ``customer_id``, ``interaction_id``, ``interaction_time``,
    ``complaint_status`` — accepted status rows (later ones than ``day`` are ignored).
    ``cases``: the feedback extract's complaints: ``case_ref``, ``customer_id``,
    ``feedback_date``, ``category``, ``severity``, ``status`` (its own, as of ``day``).
    A case is opened on its ``open`` row's date (else its feedback date) and due
    ``sla_days`` later; it is overdue when still unresolved after the due date.
    """
    end = pd.Timestamp(day) + pd.Timedelta(days=1)
    ev = events[pd.to_datetime(events["interaction_time"]) < end] if len(events) else events
    cases = cases[pd.to_datetime(cases["feedback_date"]) <= pd.Timestamp(day)] if len(cases) else cases
    ev = ev.assign(on=pd.to_datetime(ev["interaction_time"]).dt.normalize()) if len(ev) else \
        pd.DataFrame(columns=[*EVENT_COLUMNS, "on"])
    ordered = ev.sort_values(["case_ref", "interaction_time", "interaction_id"], kind="stable")
    last = ordered.drop_duplicates("case_ref", keep="last").set_index("case_ref")
    opened = ordered[ordered["complaint_status"] == ComplaintStatus.OPEN.value].drop_duplicates("case_ref") \
        .set_index("case_ref")["on"]
    record = cases.drop_duplicates("case_ref").set_index("case_ref") if len(cases) else \
        pd.DataFrame(columns=["customer_id", "feedback_date", "category", "severity", "status"])
    index = record.index.union(last.index)
    out = pd.DataFrame(index=index)
    out.index.name = "case_ref"
    out["customer_id"] = record["customer_id"].reindex(index).astype(object) \
        .where(record["customer_id"].reindex(index).notna(), last["customer_id"].reindex(index))
    out["category"] = record["category"].reindex(index) if "category" in record else None
    out["severity"] = record["severity"].reindex(index) if "severity" in record else None
    own = record["status"].reindex(index).map(FEEDBACK_STATUS) if "status" in record else pd.Series(None, index)
    own = own.astype(object).where(own.notna(), ComplaintStatus.OPEN.value)
    reported = last["complaint_status"].reindex(index)
    out["status"] = reported.astype(object).where(reported.notna(), own)
    filed = pd.to_datetime(record["feedback_date"].reindex(index))
    last_on = pd.to_datetime(last["on"].reindex(index))
    out["opened_on"] = pd.to_datetime(opened.reindex(index)).fillna(filed).fillna(last_on).dt.date
    out["status_on"] = last_on.fillna(filed).dt.date
    out["due_on"] = (pd.to_datetime(out["opened_on"]) + timedelta(days=sla_days)).dt.date
    out["overdue"] = out["status"].isin(UNRESOLVED).to_numpy() & (pd.to_datetime(out["due_on"]) < pd.Timestamp(day)) \
        .to_numpy()
    out["customer_id"] = pd.to_numeric(out["customer_id"]).astype("int64")
    return out.reset_index()[list(STATE_COLUMNS)].sort_values(["customer_id", "opened_on", "case_ref"]) \
        .reset_index(drop=True)


def unresolved(states: pd.DataFrame) -> pd.DataFrame:
    """The open and in-progress complaints of ``states``."""
    return states[states["status"].isin(UNRESOLVED)]
