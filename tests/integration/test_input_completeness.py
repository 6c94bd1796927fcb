"""A day whose extract is cut, empty or far off its usual size is refused whole."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from lifecycle.errors import SourceError
from lifecycle.integration.service import run_day
from lifecycle.integration.sources import DEFAULT_SOURCES_FILE
from lifecycle.store.models import Account, Customer, IngestedFile, SourceLink
from tests.support.malformed import base, lines

D1 = date(2026, 6, 30)
D2 = D1 + timedelta(days=1)
pytestmark = [pytest.mark.slow, pytest.mark.reliability]  # make reliability (CI: .ci/run)


def _trailer(text: str) -> str:
    rows = len(text.splitlines()) - 1
    return text + f"TRAILER,{rows},{hashlib.sha256(text.encode()).hexdigest()}\n"


@pytest.fixture
def bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> Iterator[Callable[..., object]]:
    """Write a day's files and a sources config with per-source changes; returns a runner."""
    from tasks.context import flow_context, reset

    landing = tmp_path / "landing"
    use_home(monkeypatch, tmp_path / "home", landing)

    def day(as_of: date, files: dict[str, str], **changes: dict[str, object]) -> object:
        config = yaml.safe_load(DEFAULT_SOURCES_FILE.read_text(encoding="utf-8"))
        for source, change in changes.items():
            config["sources"][source].update(change)
        path = tmp_path / f"sources-{as_of}.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv("LIFECYCLE_SOURCES_FILE", str(path))
        reset()
        folder = landing / str(as_of)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return run_day(flow_context(), as_of, only=[n.removesuffix(".csv") for n in files])

    yield day
    reset()


def _count(model: type) -> int:
    from tasks.context import flow_context

    with flow_context().engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_an_extract_with_its_trailer_loads_every_row_and_not_the_trailer(bank: Callable[..., object]) -> None:
    result = bank(D1, {"core_customers.csv": _trailer(base("core_customers"))},
                  core_customers={"control": {"kind": "trailer"}})
    assert str(result.status) == "succeeded"  # type: ignore[attr-defined]
    assert _count(SourceLink) == 4 and _count(Customer) == 4


def test_a_cut_fact_extract_refuses_the_whole_day(bank: Callable[..., object]) -> None:
    cut = "".join(_trailer(base("accounts")).splitlines(keepends=True)[:3])  # a file still being copied
    with pytest.raises(SourceError) as err:
        bank(D1, {"core_customers.csv": base("core_customers"), "accounts.csv": cut},
             accounts={"control": {"kind": "trailer"}})
    assert err.value.rule == "control_missing" and "accounts.csv" in str(err.value)
    assert _count(Customer) == 0 and _count(Account) == 0  # the customers of the day wait with it


def test_a_day_far_below_the_previous_load_is_refused(bank: Callable[..., object]) -> None:
    tolerant = {"volume_tolerance": 0.5}
    bank(D1, {"core_customers.csv": base("core_customers")}, core_customers=tolerant)
    one_row = "".join(lines("core_customers")[:2])
    with pytest.raises(SourceError) as err:
        bank(D2, {"core_customers.csv": one_row}, core_customers=tolerant)
    assert err.value.rule == "volume" and "1 rows against 4 at the previous load (-75.0%)" in str(err.value)
    from tasks.context import flow_context

    with flow_context().engine.connect() as conn:
        loaded = conn.execute(select(IngestedFile.as_of).where(IngestedFile.status == "loaded")).scalars().all()
    assert loaded == [D1] and _count(SourceLink) == 4
    result = bank(D2, {"core_customers.csv": one_row}, core_customers={"volume_tolerance": 0.8})
    assert str(result.status) == "succeeded"  # type: ignore[attr-defined]  # a wider tolerance, for a real drop


def test_an_absent_optional_column_loads_and_the_report_says_so(bank: Callable[..., object]) -> None:
    without_email = "".join(",".join(c for i, c in enumerate(r.rstrip("\n").split(",")) if i != 7) + "\n"
                            for r in lines("core_customers"))
    result = bank(D1, {"core_customers.csv": without_email})
    assert str(result.status) == "succeeded" and _count(Customer) == 4  # type: ignore[attr-defined]
    assert result.summary["sources"]["core_customers"]["absent_columns"] == ["email"]  # type: ignore[attr-defined]
    report = result.report.markdown  # type: ignore[attr-defined]
    assert "Optional columns absent from their file (read as empty): core_customers: email" in report
