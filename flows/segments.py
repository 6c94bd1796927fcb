"""Jobs around the decisions that need not run every night: the groups' refresh and the models' refit."""

from __future__ import annotations

from datetime import date

from prefect import flow
from sqlalchemy import func, select

from lifecycle.decisioning.service import fit_models
from lifecycle.errors import LifecycleError
from lifecycle.segments.service import label_day
from lifecycle.store.models import CustomerDecision
from tasks.context import flow_context
from tasks.segments import publish_labels
from tasks.steps import PrefectSteps


class NothingDecidedError(LifecycleError):
    """No decided date to work from."""


def _latest_decided(as_of: date | None) -> date:
    ctx = flow_context()
    stmt = select(func.max(CustomerDecision.as_of))
    if as_of is not None:
        stmt = stmt.where(CustomerDecision.as_of <= as_of)
    with ctx.engine.connect() as conn:
        day = conn.execute(stmt).scalar()
    if day is None:
        raise NothingDecidedError("no date is decided yet" + (f" on or before {as_of}" if as_of else "")
                                  + ": run the daily flow (bank-lifecycle run daily) first")
    return day


@flow(name="refresh-groups", log_prints=False, persist_result=False)
def refresh_groups(as_of: date | None = None) -> dict[str, object]:
    """Label the latest decided date again and refresh the customer groups (after a labels-file change, say).

    Args:
        as_of: label this decided date or the latest one before it (default: the latest decided date).
    """
    ctx = flow_context()
    day = _latest_decided(as_of)
    result = PrefectSteps(after={"labels": publish_labels})("labels", label_day, ctx, day)
    return {"as_of": day.isoformat(), "labels": result.labels,
            "groups": {g.code: {"members": g.members, "joined": g.joined, "left": g.left} for g in result.groups}}


@flow(name="refit-models", log_prints=False, persist_result=False)
def refit_models(as_of: date | None = None) -> dict[str, object]:
    """Fit BG/NBD and Gamma-Gamma again on the latest decided date's activity; later decisions use the new fit.

    Args:
        as_of: fit on this decided date or the latest one before it (default: the latest decided date).
    """
    ctx = flow_context()
    day = _latest_decided(as_of)
    models = PrefectSteps()("fit-models", fit_models, ctx, day)
    return {"as_of": day.isoformat(), "model_fit_id": models.fit_id, "not_fitted": models.why_missing}
