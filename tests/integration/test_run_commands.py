"""``bank-lifecycle run …`` runs every job's flow locally, on Prefect's ephemeral API, as its deployment would."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from flows.cli import main
from lifecycle.store.models import Customer, CustomerDecision, Erasure

if TYPE_CHECKING:
    from tests.support.http_sink import HttpSink

AS_OF = "2026-06-30"
pytest_plugins = ["tests.support.http_sink"]
pytestmark = pytest.mark.slow


def _run(*argv: str) -> dict[str, object]:
    out = io.StringIO()
    assert main(["run", *argv], out) == 0, argv
    name, _, payload = out.getvalue().strip().partition(": ")
    assert name and payload.startswith("{"), out.getvalue()
    return json.loads(payload)


def test_every_job_runs_from_the_command_line(prefect_api: None, generated_bank: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, http_sink: HttpSink,
                                              use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> None:
    from tasks.context import flow_context, reset

    use_home(monkeypatch, tmp_path / "home", generated_bank / "landing")
    channels = tmp_path / "apprise.yml"
    gateway = http_sink.url("/gateway").replace("http://", "json://")
    channels.write_text(f'version: 1\nurls:\n  - "{gateway}":\n      tag: customer-gateway\n', encoding="utf-8")
    monkeypatch.setenv("LIFECYCLE_NOTIFY_CONFIG", str(channels))
    reset()  # the settings were read before the channels were configured
    try:
        daily = _run("daily", "--as-of", AS_OF)
        assert daily["status"] == "succeeded" and "decisions" in daily and "labels" in daily
        assert Path(str(daily["management_report"])).is_file()
        assert _run("decide", "--start", AS_OF)[AS_OF]
        assert "queued" in json.dumps(_run("campaigns", "--on", "2026-07-01", "--no-send"))
        _run("digests", "--as-of", AS_OF, "--any-day")
        _run("dispatch")
        assert _run("groups")["as_of"] == AS_OF
        assert _run("refit", "--as-of", AS_OF)["model_fit_id"]
        _run("rotate-keys", "--batch-size", "100")
        _run("erase", "--customer", "CUS0000000003", "--requested-by", "dpo", "--reason", "ticket 7")
        _run("purge", "--today", AS_OF)
        engine = flow_context().engine
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(CustomerDecision)).scalar_one() > 0
            assert conn.execute(select(Erasure.customer_id).join(Customer, Customer.customer_id == Erasure.customer_id)
                                .where(Customer.customer_ref == "CUS0000000003")).first() is not None
    finally:
        reset()


def test_an_id_number_given_as_the_customer_is_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "erase", "--customer", "11010119900307451X", "--requested-by", "x", "--reason", "y"],
                io.StringIO()) == 1
    err = capsys.readouterr().err
    assert "11010119900307451X" not in err and "customer reference" in err.lower()
