"""The repository's own prefect.yaml passes the deployment checker (tests/support/deployments.py)."""

from __future__ import annotations

from pathlib import Path

from tests.support.deployments import check_prefect_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_every_deployment_in_prefect_yaml_can_run_as_declared() -> None:
    problems = check_prefect_yaml(ROOT / "prefect.yaml", root=ROOT)
    assert problems == [], "\n".join(map(str, problems))
