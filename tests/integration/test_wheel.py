"""The platform as a bank installs it: a wheel in a fresh virtual environment, outside the repository.

Builds the wheel from this checkout, installs it (not editable) into a new
virtual environment, and from an empty folder elsewhere runs
``bank-lifecycle db upgrade`` and the demo's daily flow. This proves the wheel
carries what the code finds at run time: the Alembic migrations, the GX
suites and the packaged configuration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None,
         timeout: int = 900) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _not_sources(folder: str, names: list[str]) -> set[str]:
    """What a build or a checkout's own state left at the root, and caches anywhere."""
    at_root = {".git", ".venv", "var", "build", "dist"} if Path(folder) == ROOT else set()
    return {n for n in names if n in at_root or n == "__pycache__" or n.endswith((".egg-info", "_cache"))}


def test_a_wheel_installed_in_a_fresh_environment_upgrades_the_database_and_runs_the_daily_flow(
        tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info into the tree
    shutil.copytree(ROOT, source, ignore=_not_sources)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(source)],
         cwd=tmp_path)
    wheel = next(dist.glob("bank_lifecycle-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "migrations/versions/0001_canonical_schema.py" in names and "migrations/env.py" in names
    assert "expectations/core_customers.json" in names and "lifecycle/config/sources.yaml" in names

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    _run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)], cwd=tmp_path, timeout=1500)

    elsewhere = tmp_path / "elsewhere"  # no checkout here: nothing can be found by relative path
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIFECYCLE_", "PYTHONPATH"))}
    env.update(LIFECYCLE_HOME=str(elsewhere / "home"), PREFECT_HOME=str(elsewhere / "prefect"),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", GX_ANALYTICS_ENABLED="False")
    upgraded = _run([str(venv / "bin" / "bank-lifecycle"), "db", "upgrade"], cwd=elsewhere, env=env)
    assert "at schema revision" in upgraded.stdout
    located = _run([str(venv / "bin" / "python"), "-c", "import lifecycle, migrations; print(lifecycle.__file__)"],
                   cwd=elsewhere, env=env)
    assert str(venv) in located.stdout  # the installed package, not this checkout
    demo = _run([str(venv / "bin" / "python"), "-m", "flows.demo", "--customers", "150", "--home",
                 str(elsewhere / "home")], cwd=elsewhere, env=env, timeout=900)
    assert "daily run 2026-06-30: succeeded; second run of the same day: skipped" in demo.stdout
