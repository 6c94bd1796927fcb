"""Retention tasks on a generated bank decided over four days: who gets one, to whom, and what happens next."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from lifecycle.bootstrap import Context, build_context, upgrade_stores
from lifecycle.care.digests import enqueue_digests
from lifecycle.care.service import plan_retention, retention_report
from lifecycle.care.task_import import TaskImportError, apply_updates, parse
from lifecycle.decisioning.service import decide_day
from lifecycle.integration.service import run_day
from lifecycle.privacy.keyring import generate_keyring
from lifecycle.settings import Settings
from lifecycle.store.models import (
    CustomerDecision,
    CustomerFeatures,
    EntitlementChange,
    Interaction,
    OutboxMessage,
    RelationshipManager,
    RetentionTask,
    RetentionTaskEvent,
    StageTransition,
    TierEvent,
)

D = date(2026, 6, 30)
DAYS = [D + timedelta(days=n) for n in range(4)]
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Bank:
    ctx: Context
    home: Path


@pytest.fixture(scope="module")
def bank(generated_bank: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    from lifecycle.synth.cli import main as synth

    work = tmp_path_factory.mktemp("retention")
    landing = work / "landing"
    shutil.copytree(generated_bank / "landing" / str(D), landing / str(D))
    for day in DAYS[1:]:
        out = work / f"delta-{day}"
        assert synth(["--customers", "400", "--seed", "7", "--as-of", day.isoformat(), "--out", str(out),
                      "--txns-per-customer", "10", "--delta-fraction", "0.3"]) in (0, None)
        shutil.copytree(out / "landing" / str(day), landing / str(day))
    settings = Settings(home=work / "home", landing_dir=landing)
    upgrade_stores(settings)
    ctx = build_context(settings, keyring=generate_keyring(development_only=True))
    for day in DAYS:
        assert run_day(ctx, day).status == "succeeded"
        decide_day(ctx, day)
        plan_retention(ctx, day)
    yield Bank(ctx, work / "home")
    ctx.dispose()


def _frame(bank: Bank, stmt: object) -> pd.DataFrame:
    with bank.ctx.engine.connect() as conn:
        result = conn.execute(stmt)  # type: ignore[call-overload]
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def _expected_triggers(bank: Bank, day: date) -> set[int]:
    """Customers who should get a task on ``day``, recomputed from the store without the service."""
    rules = bank.ctx.care_rules.rules.retention
    decided = _frame(bank, select(CustomerDecision.customer_id, CustomerDecision.value_tier,
                                  CustomerDecision.p_active).where(CustomerDecision.as_of == day))
    moved = set(_frame(bank, select(StageTransition.customer_id).where(
        StageTransition.as_of == day, StageTransition.from_stage.is_not(None),
        StageTransition.to_stage.in_(rules.triggers.stages_entered)))["customer_id"])
    down = set(_frame(bank, select(TierEvent.customer_id).where(
        TierEvent.as_of == day, TierEvent.dimension == "value_tier",
        TierEvent.direction == "downgrade"))["customer_id"])
    low = set(decided.loc[decided["value_tier"].isin(rules.triggers.low_p_active_tiers)
                          & (decided["p_active"] < rules.triggers.low_p_active_below), "customer_id"])
    feats = _frame(bank, select(CustomerFeatures.customer_id, CustomerFeatures.rm_id,
                                CustomerFeatures.serious_open_complaints).where(CustomerFeatures.as_of == day))
    rms = set(_frame(bank, select(RelationshipManager.rm_id))["rm_id"])
    no_rm = set(feats.loc[~feats["rm_id"].isin(rms), "customer_id"]) & set(
        decided.loc[decided["value_tier"].isin(rules.triggers.rm_assignment_tiers), "customer_id"])
    serious = set(feats.loc[feats["serious_open_complaints"] > 0, "customer_id"])
    end = pd.Timestamp(day) + pd.Timedelta(days=1)
    rows = _frame(bank, select(Interaction.case_ref, Interaction.customer_id, Interaction.interaction_time,
                               Interaction.interaction_id, Interaction.complaint_status)
                  .where(Interaction.complaint_status.is_not(None)))
    rows = rows[pd.to_datetime(rows["interaction_time"]) < end].sort_values(["interaction_time", "interaction_id"])
    last = rows.groupby("case_ref").last()
    opened = pd.to_datetime(rows[rows["complaint_status"] == "open"].groupby("case_ref")["interaction_time"].min())
    due = opened.dt.normalize() + pd.Timedelta(days=rules.triggers.complaint_overdue_days)
    late = last[(last["complaint_status"] != "resolved") & (due.reindex(last.index) < pd.Timestamp(day))]
    overdue = set(late["customer_id"])
    return moved | down | low | no_rm | serious | overdue


def test_tasks_go_to_exactly_the_customers_whose_triggers_fired(bank: Bank) -> None:
    tasks = _frame(bank, select(RetentionTask.customer_id, RetentionTask.as_of, RetentionTask.trigger))
    assert len(tasks) > 0 and tasks["trigger"].nunique() >= 2
    for day in DAYS:  # no task of the fixture's days is closed yet: earlier ones are all still open
        created = set(tasks.loc[tasks["as_of"] == day, "customer_id"])
        earlier_open = set(tasks.loc[tasks["as_of"] < day, "customer_id"])
        assert created == _expected_triggers(bank, day) - earlier_open, day


def test_at_most_one_open_task_per_customer_and_a_rerun_creates_nothing(bank: Bank) -> None:
    open_per_customer = _frame(bank, select(RetentionTask.customer_id, func.count()).where(
        RetentionTask.status.in_(["open", "contacted"])).group_by(RetentionTask.customer_id))
    assert (open_per_customer.iloc[:, 1] == 1).all()
    before = _frame(bank, select(func.count()).select_from(RetentionTask)).iloc[0, 0]
    again = plan_retention(bank.ctx, DAYS[-1])
    assert again.created == 0 and _frame(bank, select(func.count()).select_from(RetentionTask)).iloc[0, 0] == before


def test_tasks_are_assigned_to_a_known_rm_or_else_the_branch_queue(bank: Bank) -> None:
    tasks = _frame(bank, select(RetentionTask.assignee, RetentionTask.rm_id, RetentionTask.branch_code))
    rms = set(_frame(bank, select(RelationshipManager.rm_id))["rm_id"])
    by_rm = tasks["rm_id"].notna()
    assert (tasks.loc[by_rm, "assignee"] == "rm-" + tasks.loc[by_rm, "rm_id"]).all()
    assert tasks.loc[by_rm, "rm_id"].isin(rms).all()
    assert (tasks.loc[~by_rm, "assignee"].str.startswith("branch-")).all()


def test_value_tier_changes_record_entitlement_changes(bank: Bank) -> None:
    changes = _frame(bank, select(EntitlementChange))
    moves = _frame(bank, select(TierEvent).where(TierEvent.dimension == "value_tier"))
    table = bank.ctx.care_rules.rules.entitlements
    expected = sum(len(set(table[m.from_tier]) ^ set(table[m.to_tier])) for m in moves.itertuples())
    assert len(changes) == expected
    assert set(changes["change"]) <= {"granted", "withdrawn"}


def test_rms_send_back_a_task_list_all_or_nothing_and_the_report_counts_outcomes(bank: Bank, tmp_path: Path) -> None:
    ids = _frame(bank, select(RetentionTask.id).where(RetentionTask.status == "open")
                 .order_by(RetentionTask.id))["id"].tolist()
    assert len(ids) >= 3
    bad = tmp_path / "bad.csv"
    bad.write_text(f"task_id,status,note\n{ids[0]},retained,kept her\nx,retained,\n{ids[1]},won,\n"
                   f"99999999,lost,\n", encoding="utf-8")
    with pytest.raises(TaskImportError) as err, bank.ctx.engine.begin() as conn:
        apply_updates(conn, bad, parse(bad), actor="rm", day=DAYS[-1], now=bank.ctx.clock.now())
    problems = [(p.row, p.column, p.rule) for p in err.value.problems]
    assert problems == [(2, "task_id", "integer"), (3, "status", "code_in_set")]
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(f"task_id,status\n{ids[0]},retained\n99999999,lost\n", encoding="utf-8")
    with pytest.raises(TaskImportError, match="row 2, column task_id, rule known_task"), \
            bank.ctx.engine.begin() as conn:
        apply_updates(conn, unknown, parse(unknown), actor="rm", day=DAYS[-1], now=bank.ctx.clock.now())
    assert set(_frame(bank, select(RetentionTask.status).where(RetentionTask.id == ids[0]))["status"]) == {"open"}

    good = tmp_path / "good.csv"
    good.write_text(f"task_id,status,note\n{ids[0]},retained,called 13812345678\n{ids[1]},contacted,\n"
                    f"{ids[2]},lost,moved abroad\n", encoding="utf-8")
    with bank.ctx.engine.begin() as conn:
        assert apply_updates(conn, good, parse(good), actor="rm", day=DAYS[-1], now=bank.ctx.clock.now()) == 3
    notes = _frame(bank, select(RetentionTaskEvent.note).where(RetentionTaskEvent.task_id == ids[0],
                                                               RetentionTaskEvent.via == "csv"))["note"]
    assert "13812345678" not in notes.iloc[0]  # a mobile in a note is redacted before it is stored
    with bank.ctx.engine.connect() as conn:
        report = retention_report(conn)
    by_action = {r["suggested_action"]: r for r in report["suggested_action"]}
    assert sum(r["retained"] for r in by_action.values()) >= 1 and sum(r["lost"] for r in by_action.values()) >= 1


def test_the_command_line_lists_and_updates_tasks(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle import cli

    monkeypatch.setenv("LIFECYCLE_HOME", str(bank.home))
    monkeypatch.setenv("LIFECYCLE_LANDING_DIR", str(bank.ctx.settings.resolved_landing_dir))
    from lifecycle.settings import get_settings

    get_settings.cache_clear()
    try:
        out = io.StringIO()
        assert cli.main(["retention", "list", "--status", "all", "--json", "--limit", "5"], out) == 0
        first = json.loads(out.getvalue().splitlines()[0])
        assert set(first) >= {"task_id", "customer_ref", "name", "priority", "reasons", "action", "due_date"}
        out = io.StringIO()
        assert cli.main(["retention", "report"], out) == 0 and "value_tier" in out.getvalue()
        assert cli.main(["retention", "update", "99999999", "--status", "lost"], io.StringIO()) != 0
    finally:
        get_settings.cache_clear()


def test_digests_are_one_per_assignee_and_day_and_never_twice(bank: Bank) -> None:
    first = enqueue_digests(bank.ctx, DAYS[-1])
    again = enqueue_digests(bank.ctx, DAYS[-1])
    assert first.enqueued > 0 and first.tasks_listed > 0 and again.enqueued == 0
    rows = _frame(bank, select(OutboxMessage.message_key, OutboxMessage.recipient, OutboxMessage.context)
                  .where(OutboxMessage.kind == "rm_digest", OutboxMessage.as_of == DAYS[-1]))
    assert len(rows) == first.enqueued == len(set(rows["recipient"]))
    for text in rows["context"]:
        context = json.loads(text)
        assert {"new", "due_soon", "overdue"} <= set(context)


def test_digests_received_by_email_carry_no_plaintext_name_id_number_or_mobile(
        bank: Bank, generated_bank: Path, tmp_path: Path) -> None:
    from lifecycle.care.outbox import dispatch
    from lifecycle.synth.reading import read_extract
    from notifications.apprise_notifier import AppriseNotifier
    from notifications.renderer import TemplateRenderer
    from tests.support.clocks import MovableClock, bank_time
    from tests.support.smtp_sink import SmtpSink

    enqueue_digests(bank.ctx, DAYS[-1])  # queued by the test above, or here
    routes = _frame(bank, select(OutboxMessage.route).where(OutboxMessage.kind == "rm_digest"))["route"]
    tags = sorted({tag for route in routes for entry in route for tag in entry.split(",")})
    core, cards = read_extract(generated_bank, "core_customers"), read_extract(generated_bank, "card_customers")
    secrets = {v for v in [*core["cust_name"], *core["id_no"], *core["mobile"], *cards["CUST_NM"],
                           *cards["CERT_NO"], *cards["MOBILE_NO"]] if len(v) >= 2}
    with SmtpSink() as smtp:
        config = tmp_path / "apprise.yml"
        config.write_text(f'version: 1\nurls:\n  - "{smtp.url("rms@bank.example")}":\n      tag: {", ".join(tags)}\n',
                          encoding="utf-8")
        rules = bank.ctx.care_rules.rules
        due = _frame(bank, select(func.max(OutboxMessage.not_before).label("due")).where(
            OutboxMessage.kind == "rm_digest", OutboxMessage.status == "pending"))["due"].iloc[0]
        moment = max(pd.Timestamp(due).to_pydatetime(), bank_time(10)) + timedelta(minutes=1)  # enqueued at real time
        summary = dispatch(bank.ctx.engine, MovableClock(moment), AppriseNotifier(config, timeout=5),
                           TemplateRenderer(), rules.dispatcher, rules.quiet_hours, kinds=["rm_digest"])
        assert summary.sent > 0 and summary.failed == 0
        mails = smtp.wait_for(summary.sent)
    bodies = [" ".join([m.subject or "", m.text or "", m.html or ""]) for m in mails]
    assert any("CUS" in b for b in bodies)  # the digests did list customers
    leaked = sorted({s for s in secrets for b in bodies if s in b})
    assert leaked == []


def test_tasks_past_due_and_grace_expire(bank: Bank) -> None:  # last: it closes the module's tasks
    later = DAYS[-1] + timedelta(days=60)
    result = plan_retention(bank.ctx, later)  # no decisions that day: only the expiry runs
    assert result.created == 0 and result.expired > 0
    still_open = _frame(bank, select(RetentionTask.due_date).where(RetentionTask.status.in_(["open", "contacted"])))
    grace = bank.ctx.care_rules.rules.retention.grace_days
    assert (pd.to_datetime(still_open["due_date"]).dt.date >= later - timedelta(days=grace)).all()
