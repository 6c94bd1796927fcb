"""The deployment checker flags each way a prefect.yaml deployment would not run, and passes a sound one."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.support.deployments import Problem, check_prefect_yaml

FLOWS = '''
from datetime import date

from prefect import flow


@flow(name="dated")
def dated(as_of: date, batch_size: int = 100) -> None:
    """A flow with one required parameter."""


@flow(name="free")
def free(batch_size: int = 100) -> None:
    """A flow whose every parameter has a default."""


def plain() -> None:
    """Not a flow."""
'''

GOOD = """
  - name: nightly
    entrypoint: flows.py:dated
    parameters:
      as_of: 2026-06-30
      batch_size: 500
    schedules:
      - cron: "30 2 * * *"
        timezone: Asia/Shanghai
  - name: on-demand
    entrypoint: flows.py:dated
  - name: free-nightly
    entrypoint: flows.py:free
    schedules:
      - cron: "0 4 * * *"
        timezone: Asia/Shanghai
"""


def _check(tmp_path: Path, deployments: str) -> list[Problem]:
    (tmp_path / "flows.py").write_text(FLOWS, encoding="utf-8")
    prefect_file = tmp_path / "prefect.yaml"
    prefect_file.write_text("name: t\ndeployments:\n" + textwrap.dedent(deployments), encoding="utf-8")
    return check_prefect_yaml(prefect_file)


def _rules(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.deployment, p.rule) for p in problems]


def test_a_sound_file_passes(tmp_path: Path) -> None:
    """Scheduled with its required date supplied; on demand without it; defaults only."""
    assert _check(tmp_path, GOOD) == []


def test_a_scheduled_deployment_missing_a_required_parameter_is_flagged(tmp_path: Path) -> None:
    problems = _check(tmp_path, """
      - name: nightly
        entrypoint: flows.py:dated
        schedules:
          - cron: "30 2 * * *"
            timezone: Asia/Shanghai
    """)
    assert _rules(problems) == [("nightly", "required-parameter")]
    assert "'as_of'" in problems[0].message


def test_an_unknown_parameter_is_flagged(tmp_path: Path) -> None:
    problems = _check(tmp_path, """
      - name: on-demand
        entrypoint: flows.py:dated
        parameters:
          batch_sise: 10
    """)
    assert _rules(problems) == [("on-demand", "unknown-parameter")]
    assert "'batch_sise'" in problems[0].message and "batch_size" in problems[0].message


def test_a_value_that_breaks_the_parameter_schema_is_flagged(tmp_path: Path) -> None:
    problems = _check(tmp_path, """
      - name: on-demand
        entrypoint: flows.py:dated
        parameters:
          batch_size: many
    """)
    assert _rules(problems) == [("on-demand", "parameter-schema")]
    assert "batch_size" in problems[0].message


def test_a_value_the_engine_cannot_cast_is_flagged_on_a_scheduled_deployment(tmp_path: Path) -> None:
    """A string passes the schema's ``format: date`` only if it is a date the engine can parse."""
    problems = _check(tmp_path, """
      - name: nightly
        entrypoint: flows.py:dated
        parameters:
          as_of: yesterday
        schedules:
          - cron: "30 2 * * *"
            timezone: Asia/Shanghai
    """)
    assert _rules(problems) == [("nightly", "parameter-schema")]


@pytest.mark.parametrize(
    ("entrypoint", "reason"),
    [
        ("flows.py:missing", "missing"),
        ("nowhere.py:dated", "nowhere.py"),
        ("flows.py:plain", "not a flow"),
        ("flows.dated", "is not of the form"),
    ],
)
def test_a_bad_entrypoint_is_flagged(tmp_path: Path, entrypoint: str, reason: str) -> None:
    problems = _check(tmp_path, f"""
      - name: broken
        entrypoint: {entrypoint}
    """)
    assert _rules(problems) == [("broken", "entrypoint")]
    assert reason in problems[0].message


@pytest.mark.parametrize("timezone_line", ["", "timezone: UTC"])
def test_a_schedule_without_the_shanghai_timezone_is_flagged(tmp_path: Path, timezone_line: str) -> None:
    problems = _check(tmp_path, f"""
      - name: free-nightly
        entrypoint: flows.py:free
        schedules:
          - cron: "0 4 * * *"
            {timezone_line}
    """)
    assert _rules(problems) == [("free-nightly", "timezone")]


def test_a_file_without_deployments_is_flagged(tmp_path: Path) -> None:
    prefect_file = tmp_path / "prefect.yaml"
    prefect_file.write_text("name: t\n", encoding="utf-8")
    assert [p.rule for p in check_prefect_yaml(prefect_file)] == ["deployments"]
