"""``bank-lifecycle decision explain|evaluate``: why a customer was decided so, and how good decisions are.

``explain CUSTOMER_REF [--as-of D]`` prints the customer's stage, tiers, score,
P(active) and CLV on that date (default: the latest decided) with every
reason, the rules version and the model fit — masked data only.
``evaluate --truth DIR [--as-of D]`` scores the decisions against the
synthetic generator's truth: per-class precision, recall and the confusion
matrix.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection, func, select

from lifecycle.cli import open_context
from lifecycle.decisioning.evaluation import evaluate, render
from lifecycle.errors import LifecycleError
from lifecycle.protection.customers import check_customer_ref, customer_row
from lifecycle.store.models import CustomerDecision, StageTransition, TierEvent


class NoDecisionError(LifecycleError):
    """The customer (or the date) has not been decided."""


def register(groups: Any) -> None:
    group = groups.add_parser("decision", help="explain a customer's decisions; evaluate decisions against truth")
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    explain = commands.add_parser("explain", help="stage, tiers, score, P(active), CLV with their reasons")
    explain.add_argument("customer_ref", metavar="CUSTOMER_REF", help="e.g. CUS0000000042")
    explain.add_argument("--as-of", type=date.fromisoformat, help="decision date (default: the latest)")
    explain.add_argument("--json", action="store_true", help="print the decision as JSON")
    explain.set_defaults(handler=explain_decision)
    scoring = commands.add_parser("evaluate", help="precision, recall and confusion against the generator's truth")
    scoring.add_argument("--truth", type=Path, required=True, help="the generator's truth/ folder")
    scoring.add_argument("--as-of", type=date.fromisoformat, help="decision date (default: the latest)")
    scoring.set_defaults(handler=evaluate_decisions)


def _latest(conn: Connection, customer_id: int | None = None) -> date | None:
    stmt = select(func.max(CustomerDecision.as_of))
    if customer_id is not None:
        stmt = stmt.where(CustomerDecision.customer_id == customer_id)
    return conn.execute(stmt).scalar()


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.2f}"
    return str(value)


def explain_decision(args: argparse.Namespace, out: TextIO) -> int:
    check_customer_ref(args.customer_ref)
    ctx = open_context()
    with ctx.engine.connect() as conn:
        customer = customer_row(conn, args.customer_ref)
        day = args.as_of or _latest(conn, int(customer.customer_id))
        row = conn.execute(select(CustomerDecision).where(CustomerDecision.customer_id == customer.customer_id,
                                                          CustomerDecision.as_of == day)).first() if day else None
        if row is None:
            raise NoDecisionError(f"{args.customer_ref} has no decision{f' as of {day}' if day else ''}")
        transitions = conn.execute(select(StageTransition.as_of, StageTransition.from_stage, StageTransition.to_stage)
                                   .where(StageTransition.customer_id == customer.customer_id,
                                          StageTransition.as_of <= day).order_by(StageTransition.as_of)).all()
        events = conn.execute(select(TierEvent.as_of, TierEvent.dimension, TierEvent.from_tier, TierEvent.to_tier,
                                     TierEvent.direction).where(TierEvent.customer_id == customer.customer_id,
                                                                TierEvent.as_of <= day)
                              .order_by(TierEvent.as_of)).all()
    decision = dict(row._mapping)
    reasons = json.loads(decision.pop("reasons"))
    if args.json:
        out.write(json.dumps({"customer_ref": args.customer_ref, "name": customer.name_masked,
                              **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in decision.items()
                                 if k != "customer_id"}, "reasons": reasons}, ensure_ascii=False, indent=2) + "\n")
        return 0
    out.write(f"{args.customer_ref} ({customer.customer_type}, {customer.name_masked or '-'}) as of {day}\n")
    out.write(f"rules {decision['rules_version']}, features {decision['feature_set']}, "
              f"model fit {_fmt(decision['model_fit_id'])}\n\n")
    for key in ("lifecycle_stage", "value_tier", "risk_tier", "need_tier", "composite_score", "p_active"):
        shown = decision[key] if key != "risk_tier" else (
            f"{decision['risk_tier']} (credit {decision['credit_risk']}, AML {decision['aml_risk']}, "
            f"operational {decision['operational_risk']})")
        if key == "p_active":
            shown = (f"{_fmt(decision['p_active'])}; expected transactions {_fmt(decision['expected_txns'])}; "
                     f"CLV {_fmt(decision['clv'])}")
        out.write(f"{key:<16} {_fmt(shown)}\n")
        for reason in reasons.get(key, []):
            limit = f", weight {_fmt(reason['weight'])}" if "weight" in reason else (
                f", threshold {_fmt(reason['threshold'])}" if reason.get("threshold") is not None else "")
            extra = f" ({reason['points']:+.2f} points)" if "points" in reason else ""
            out.write(f"    {reason['rule']}: value {_fmt(reason.get('value'))}{limit}{extra}\n")
    if transitions:
        out.write("\nstage history\n")
        out.writelines(f"    {t.as_of}  {t.from_stage or '(first)'} -> {t.to_stage}\n" for t in transitions)
    if events:
        out.write("\ntier changes\n")
        out.writelines(f"    {e.as_of}  {e.dimension}: {e.from_tier} -> {e.to_tier} ({e.direction})\n" for e in events)
    return 0


def evaluate_decisions(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    with ctx.engine.connect() as conn:
        day = args.as_of or _latest(conn)
        if day is None:
            raise NoDecisionError("nothing has been decided yet: run the daily flow or decide-dates first")
        out.write(f"decisions as of {day} against {args.truth}\n\n")
        out.write(render(evaluate(conn, args.truth, day)) + "\n")
    return 0
