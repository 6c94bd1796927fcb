"""Deciding on a generated bank: reproducible for any past date, versioned by the rules, right against truth."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sqlalchemy import Engine, select

from lifecycle.bootstrap import Context, build_context, upgrade_stores
from lifecycle.decisioning.evaluation import evaluate
from lifecycle.decisioning.rules import DEFAULT_RULES_FILE, load_rules
from lifecycle.decisioning.service import decide_day
from lifecycle.integration.service import run_day
from lifecycle.privacy.keyring import generate_keyring
from lifecycle.settings import Settings
from lifecycle.store.models import CustomerDecision, CustomerFeatures, DecisionRun, StageTransition, TierEvent

D = date(2026, 6, 30)
pytestmark = pytest.mark.slow
DECISION_COLUMNS = [c.name for c in CustomerDecision.__table__.columns if c.name != "run_id"]
FEATURE_COLUMNS = [c.name for c in CustomerFeatures.__table__.columns if c.name != "run_id"]


@dataclass(frozen=True)
class Bank:
    ctx: Context
    truth: Path
    landing: Path


def _rows(engine: Engine, model: type, columns: list[str], day: date) -> pd.DataFrame:
    table = model.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(*[table.c[c] for c in columns]).where(table.c.as_of == day)).all()
    return pd.DataFrame(rows, columns=columns).sort_values(columns[:3]).reset_index(drop=True)


@pytest.fixture(scope="module")
def bank(generated_bank: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    """The generated bank's day D loaded, and three later delta days waiting in the landing zone."""
    from lifecycle.synth.cli import main as synth

    work = tmp_path_factory.mktemp("decisions")
    landing = work / "landing"
    shutil.copytree(generated_bank / "landing" / str(D), landing / str(D))
    for n in (1, 2, 3):
        day = D + timedelta(days=n)
        out = work / f"delta-{n}"
        assert synth(["--customers", "400", "--seed", "7", "--as-of", day.isoformat(), "--out", str(out),
                      "--txns-per-customer", "10", "--delta-fraction", "0.2"]) in (0, None)
        shutil.copytree(out / "landing" / str(day), landing / str(day))
    settings = Settings(home=work / "home", landing_dir=landing)
    upgrade_stores(settings)
    ctx = build_context(settings, keyring=generate_keyring(development_only=True))
    assert run_day(ctx, D).status == "succeeded"
    yield Bank(ctx, generated_bank / "truth", landing)
    ctx.dispose()


def test_deciding_a_date_twice_gives_identical_decisions_and_features(bank: Bank) -> None:
    first = decide_day(bank.ctx, D)
    decisions, features = (_rows(bank.ctx.engine, CustomerDecision, DECISION_COLUMNS, D),
                           _rows(bank.ctx.engine, CustomerFeatures, FEATURE_COLUMNS, D))
    second = decide_day(bank.ctx, D)
    assert first.model_fit_id == second.model_fit_id is not None  # the stored fit is reused
    assert len(decisions) > 300
    pd.testing.assert_frame_equal(_rows(bank.ctx.engine, CustomerDecision, DECISION_COLUMNS, D), decisions)
    pd.testing.assert_frame_equal(_rows(bank.ctx.engine, CustomerFeatures, FEATURE_COLUMNS, D), features)
    with bank.ctx.engine.connect() as conn:
        assert conn.execute(select(DecisionRun.status).order_by(DecisionRun.id)).scalars().all() == [
            "succeeded", "succeeded"]


def test_every_decision_explains_itself(bank: Bank) -> None:
    decide_day(bank.ctx, D)
    with bank.ctx.engine.connect() as conn:
        reasons = conn.execute(select(CustomerDecision.reasons).where(CustomerDecision.as_of == D)).scalars().all()
    for text in reasons:
        parsed = json.loads(text)
        assert set(parsed) == {"lifecycle_stage", "value_tier", "risk_tier", "need_tier", "composite_score",
                               "p_active"}
        assert all(r["rule"] for rs in parsed.values() for r in rs)


