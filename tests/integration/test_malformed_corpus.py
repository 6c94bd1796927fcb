"""Every file of the malformed corpus gets a clear answer from a whole day's run.

For each case of :mod:`tests.support.malformed`: one message naming the file and
the rule (row and column where the case knows them) or quarantine entries naming
file, row, column and rule; refused or quarantined as configured; no traceback
logged; none of the file's values in a message or a log; and nothing of a refused
day loaded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from lifecycle.errors import SourceError
from lifecycle.integration.quality.rules import FILE_RULES, RULES, STAGER_RULES
from lifecycle.integration.service import QualityGateError, run_day
from lifecycle.integration.sources import DEFAULT_SOURCES_FILE
from lifecycle.store.models import Base, IngestionRun, QuarantinedRow
from tests.support.malformed import ANY, CASES, CORPUS, Case, materialise, write_text_cases

AS_OF = date(2026, 6, 30)
BOOKKEEPING = {"ingestion_runs", "ingested_files", "quarantine", "alembic_version"}
pytestmark = [pytest.mark.slow, pytest.mark.reliability]  # make reliability (CI: .ci/run)


def _values(day: Path) -> set[str]:
    """The data values of the case's files (what no message may quote): fields of four
    characters or more after the header, decoded as either encoding."""
    found: set[str] = set()
    for path in day.iterdir():
        if not path.is_file() or path.suffix == ".parquet":
            continue
        data = path.read_bytes()
        for codec in ("utf-8", "gb18030"):
            text = data.decode(codec, errors="ignore").replace("\x00", "")
            for line in re.split(r"[\r\n]+", text)[1:]:
                found |= {f.strip('"') for f in re.split(r"[,;\t]", line) if len(f.strip('"')) >= 4}
    return found


def _sources_file(case: Case, tmp_path: Path) -> Path:
    config = yaml.safe_load(DEFAULT_SOURCES_FILE.read_text(encoding="utf-8"))
    for source, changes in case.overrides.items():
        config["sources"][source].update(changes)
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _loaded_rows(engine: object) -> dict[str, int]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables if t.name not in BOOKKEEPING}


def _quarantined(engine: object) -> list[tuple[str, str, int, list[dict[str, str]]]]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return [(r.source, r.file, r.row_number, r.failures) for r in conn.execute(
            select(QuarantinedRow.source, QuarantinedRow.file, QuarantinedRow.row_number, QuarantinedRow.failures))]


def test_the_corpus_covers_every_category_with_at_least_forty_files() -> None:
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)
    assert {c.category for c in CASES} == {"encodings", "headers", "structure", "values", "keys", "files"}
    known = set(RULES) | set(STAGER_RULES) | set(FILE_RULES)
    assert all(c.rule in known for c in CASES if c.rule), [c.rule for c in CASES if c.rule not in known]
    assert {c.outcome for c in CASES} == {"refused", "gate_refused", "quarantined", "loaded"}


def test_the_committed_text_cases_are_what_the_corpus_module_writes(tmp_path: Path) -> None:
    written = {p.relative_to(tmp_path) for p in write_text_cases(tmp_path)}
    committed = {p.relative_to(CORPUS) for p in CORPUS.glob("*/*") if p.parent.name != "_base"}
    assert written == committed
    assert all((tmp_path / p).read_bytes() == (CORPUS / p).read_bytes() for p in written)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_malformed_file_gets_a_clear_answer(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              use_home: Callable[[pytest.MonkeyPatch, Path, Path], None],
                                              caplog: pytest.LogCaptureFixture) -> None:
    from tasks.context import flow_context, reset

    landing = tmp_path / "landing"
    materialise(case, landing / str(AS_OF))
    secrets = _values(landing / str(AS_OF))
    use_home(monkeypatch, tmp_path / "home", landing)
    monkeypatch.setenv("LIFECYCLE_SOURCES_FILE", str(_sources_file(case, tmp_path)))
    if case.chunk_rows:
        monkeypatch.setenv("LIFECYCLE_CHUNK_ROWS", str(case.chunk_rows))
    reset()
    caplog.set_level(logging.INFO)
    try:
        ctx = flow_context()
        if case.outcome in ("refused", "gate_refused"):
            expected = SourceError if case.outcome == "refused" else QualityGateError
            with pytest.raises(expected) as err:
                run_day(ctx, AS_OF, only=list(case.sources))
            message = str(err.value)
            assert case.file is not None and case.file in message, message
            if isinstance(err.value, SourceError):
                assert err.value.rule == case.rule, message
                assert err.value.file is not None and Path(err.value.file).name == case.file
                if case.row is not ANY:
                    assert err.value.row == case.row, message
                if case.column is not ANY:
                    assert err.value.column == case.column, message
            else:
                assert "nothing was loaded" in message
            leaked = [s for s in secrets if s in message]
            assert not leaked, f"values in the message: {leaked}"
            assert all(n == 0 for n in _loaded_rows(ctx.engine).values()), _loaded_rows(ctx.engine)
            with ctx.engine.connect() as conn:
                runs = list(conn.execute(select(IngestionRun.status, IngestionRun.error)))
            assert all(status in ("failed", "running") for status, _ in runs)  # a plan refusal starts no run
            assert all(error is None or not [s for s in secrets if s in error] for _, error in runs)
        else:
            result = run_day(ctx, AS_OF, only=list(case.sources))
            assert str(result.status) == "succeeded"
            assert result.load is not None
            for source in case.sources:
                counts = result.load.files[source]
                assert counts.rows_read > 0 and counts.rows_loaded + counts.rows_quarantined == counts.rows_read
                if case.outcome == "loaded":
                    assert counts.rows_quarantined == 0 and counts.rows_loaded == counts.rows_read, counts
        if case.quarantined:
            entries = [q for q in _quarantined(ctx.engine) if any(f["rule"] == case.rule for f in q[3])]
            assert sorted(q[2] for q in entries) == sorted(case.quarantined), _quarantined(ctx.engine)
            for _source, file, _row, failures in entries:
                assert Path(file).parent.name == str(AS_OF)
                assert all(f["column"] for f in failures if f["rule"] == case.rule)
        assert "Traceback" not in caplog.text
        leaked = [s for s in secrets if s in caplog.text]
        assert not leaked, f"values in the logs: {leaked}"
    finally:
        reset()
