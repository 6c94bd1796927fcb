"""After a full night — daily flow through Prefect, then the RMs' digests sent — no place holds plaintext PII.

Needles are the generator's own plaintext values (tests/integration/test_protection_leaks.py
``pii_values``: ID numbers, mobiles in the sources' spellings, card numbers, emails,
three-character names). Each place is scanned as bytes, in UTF-8, JSON-escaped and
HTML-escaped spellings (lifecycle/integration/quality/leak_scan.py), and must hold
something (a scan of nothing proves nothing) and no needle. The per-place figures are
written to ``$LIFECYCLE_RELIABILITY_FIGURES/leaks.json`` when that is set (``make reliability``).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from test_protection_leaks import _dump_tables, pii_values
from test_protection_support import flow_run_artifacts, flow_run_logs

from lifecycle.integration.quality.leak_scan import scan_for_values
from lifecycle.store.models import Customer, IngestionRun, OutboxMessage
from tests.support.clocks import MovableClock, bank_time
from tests.support.http_sink import HttpSink

AS_OF = date(2026, 6, 30)
pytestmark = [pytest.mark.slow, pytest.mark.reliability]


@dataclass(frozen=True)
class Night:
    home: Path
    landing: Path
    prefect_db: Path
    prefect_home: Path
    results: Path
    flow_run_id: str
    payloads: list[str]  # what the digests' gateway received
    console: str  # what the flow and the CLI printed (stdout and stderr)


def _prefect_places() -> tuple[Path, Path, Path]:
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    url = make_url(settings.server.database.connection_url.get_secret_value())  # type: ignore[union-attr]
    return Path(str(url.database)), Path(settings.home), Path(settings.results.local_storage_path)


def _send_digests(sink: HttpSink) -> None:
    from lifecycle.bootstrap import build_context
    from lifecycle.care.digests import enqueue_digests
    from lifecycle.care.outbox import dispatch
    from notifications.apprise_notifier import AppriseNotifier
    from notifications.renderer import TemplateRenderer

    ctx = build_context(clock=MovableClock(bank_time(10)))  # outside quiet hours whatever the machine's hour
    try:
        assert enqueue_digests(ctx, AS_OF).enqueued > 0
        with ctx.engine.connect() as conn:
            tags = sorted({str(t) for route in conn.execute(select(OutboxMessage.route)).scalars() for t in route})
        config = ctx.settings.home / "apprise.yml"
        url = sink.url("/gateway").replace("http://", "json://")
        config.write_text(f'version: 1\nurls:\n  - "{url}":\n      tag: {", ".join(tags)}\n', encoding="utf-8")
        rules = ctx.care_rules.rules
        sent = dispatch(ctx.engine, ctx.clock, AppriseNotifier(config, timeout=30), TemplateRenderer(),
                        rules.dispatcher, rules.quiet_hours, kinds=["rm_digest"])
        assert sent.sent > 0 and sent.failed == 0
    finally:
        ctx.dispose()


def _cli(*argv: str) -> str:
    from lifecycle.cli import main

    out = io.StringIO()
    main(list(argv), out)
    return out.getvalue()


@pytest.fixture(scope="module")
def night(prefect_api: None, generated_bank: Path, tmp_path_factory: pytest.TempPathFactory,
          use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> Iterator[Night]:
    from flows.daily import daily_lifecycle
    from tasks.context import flow_context, reset

    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("census") / "home"
        use_home(mp, home, generated_bank / "landing")
        assert daily_lifecycle(AS_OF)["status"] == "succeeded"
        with flow_context().engine.connect() as conn:
            flow_run_id = str(conn.execute(select(IngestionRun.flow_run_id)).scalar_one())
            ref = str(conn.execute(select(Customer.customer_ref).where(Customer.name_enc.is_not(None))
                                   .order_by(Customer.customer_id).limit(1)).scalar_one())
        with HttpSink() as sink:
            _send_digests(sink)
            payloads = [json.dumps(r.json, ensure_ascii=False) for r in sink.requests]
        console = "\n".join([_cli("customer", "show", ref), _cli("quarantine", "list", "--all"),
                             _cli("keys", "status")])
        prefect_db, prefect_home, results = _prefect_places()
        yield Night(home, generated_bank / "landing" / AS_OF.isoformat(), prefect_db, prefect_home, results,
                    flow_run_id, payloads, console)
        reset()


def _places(night: Night, scratch: Path) -> dict[str, list[Path]]:
    from tasks.context import flow_context

    scratch.mkdir(parents=True, exist_ok=True)

    def text(name: str, content: str) -> list[Path]:
        path = scratch / name
        path.write_text(content, encoding="utf-8")
        return [path]

    def sqlite(path: Path) -> list[Path]:
        return [p for p in (Path(f"{path}{s}") for s in ("", "-wal", "-shm")) if p.exists()]

    reports = [p for p in (night.home / "reports").rglob("*") if p.is_file() and "data-docs" not in p.parts]
    return {
        "main database, every table dumped": _dump_tables(flow_context().engine, scratch / "tables"),
        "main database files (with WAL)": sqlite(night.home / "lifecycle.db"),
        "key store files (with WAL)": sqlite(night.home / "keystore.db"),
        "Prefect API database (with WAL)": sqlite(night.prefect_db),
        "Prefect home (results, logs, settings)": [p for p in night.prefect_home.rglob("*") if p.is_file()]
        + ([p for p in night.results.rglob("*") if p.is_file()] if night.results.exists() else []),
        "Prefect run logs, through the API": text("logs.txt", "\n".join(flow_run_logs(night.flow_run_id))),
        "Prefect artifacts, through the API": text("artifacts.txt", "\n".join(flow_run_artifacts(night.flow_run_id))),
        "run and management reports": reports,
        "GX project (results, suites)": [p for p in (night.home / "gx").rglob("*") if p.is_file()],
        "Data Docs (HTML)": [p for p in (night.home / "reports" / "data-docs").rglob("*") if p.is_file()],
        "notification payloads received": text("payloads.txt", "\n".join(night.payloads)),
        "command-line output": text("cli.txt", night.console),
    }


def test_no_place_of_a_full_night_holds_a_plaintext_pii_value(night: Night, tmp_path: Path) -> None:
    needles = pii_values(night.landing)
    assert len(needles) > 1000
    assert scan_for_values([night.landing / "core_customers.csv"], needles)  # the scanner finds what is there
    figures = []
    for place, files in _places(night, tmp_path / "scan").items():
        size = sum(f.stat().st_size for f in files)
        hits = scan_for_values(files, needles)
        figures.append({"place": place, "files": len(files), "bytes": size, "hits": len(hits)})
    out = os.environ.get("LIFECYCLE_RELIABILITY_FIGURES")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "leaks.json").write_text(json.dumps({"needles": len(needles), "places": figures}, indent=1),
                                              encoding="utf-8")
    empty = [f["place"] for f in figures if not f["files"] or not f["bytes"]]
    assert empty == []  # every place was there to scan
    assert [(f["place"], f["hits"]) for f in figures if f["hits"]] == []
