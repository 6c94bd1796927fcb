"""A refused input is answered in one message: Prefect's run logs carry no traceback for it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from lifecycle.errors import SourceError

AS_OF = date(2026, 6, 30)
pytestmark = pytest.mark.slow


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_a_refused_file_leaves_its_message_in_the_run_logs_without_a_traceback(
        prefect_api: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> None:
    from flows.daily import daily_lifecycle
    from tasks.context import reset

    landing = tmp_path / "landing"
    (landing / str(AS_OF)).mkdir(parents=True)
    (landing / str(AS_OF) / "relationship_managers.csv").write_bytes(b"")
    use_home(monkeypatch, tmp_path / "home", landing)
    collect = Collect()
    prefect_logger = logging.getLogger("prefect")
    prefect_logger.addHandler(collect)
    try:
        with pytest.raises(SourceError) as err:
            daily_lifecycle(AS_OF, sources=["relationship_managers"])
    finally:
        prefect_logger.removeHandler(collect)
        reset()
    assert err.value.rule == "empty_file"
    logs = "\n".join(collect.lines)
    assert "relationship_managers.csv" in logs and "empty_file" in logs  # the answer is in the run logs
    assert "Traceback" not in logs, logs