def test_a_changed_threshold_changes_the_decisions_and_the_recorded_version(bank: Bank, tmp_path: Path) -> None:
    base = decide_day(bank.ctx, D)
    config = yaml.safe_load(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))
    config["value_tier"]["affluent"] = 5_000  # far more customers reach affluent
    file = tmp_path / "rules.yaml"
    file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    stricter = build_context(bank.ctx.settings, engine=bank.ctx.engine, keystore=bank.ctx.keystore,
                             keyring=bank.ctx.keyring, rules=load_rules(file))
    changed = decide_day(stricter, D)
    assert changed.rules_version != base.rules_version
    tiers = changed.summary["value_tier"]
    assert isinstance(tiers, dict) and tiers.get("mass", 0) < base.summary["value_tier"]["mass"]  # type: ignore[index]
    with bank.ctx.engine.connect() as conn:
        versions = set(conn.execute(select(CustomerDecision.rules_version).where(CustomerDecision.as_of == D))
                       .scalars())
    assert versions == {changed.rules_version}
    decide_day(bank.ctx, D)  # back to the packaged rules for the other tests


def test_a_past_date_decides_the_same_after_later_days_are_loaded(bank: Bank) -> None:
    decide_day(bank.ctx, D)
    decisions, features = (_rows(bank.ctx.engine, CustomerDecision, DECISION_COLUMNS, D),
                           _rows(bank.ctx.engine, CustomerFeatures, FEATURE_COLUMNS, D))
    for n in (1, 2, 3):
        day = D + timedelta(days=n)
        assert run_day(bank.ctx, day).status == "succeeded"
        decide_day(bank.ctx, day)
    with bank.ctx.engine.connect() as conn:  # the later days did change the store
        later = conn.execute(select(CustomerFeatures.aum).where(CustomerFeatures.as_of == D + timedelta(days=3))
                             .order_by(CustomerFeatures.customer_id)).scalars().all()
        events = conn.execute(select(TierEvent.as_of)).scalars().all()
        moves = conn.execute(select(StageTransition.as_of).where(StageTransition.as_of > D)).scalars().all()
    assert later and (events or moves or later != features.sort_values("customer_id")["aum"].tolist())
    decide_day(bank.ctx, D)
    pd.testing.assert_frame_equal(_rows(bank.ctx.engine, CustomerFeatures, FEATURE_COLUMNS, D), features)
    pd.testing.assert_frame_equal(_rows(bank.ctx.engine, CustomerDecision, DECISION_COLUMNS, D), decisions)


def test_decisions_match_the_planted_truth(bank: Bank) -> None:
    decide_day(bank.ctx, D)
    with bank.ctx.engine.connect() as conn:
        scores = {e.dimension: e for e in evaluate(conn, bank.truth, D)}
    assert scores["lifecycle_stage"].customers > 300
    assert scores["lifecycle_stage"].accuracy >= 0.95
    assert all(c.recall >= 0.85 for c in scores["lifecycle_stage"].classes if c.support >= 10)
    assert scores["value_tier"].accuracy >= 0.99
    for kind in ("credit_risk_high", "aml_risk_high"):
        high = next(c for c in scores[kind].classes if c.label == "high")
        assert high.support > 0 and high.recall >= 0.95 and high.precision >= 0.8, (kind, high)


@pytest.mark.postgres
def test_postgres_decides_exactly_as_sqlite(bank: Bank, postgres_url: str, tmp_path: Path) -> None:
    """The same files loaded into PostgreSQL give the same features and decisions, row for row."""
    settings = Settings(home=tmp_path / "pg-home", landing_dir=bank.landing, database_url=postgres_url)
    upgrade_stores(settings)
    pg = build_context(settings, keyring=generate_keyring(development_only=True))
    try:
        assert run_day(pg, D).status == "succeeded"
        decide_day(pg, D)
        decide_day(bank.ctx, D)
        for model, columns in ((CustomerFeatures, FEATURE_COLUMNS), (CustomerDecision, DECISION_COLUMNS)):
            mine, theirs = _rows(pg.engine, model, columns, D), _rows(bank.ctx.engine, model, columns, D)
            ignore = ["model_fit_id"]  # each database numbers its own fits
            # PostgreSQL sums exact decimals, SQLite binary floats: equal to a millionth of a yuan
            pd.testing.assert_frame_equal(mine.drop(columns=ignore, errors="ignore"),
                                          theirs.drop(columns=ignore, errors="ignore"), check_dtype=False,
                                          rtol=1e-9, atol=1e-6)
    finally:
        pg.dispose()
