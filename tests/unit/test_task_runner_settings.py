"""The partition runner and the writer limit are chosen by settings; a wrong one is named, not guessed."""

from __future__ import annotations

import pytest

from lifecycle.errors import ConfigError
from lifecycle.settings import Settings, get_settings
from tasks.limits import default_writers


def test_threads_are_the_default_runner() -> None:
    settings = Settings()
    assert (settings.task_runner, settings.dask_address, settings.dask_workers) == ("threads", None, 2)


def test_an_unknown_task_runner_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFECYCLE_TASK_RUNNER", "ray")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigError, match="LIFECYCLE_TASK_RUNNER: Input should be 'threads' or 'dask'"):
            get_settings()
    finally:
        monkeypatch.delenv("LIFECYCLE_TASK_RUNNER")
        get_settings.cache_clear()


def test_sqlite_gets_one_writer_slot_and_other_databases_four() -> None:
    assert default_writers("sqlite:////var/lifecycle/lifecycle.db") == 1
    assert default_writers("postgresql+psycopg://lifecycle@db/lifecycle") == 4
