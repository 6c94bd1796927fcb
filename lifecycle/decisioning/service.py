"""Deciding a date: features → models → decisions, per customer partition, reproducible for any past date.

    plan → features per partition → models (reuse a recent fit, or fit) → decide per partition → finish

:func:`decide_day` is the one definition; callers pass a
:class:`~lifecycle.steps.Step` (the flow makes partitions parallel tasks).
Deciding reads only the store — never the integration's staged data — so a
date can be decided again after a rule change without any new file, and
everything it reads is as of the date (history tables, dated events, the
latest model fit dated on or before it). Deciding the same date twice
replaces that date's features, decisions, transitions and tier events:
identical inputs and rules give identical rows.

A date's decisions are complete when its ``decision_runs`` row says
``succeeded``; a run that died stays ``running`` until the next run of any
date closes it as ``interrupted``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from lifecycle.clock import Clock
from lifecycle.decisioning.clv import BgNbdModel, GammaGammaModel, fit_bgnbd, fit_gamma_gamma
from lifecycle.decisioning.decide import DECISION_COLUMNS, Models, changes, decide
from lifecycle.decisioning.rules import NUMERIC_FEATURES, RuleSet
from lifecycle.errors import ModelFitError
from lifecycle.features.compute import compute_features
from lifecycle.features.config import FEATURE_SET
from lifecycle.features.reader import Partition, read_inputs
from lifecycle.status import DECISION, DecisionStatus
from lifecycle.steps import Step, direct, each
from lifecycle.store.base import table_of
from lifecycle.store.frames import read_frame
from lifecycle.store.models import (
    CustomerDecision,
    CustomerFeatures,
    DecisionRun,
    ModelFit,
    StageTransition,
    TierEvent,
)
from lifecycle.store.upsert import upsert_frame

log = logging.getLogger(__name__)
FEATURES = table_of(CustomerFeatures)
DECISIONS = table_of(CustomerDecision)


class DecisionContext(Protocol):
    @property
    def engine(self) -> Engine: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def rules(self) -> RuleSet: ...

    @property
    def partitions(self) -> int: ...


@dataclass(frozen=True)
class DecisionPlan:
    run_id: str
    as_of: date
    rules_version: str
    partitions: tuple[Partition, ...]
    previous_as_of: date | None  # the latest date decided (succeeded) before this one


@dataclass(frozen=True)
class PartitionResult:
    partition: str
    customers: int
    transitions: int = 0
    tier_events: int = 0


@dataclass(frozen=True)
class DecisionResult:
    run_id: str
    as_of: date
    rules_version: str
    model_fit_id: int | None
    summary: dict[str, object] = field(default_factory=dict)


def plan_decisions(ctx: DecisionContext, as_of: date, partitions: int | None = None) -> DecisionPlan:
    """Start a decision run of ``as_of``: close dead runs, clear the date's earlier results."""
    n = partitions or ctx.partitions
    now = ctx.clock.now()
    run_id = str(uuid.uuid4())
    with ctx.engine.begin() as conn:
        conn.execute(update(DecisionRun).where(DecisionRun.status == DecisionStatus.RUNNING).values(
            status=DecisionStatus.INTERRUPTED, finished_at=now, error="its process stopped before it finished"))
        DECISION.check(None, DecisionStatus.RUNNING)
        conn.execute(insert(DecisionRun).values(run_id=run_id, as_of=as_of, status=DecisionStatus.RUNNING,
                                                rules_version=ctx.rules.version, feature_set=FEATURE_SET,
                                                started_at=now))
        for model in (StageTransition, TierEvent, CustomerDecision):
            conn.execute(delete(model).where(model.as_of == as_of))
        conn.execute(delete(CustomerFeatures).where(CustomerFeatures.as_of == as_of,
                                                    CustomerFeatures.feature_set == FEATURE_SET))
        previous = conn.execute(select(func.max(DecisionRun.as_of)).where(
            DecisionRun.status == DecisionStatus.SUCCEEDED, DecisionRun.as_of < as_of)).scalar()
    return DecisionPlan(run_id, as_of, ctx.rules.version, tuple(Partition(i, n) for i in range(n)), previous)


def compute_partition_features(ctx: DecisionContext, plan: DecisionPlan, part: Partition) -> int:
    """Compute and store one partition's features; returns the customers it holds."""
    cfg = ctx.rules.rules.features
    inputs = read_inputs(ctx.engine, plan.as_of, part, cfg)
    features = compute_features(inputs, plan.as_of, cfg)
    rows = features.reset_index().assign(as_of=plan.as_of, run_id=plan.run_id)
    with ctx.engine.begin() as conn:
        upsert_frame(conn, FEATURES, rows)
    return len(rows)


