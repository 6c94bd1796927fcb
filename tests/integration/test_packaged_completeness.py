"""With the packaged sources config, a cut or altered fact extract is refused, not loaded as a smaller day.

The generator writes each fact extract's control file (``<rows>,<sha256>``) as
the packaged ``lifecycle/config/sources.yaml`` requires; these tests cut, alter
or strip the generated day and run it with that config, unchanged.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lifecycle.errors import SourceError
from lifecycle.integration.service import run_day
from lifecycle.integration.sources import DEFAULT_SOURCES_FILE, load_sources
from lifecycle.store.models import Customer, IngestedFile, Transaction

AS_OF = date(2026, 6, 30)
FACTS = ("balances", "transactions", "card_transactions", "loans", "digital_activity")
pytestmark = [pytest.mark.slow, pytest.mark.reliability]


@pytest.fixture
def day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> Iterator[Path]:
    """A copy of the generated day's landing folder, under the packaged config."""
    from tasks.context import reset

    monkeypatch.delenv("LIFECYCLE_SOURCES_FILE", raising=False)
    landing = tmp_path / "landing"
    shutil.copytree(generated_bank / "landing" / str(AS_OF), landing / str(AS_OF))
    use_home(monkeypatch, tmp_path / "home", landing)
    yield landing / str(AS_OF)
    reset()


def _run() -> object:
    from tasks.context import flow_context

    return run_day(flow_context(), AS_OF)


def _count(model: type) -> int:
    from tasks.context import flow_context

    with flow_context().engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _nothing_loaded() -> None:
    from tasks.context import flow_context

    assert _count(Customer) == 0 and _count(Transaction) == 0
    with flow_context().engine.connect() as conn:
        assert set(conn.execute(select(IngestedFile.status)).scalars()) <= {"refused", "failed", "pending"}


def test_the_packaged_config_requires_control_totals_of_every_large_fact_extract() -> None:
    sources = load_sources(DEFAULT_SOURCES_FILE).sources
    for name in FACTS:
        control = sources[name].control
        assert control is not None and control.kind == "file" and control.checksum == "sha256", name


def test_the_generated_day_carries_control_files_that_match_its_extracts(day: Path) -> None:
    for name in FACTS:
        rows, checksum = (day / f"{name}.ctl").read_text(encoding="ascii").strip().split(",")
        data = (day / f"{name}.csv").read_bytes()
        assert int(rows) == data.count(b"\n") - 1 and checksum == hashlib.sha256(data).hexdigest(), name


def test_a_transactions_file_cut_at_a_line_boundary_is_refused_with_the_default_config(day: Path) -> None:
    path = day / "transactions.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) // 2]))  # a file still being written: half its rows
    with pytest.raises(SourceError) as err:
        _run()
    assert err.value.rule in {"control_checksum", "control_row_count"} and "transactions.csv" in str(err.value)
    _nothing_loaded()


def test_a_transactions_file_with_one_amount_altered_is_refused(day: Path) -> None:
    path = day / "transactions.csv"
    text = path.read_text(encoding="utf-8")
    head, first, rest = text.split("\n", 2)
    cells = first.split(",")
    cells[3] = "9" + cells[3]  # the amount, ten times larger or more; same row count
    path.write_text("\n".join([head, ",".join(cells), rest]), encoding="utf-8")
    with pytest.raises(SourceError) as err:
        _run()
    assert err.value.rule == "control_checksum" and "transactions.csv" in str(err.value)
    _nothing_loaded()


def test_a_fact_extract_without_its_control_file_is_refused(day: Path) -> None:
    (day / "card_transactions.ctl").unlink()
    with pytest.raises(SourceError) as err:
        _run()
    assert err.value.rule == "control_missing" and "card_transactions.ctl" in str(err.value)
    _nothing_loaded()
