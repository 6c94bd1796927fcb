"""The README's ``bank-lifecycle`` commands, copied in its order after a day like the demo's, each succeed.

A generated bank's day is integrated, decided and its retention tasks planned;
then every command the README shows runs as written from another folder, with
only what depends on one installation replaced: the home (``var/``), the
generated bank's folder, and ids that are the demo's (a retention task, the
RM's reply file, an opt-out extract, enough points for the redemption shown). Each must exit 0 and print something.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
import shutil
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from lifecycle.cli import main
from lifecycle.integration.service import DayResult

AS_OF = date(2026, 6, 30)
README = Path(__file__).resolve().parents[2] / "README.md"
PROGRAM = ".venv/bin/bank-lifecycle "
pytestmark = pytest.mark.slow


def _commands() -> list[str]:
    return [line.removeprefix(PROGRAM).split("  #", 1)[0].strip()
            for line in README.read_text(encoding="utf-8").splitlines() if line.startswith(PROGRAM)]


def test_every_readme_command_succeeds_after_a_day_like_the_demos(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None], run_day: Callable[..., DayResult]) -> None:
    import pandas as pd

    from lifecycle.care.loyalty import _insert_entries, post_day
    from lifecycle.care.service import plan_retention
    from lifecycle.decisioning.service import decide_day
    from lifecycle.protection.customers import customer_row
    from lifecycle.segments.service import label_day
    from lifecycle.store.models import RetentionTask
    from tasks.context import flow_context, reset

    home = tmp_path / "home"
    use_home(monkeypatch, home, generated_bank / "landing")
    try:
        assert run_day(AS_OF).status == "succeeded"
        ctx = flow_context()
        decide_day(ctx, AS_OF)
        label_day(ctx, AS_OF)
        plan_retention(ctx, AS_OF)
        post_day(ctx, AS_OF)
        with ctx.engine.connect() as conn:
            tasks = conn.execute(select(RetentionTask.id).order_by(RetentionTask.id).limit(2)).scalars().all()
        assert len(tasks) == 2, "the day planned too few retention tasks to update one and import another"
        task, replied = tasks
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        with ctx.engine.begin() as conn:  # the README redeems 5,000 points of CUS0000000042
            rich = int(customer_row(conn, "CUS0000000042").customer_id)
            _insert_entries(conn, pd.DataFrame([{"entry_key": "adjust:readme", "customer_id": rich, "kind": "adjust",
                                                 "points": 5000, "as_of": AS_OF, "source": "test",
                                                 "reason": "README walk"}]), ctx.clock.now())
        optouts = "customer_ref,channel,opted_out_at\nCUS0000000007,sms,2026-06-30 10:00\n"
        (elsewhere / "optouts.csv").write_text(optouts, encoding="utf-8")
        (elsewhere / "rm_reply.csv").write_text(f"task_id,status,note\n{replied},contacted,called\n", encoding="utf-8")
        shutil.copy(home / "keyring.json", home / "dev-keyring.json")  # the demo's keyring file name
        with (generated_bank / "landing" / str(AS_OF) / "core_customers.csv").open(encoding="utf-8") as fh:
            mobile = next(r["mobile"] for r in csv.DictReader(fh) if r["mobile"])
        failed = []
        for command in _commands():
            local = command.replace("var/generated/n2000-s42-2026-06-30", str(generated_bank)).replace(
                "var/", f"{home}/")
            local = re.sub(r"^retention update 42 ", f"retention update {task} ", local)
            monkeypatch.setattr(sys, "stdin", io.StringIO(mobile + "\n"))  # `customer find --mobile` reads it
            out = io.StringIO()
            code = main(shlex.split(local), out)
            if code != 0 or not out.getvalue().strip():
                failed.append(f"{command} -> exit {code}")
        assert failed == []
        assert not (elsewhere / "var").exists()
    finally:
        reset()