def _stored_fit(conn: Connection, as_of: date, max_age_days: int) -> Models | None:
    row = conn.execute(select(ModelFit.id, ModelFit.bgnbd, ModelFit.gamma_gamma).where(
        ModelFit.fit_date <= as_of, ModelFit.fit_date > as_of - timedelta(days=max_age_days))
        .order_by(ModelFit.fit_date.desc(), ModelFit.id.desc()).limit(1)).first()
    if row is None:
        return None
    spend = GammaGammaModel.from_dict(row.gamma_gamma) if row.gamma_gamma else None
    return Models(int(row.id), BgNbdModel.from_dict(row.bgnbd), spend,
                  None if spend else "the spend model could not be fitted on this data")


def fit_models(ctx: DecisionContext, as_of: date) -> Models:
    """Fit BG/NBD and Gamma-Gamma on the customer-initiated activity summarised in ``as_of``'s
    features, store the parameters with their fit date and window, and return them."""
    rules = ctx.rules.rules
    with ctx.engine.connect() as conn:
        rfm = pd.DataFrame(conn.execute(select(
            FEATURES.c.customer_id, FEATURES.c.rfm_x, FEATURES.c.rfm_t_x, FEATURES.c.rfm_age, FEATURES.c.rfm_monetary)
            .where(FEATURES.c.as_of == as_of, FEATURES.c.feature_set == FEATURE_SET, FEATURES.c.rfm_age > 0)).all(),
            columns=["customer_id", "frequency", "recency", "T", "monetary_value"]).set_index("customer_id")
    period = rules.features.rfm_period_days
    m = rules.models
    try:
        activity = fit_bgnbd(rfm, period_days=period, sample_size=m.fit_sample, seed=m.seed)
    except ModelFitError as exc:
        log.warning("activity model not fitted for %s: %s", as_of, exc)
        return Models(None, None, None, str(exc))
    repeat = rfm[rfm["frequency"] > 0]
    cap = repeat["monetary_value"].quantile(m.spend_cap_quantile) if len(repeat) else 0.0
    spend: GammaGammaModel | None
    why: str | None = None
    try:  # spend capped at a high quantile: a handful of huge transfers must not make the mean infinite
        spend = fit_gamma_gamma(repeat.assign(monetary_value=repeat["monetary_value"].clip(upper=cap)),
                                sample_size=m.fit_sample, seed=m.seed)
    except ModelFitError as exc:
        log.warning("spend model not fitted for %s (lifetime values left empty): %s", as_of, exc)
        spend, why = None, f"spend model: {exc}"
    with ctx.engine.begin() as conn:
        fit_id = conn.execute(insert(ModelFit).values(
            fit_date=as_of, window_start=as_of - timedelta(days=rules.features.rfm_calibration_days),
            window_end=as_of, customers=len(rfm), bgnbd=activity.to_dict(),
            gamma_gamma=spend.to_dict() if spend else None, period_days=period, rules_version=ctx.rules.version,
            created_at=ctx.clock.now())).inserted_primary_key
    assert fit_id is not None
    return Models(int(fit_id[0]), activity, spend, why)


def models_for(ctx: DecisionContext, plan: DecisionPlan) -> Models:
    """The latest fit dated on or before the date and young enough, else a new fit."""
    with ctx.engine.connect() as conn:
        stored = _stored_fit(conn, plan.as_of, ctx.rules.rules.models.refit_after_days)
    return stored if stored is not None else fit_models(ctx, plan.as_of)


def _features(conn: Connection, plan: DecisionPlan, part: Partition) -> pd.DataFrame:
    stmt = select(FEATURES).where(FEATURES.c.as_of == plan.as_of, FEATURES.c.feature_set == FEATURE_SET,
                                  part.of(FEATURES.c.customer_id))
    frame = read_frame(conn, stmt).set_index("customer_id").drop(columns=["as_of", "feature_set", "run_id"])
    for column in NUMERIC_FEATURES.intersection(frame.columns):  # NULLs arrive as None in object columns
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    return frame


def _previous(conn: Connection, plan: DecisionPlan, part: Partition) -> pd.DataFrame:
    columns = ["customer_id", "lifecycle_stage", "value_tier", "risk_tier", "need_tier"]
    if plan.previous_as_of is None:
        return pd.DataFrame(columns=columns).set_index("customer_id")
    stmt = select(*[DECISIONS.c[c] for c in columns]).where(DECISIONS.c.as_of == plan.previous_as_of,
                                                            part.of(DECISIONS.c.customer_id))
    return pd.DataFrame(conn.execute(stmt).all(), columns=columns).set_index("customer_id")


