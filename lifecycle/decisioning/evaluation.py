"""How good the decisions are against a known truth: per-class precision, recall and the confusion matrix.

The truth is the synthetic generator's (``truth/customers.csv``: planted stage,
value tier, credit and AML risk per real person; ``truth/identities.csv``:
which source records are that person). Customers are matched to persons
through the store's source links; a customer whose records belong to more
than one person, or to none, is left out (identity errors are measured
elsewhere). Risk is scored as a yes/no question per kind: "is the credit (or
AML) risk high?".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, select

from lifecycle.errors import ConfigError
from lifecycle.store.models import CustomerDecision, SourceLink

TRUTH_COLUMNS = {"lifecycle_stage": "persona_stage", "value_tier": "value_tier"}
VALUE_TIER_NAMES = {"high_value": "high_value", "private": "private_banking"}


@dataclass(frozen=True)
class ClassScores:
    label: str
    precision: float
    recall: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    dimension: str
    accuracy: float
    classes: list[ClassScores]
    confusion: pd.DataFrame  # truth (rows) x decided (columns)
    customers: int


def score(truth: pd.Series, decided: pd.Series, dimension: str) -> Evaluation:
    """Accuracy, per-class precision / recall and the confusion matrix of two aligned label series."""
    pair = pd.DataFrame({"truth": truth, "decided": decided}).dropna()
    labels = sorted(set(pair["truth"]) | set(pair["decided"]))
    confusion = pd.crosstab(pair["truth"], pair["decided"]).reindex(index=labels, columns=labels, fill_value=0)
    classes = []
    for label in labels:
        tp = int(confusion.loc[label, label])
        predicted, actual = int(confusion[label].sum()), int(confusion.loc[label].sum())
        classes.append(ClassScores(label, tp / predicted if predicted else float("nan"),
                                   tp / actual if actual else float("nan"), actual))
    accuracy = float((pair["truth"] == pair["decided"]).mean()) if len(pair) else float("nan")
    return Evaluation(dimension, accuracy, classes, confusion, len(pair))


def persons_of_customers(conn: Connection, truth_dir: Path) -> pd.Series:
    """customer_id -> person_id for customers whose every linked record is one person's."""
    try:
        identities = pd.read_csv(truth_dir / "identities.csv", dtype=str)
    except FileNotFoundError:
        raise ConfigError(f"no truth at {truth_dir}: expected the generator's truth/identities.csv") from None
    links = pd.DataFrame(conn.execute(select(SourceLink.source, SourceLink.source_key, SourceLink.customer_id)).all(),
                         columns=["source", "source_key", "customer_id"])
    joined = links.merge(identities[["source", "source_key", "person_id"]], on=["source", "source_key"])
    persons = joined.groupby("customer_id")["person_id"].agg(["nunique", "first"])
    return persons.loc[persons["nunique"] == 1, "first"]


def evaluate(conn: Connection, truth_dir: Path, as_of: date) -> list[Evaluation]:
    """Stage, value tier, credit-high and AML-high of ``as_of``'s decisions against the truth."""
    truth = pd.read_csv(truth_dir / "customers.csv", dtype=str).set_index("person_id")
    decided = pd.DataFrame(conn.execute(select(
        CustomerDecision.customer_id, CustomerDecision.lifecycle_stage, CustomerDecision.value_tier,
        CustomerDecision.credit_risk, CustomerDecision.aml_risk).where(CustomerDecision.as_of == as_of)).all(),
        columns=["customer_id", "lifecycle_stage", "value_tier", "credit_risk", "aml_risk"])
    if decided.empty:
        raise ConfigError(f"no decisions as of {as_of}: decide the date first")
    persons = persons_of_customers(conn, truth_dir)
    decided = decided.set_index("customer_id").join(persons.rename("person_id"), how="inner")
    facts = truth.reindex(decided["person_id"]).set_index(decided.index)
    out = [score(facts["persona_stage"], decided["lifecycle_stage"], "lifecycle_stage"),
           score(facts["value_tier"].replace(VALUE_TIER_NAMES), decided["value_tier"], "value_tier")]
    for kind in ("credit", "aml"):
        out.append(score(facts[f"{kind}_risk"].eq("high").map({True: "high", False: "not high"}),
                         decided[f"{kind}_risk"].eq("high").map({True: "high", False: "not high"}),
                         f"{kind}_risk_high"))
    return out


def render(evaluations: list[Evaluation]) -> str:
    """The evaluations as plain-text tables (for the command line)."""
    lines: list[str] = []
    for e in evaluations:
        lines += [f"{e.dimension}: accuracy {e.accuracy:.4f} over {e.customers:,} customers",
                  f"  {'class':<18}{'precision':>10}{'recall':>10}{'support':>10}"]
        lines += [f"  {c.label:<18}{c.precision:>10.4f}{c.recall:>10.4f}{c.support:>10,}" for c in e.classes]
        lines.append("  confusion (rows: truth, columns: decided)")
        lines += ["    " + line for line in e.confusion.to_string().splitlines()]
        lines.append("")
    return "\n".join(lines)
