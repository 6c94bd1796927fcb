"""A wrongly encoded file or a missing column stops the run with a clear message."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from lifecycle.errors import SourceError
from lifecycle.integration.planning import RunPlan, plan_day
from lifecycle.store.models import Customer

AS_OF = date(2026, 6, 30)


def _bank(tmp_path: Path, *flags: str) -> Path:
    from lifecycle.synth.cli import main as synth

    out = tmp_path / "bank"
    synth(["--customers", "150", "--seed", "3", "--as-of", AS_OF.isoformat(), "--out", str(out), *flags])
    return out


def _plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, landing: Path,
          use_home: object) -> RunPlan:
    from tasks.context import flow_context

    use_home(monkeypatch, tmp_path / "home", landing)  # type: ignore[operator]
    return plan_day(flow_context(), AS_OF)


def _nothing_loaded() -> None:
    from tasks.context import flow_context

    engine = flow_context().engine
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Customer)).scalar_one() == 0
    assert "customers" in inspect(engine).get_table_names()


def test_gbk_file_declared_utf8_names_file_row_column_and_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               use_home: object) -> None:
    bank = _bank(tmp_path, "--encoding-flaw", "core_customers")
    with pytest.raises(SourceError) as err:
        _plan(tmp_path, monkeypatch, bank / "landing", use_home)
    e = err.value
    assert e.file is not None and e.file.endswith("core_customers.csv")
    assert e.rule == "encoding" and e.row is not None and e.row >= 1 and e.column is not None
    assert "GBK" in str(e) and "Traceback" not in str(e)
    _nothing_loaded()


def test_missing_required_column_names_the_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  use_home: object) -> None:
    bank = _bank(tmp_path, "--drop-column", "core_customers:open_date")
    with pytest.raises(SourceError) as err:
        _plan(tmp_path, monkeypatch, bank / "landing", use_home)
    assert (err.value.column, err.value.rule) == ("open_date", "required_column")
    assert "core_customers.csv" in str(err.value)
    _nothing_loaded()


def test_missing_optional_column_is_planned_as_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      use_home: object) -> None:
    bank = _bank(tmp_path, "--drop-column", "core_customers:mobile")
    plan = _plan(tmp_path, monkeypatch, bank / "landing", use_home)
    assert plan.files["core_customers"].absent == ("mobile",)


def test_a_utf8_file_in_a_gbk_source_is_refused_without_its_content_in_any_message_or_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_home: object, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    import pandas as pd

    bank = _bank(tmp_path)
    cards = bank / "landing" / str(AS_OF) / "card_customers.csv"  # a GBK source (see sources.yaml)
    text = cards.read_bytes().decode("gb18030")
    cards.write_bytes(text.encode("utf-8"))  # re-exported as UTF-8 by mistake
    names = pd.read_csv(cards, dtype=str, encoding="utf-8")["CUST_NM"].dropna().tolist()
    assert names and any(ord(c) > 127 for c in names[0])
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SourceError) as err:
        _plan(tmp_path, monkeypatch, bank / "landing", use_home)
    e = err.value
    assert e.file is not None and e.file.endswith("card_customers.csv") and e.rule == "encoding"
    assert e.row == 1 and e.column is not None and "UTF-8" in str(e)
    shown = f"{e} {e.args!r} {caplog.text}"
    assert [n for n in names if n in shown] == [] and len(str(e)) < 400
    _nothing_loaded()