def decide_partition(ctx: DecisionContext, plan: DecisionPlan, part: Partition, models: Models) -> PartitionResult:
    """Decide one partition and store its decisions, transitions and tier events (one transaction)."""
    with ctx.engine.connect() as conn:
        features = _features(conn, plan, part)
        previous = _previous(conn, plan, part)
    decided = decide(features, ctx.rules, models)
    transitions, events = changes(decided, previous)
    common = {"as_of": plan.as_of, "rules_version": plan.rules_version}
    rows = decided[list(DECISION_COLUMNS)].reset_index().assign(
        **common, feature_set=FEATURE_SET, model_fit_id=models.fit_id, run_id=plan.run_id)
    with ctx.engine.begin() as conn:
        upsert_frame(conn, DECISIONS, rows)
        upsert_frame(conn, table_of(StageTransition), transitions.reset_index().assign(
            **common, previous_as_of=plan.previous_as_of))
        upsert_frame(conn, table_of(TierEvent), events.reset_index().assign(
            **common, previous_as_of=plan.previous_as_of))
    return PartitionResult(part.label, len(rows), len(transitions), len(events))


def decision_summary(conn: Connection, as_of: date) -> dict[str, object]:
    """Counts per stage and tier, and the changes recorded for the date (for artifacts and logs)."""
    def counts(column: str) -> dict[str, int]:
        return {str(k): int(n) for k, n in conn.execute(select(DECISIONS.c[column], func.count()).where(
            DECISIONS.c.as_of == as_of).group_by(DECISIONS.c[column])).all()}

    events = conn.execute(select(TierEvent.dimension, TierEvent.direction, func.count()).where(
        TierEvent.as_of == as_of).group_by(TierEvent.dimension, TierEvent.direction)).all()
    moves = conn.execute(select(StageTransition.from_stage, StageTransition.to_stage, func.count()).where(
        StageTransition.as_of == as_of).group_by(StageTransition.from_stage, StageTransition.to_stage)).all()
    return {"customers": sum(counts("lifecycle_stage").values()), "lifecycle_stage": counts("lifecycle_stage"),
            "value_tier": counts("value_tier"), "risk_tier": counts("risk_tier"), "need_tier": counts("need_tier"),
            "tier_events": {f"{d} {direction}": int(n) for d, direction, n in events},
            "stage_transitions": {f"{a or 'none'}->{b}": int(n) for a, b, n in moves}}


def finish_decisions(ctx: DecisionContext, plan: DecisionPlan, models: Models,
                     results: list[PartitionResult]) -> DecisionResult:
    with ctx.engine.begin() as conn:
        summary = {**decision_summary(conn, plan.as_of), "model_fit_id": models.fit_id,
                   "models_missing": models.why_missing, "partitions": len(results),
                   "rules_version": plan.rules_version}
        DECISION.check(DecisionStatus.RUNNING, DecisionStatus.SUCCEEDED)
        conn.execute(update(DecisionRun).where(DecisionRun.run_id == plan.run_id).values(
            status=DecisionStatus.SUCCEEDED, finished_at=ctx.clock.now(), summary=summary))
    return DecisionResult(plan.run_id, plan.as_of, plan.rules_version, models.fit_id, summary)


def fail_decisions(ctx: DecisionContext, plan: DecisionPlan, error: str) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(update(DecisionRun).where(DecisionRun.run_id == plan.run_id,
                                               DecisionRun.status == DecisionStatus.RUNNING).values(
            status=DecisionStatus.FAILED, finished_at=ctx.clock.now(), error=error[:2000]))


def _label(part: Partition) -> str:
    return part.label


def _decide(ctx: DecisionContext, plan: DecisionPlan, models: Models, part: Partition) -> PartitionResult:
    return decide_partition(ctx, plan, part, models)


def decide_day(ctx: DecisionContext, as_of: date, *, partitions: int | None = None,
               step: Step = direct) -> DecisionResult:
    """Decide every live customer as of ``as_of`` (see the module's docstring)."""
    plan = step("plan-decisions", plan_decisions, ctx, as_of, partitions)
    try:
        each(step, "features", compute_partition_features, plan.partitions, _label, ctx, plan)
        models = step("fit-models", models_for, ctx, plan)
        results = each(step, "decide", _decide, plan.partitions, _label, ctx, plan, models)
        return step("finish-decisions", finish_decisions, ctx, plan, models, results)
    except Exception as exc:
        try:
            fail_decisions(ctx, plan, f"{type(exc).__name__}: {exc}")
        except Exception:  # the database may be what failed
            log.exception("decision run %s could not be recorded as failed", plan.run_id)
        raise
