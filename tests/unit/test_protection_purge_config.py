"""Retention configuration and the landing purge (files only, no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lifecycle.errors import ConfigError
from lifecycle.protection.purge import PurgePolicy, load_purge_policy, purge_landing

TODAY = date(2026, 6, 30)


def test_the_packaged_purge_periods_load() -> None:
    assert load_purge_policy() == PurgePolicy(landing_files_days=30, quarantine_days=90,
                                               delivered_message_body_days=30, fact_retention_days=1830)


FACTS = "fact_retention_days: 1830\n"


@pytest.mark.parametrize(("text", "field"), [
    ("landing_files_days: 0\nquarantine_days: 90\ndelivered_message_body_days: 30\n" + FACTS, "landing_files_days"),
    ("landing_files_days: 30\nquarantine_days: ninety\ndelivered_message_body_days: 30\n" + FACTS,
     "quarantine_days"),
    ("landing_files_days: 30\nquarantine_days: 90\n" + FACTS, "delivered_message_body_days"),
    ("landing_files_days: 30\nquarantine_days: 90\ndelivered_message_body_days: 30\n" + FACTS + "logs_days: 7\n",
     "logs_days"),
    ("landing_files_days: 30\nquarantine_days: 90\ndelivered_message_body_days: 30\nfact_retention_days: 365\n",
     "fact_retention_days"),  # AML keeps transaction records at least five years
])
def test_a_bad_purge_file_names_the_file_and_the_field(tmp_path: Path, text: str, field: str) -> None:
    file = tmp_path / "purge.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=field) as refused:
        load_purge_policy(file)
    assert str(file) in str(refused.value)


def test_a_missing_purge_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_purge_policy(tmp_path / "absent.yaml")


def _day(landing: Path, name: str) -> Path:
    folder = landing / name
    folder.mkdir(parents=True)
    (folder / "core_customers.csv").write_text("cust_no\n1\n", encoding="utf-8")
    return folder


def test_landing_day_folders_older_than_the_period_are_deleted(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    for name in ("2026-04-01", "2026-05-30", "2026-05-31", "2026-06-30", "2026-13-01", "manual-uploads"):
        _day(landing, name)
    (landing / "2026-01-01").write_text("a file, not a day folder", encoding="utf-8")

    deleted = purge_landing(landing, TODAY, 30)

    assert deleted == ["2026-04-01", "2026-05-30"]
    assert sorted(p.name for p in landing.iterdir()) == ["2026-01-01", "2026-05-31", "2026-06-30", "2026-13-01",
                                                          "manual-uploads"]
    assert purge_landing(landing, TODAY, 30) == []


def test_a_missing_landing_dir_purges_nothing(tmp_path: Path) -> None:
    assert purge_landing(tmp_path / "absent", TODAY, 30) == []
