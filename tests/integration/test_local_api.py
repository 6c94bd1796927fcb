"""The local Prefect API of a command-line run dies with the run, even when the run is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys, time
from tasks.ephemeral import local_api
with local_api() as url:
    print(url, flush=True)
    time.sleep(600)
"""
pytestmark = pytest.mark.slow


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_the_local_api_server_does_not_outlive_a_killed_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and _answers(url), url
        port = url.split(":")[2].split("/")[0]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        deadline = time.monotonic() + 20
        while _answers(url) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _answers(url), "the API server outlived its run"
        leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline_has(p, f"--port\0{port}\0")]
        assert leftovers == []
    finally:
        if child.poll() is None:
            child.kill()


def _cmdline_has(proc: Path, needle: str) -> bool:
    try:
        return needle in (proc / "cmdline").read_text()
    except OSError:
        return False
