"""A source read from a database by a configured query, like any extract."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sqlalchemy import func, select

from lifecycle.errors import ConfigError
from lifecycle.store.models import Feedback, IngestedFile

AS_OF = date(2026, 6, 30)
ONLY = ["core_customers", "core_corporates", "feedback"]


def _crm_database(tmp_path: Path, generated_bank: Path) -> Path:
    rows = pd.read_csv(generated_bank / "landing" / str(AS_OF) / "feedback.csv", dtype=str)
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as db:
        rows.assign(extract_date=str(AS_OF)).to_sql("feedback_extract", db, index=False)
        rows.head(3).assign(extract_date="2026-06-29").to_sql("feedback_extract", db, index=False,
                                                               if_exists="append")
    return path


def _config(tmp_path: Path) -> Path:
    config = yaml.safe_load(Path("lifecycle/config/sources.yaml").read_text(encoding="utf-8"))
    feedback = config["sources"]["feedback"]
    del feedback["path"]
    feedback["encoding"] = "auto"
    feedback["sql"] = {"url_env": "CRM_DATABASE_URL",
                       "query": "select * from feedback_extract where extract_date = :as_of"}
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def test_query_result_is_validated_loaded_and_not_loaded_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None], run_day: Callable[..., object]) -> None:
    from tasks.context import flow_context, reset

    crm = _crm_database(tmp_path, generated_bank)
    monkeypatch.setenv("LIFECYCLE_SOURCES_FILE", str(_config(tmp_path)))
    landing = tmp_path / "landing"
    (landing / str(AS_OF)).mkdir(parents=True)
    for name in ("core_customers.csv", "core_corporates.csv"):
        (landing / str(AS_OF) / name).write_bytes((generated_bank / "landing" / str(AS_OF) / name).read_bytes())
    use_home(monkeypatch, tmp_path / "home", landing)

    with pytest.raises(ConfigError, match="CRM_DATABASE_URL"):
        run_day(AS_OF, ONLY)
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{crm}")
    reset()
    run_day(AS_OF, ONLY)
    engine = flow_context().engine
    expected = len(pd.read_csv(generated_bank / "landing" / str(AS_OF) / "feedback.csv"))
    with engine.connect() as conn:
        read, loaded, rejected = conn.execute(select(
            IngestedFile.rows_read, IngestedFile.rows_loaded, IngestedFile.rows_quarantined).where(
            IngestedFile.source == "feedback")).one()
        stored = conn.execute(select(func.count()).select_from(Feedback)).scalar_one()
    assert read == expected and loaded + rejected == read and stored == loaded
    again = run_day(AS_OF, ONLY)
    assert "feedback" in again.summary["unchanged_sources"]
