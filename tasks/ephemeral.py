"""A local Prefect API for command-line runs, tied to the life of the process that uses it.

Without a ``PREFECT_API_URL``, Prefect starts a temporary API server as a
child process and stops it at exit (``atexit``). A process killed with SIGKILL
runs no ``atexit``: the server lives on, an orphan holding its port and its
database. :func:`local_api` starts the same server (Prefect's own app, through
uvicorn, as Prefect does) with Linux's ``PR_SET_PDEATHSIG``: the kernel kills
it when the process that started it dies, however it dies, and creates the
database-writer limit on it (:mod:`tasks.limits`). Where a ``PREFECT_API_URL`` is
configured (a real server) nothing is started or created.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

PR_SET_PDEATHSIG = 1
STARTUP_SECONDS = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120"))


def _die_with_parent(parent: int) -> None:
    """In the child, before exec: ask the kernel for SIGKILL when the parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(port: int) -> subprocess.Popen[bytes]:
    import prefect
    from prefect.settings import get_current_settings

    env = {**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True),
           "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    env.pop("PREFECT_API_URL", None)
    parent = os.getpid()
    return subprocess.Popen(  # the command Prefect's own temporary server runs
        [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent), "--factory",
         "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "error", "--lifespan", "on"],
        env=env, preexec_fn=lambda: _die_with_parent(parent))


def _wait_healthy(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the local Prefect API server exited with code {process.returncode}")
            try:
                if client.get(f"{url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"the local Prefect API server did not answer within {STARTUP_SECONDS:.0f} s "
                       "(raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS on a loaded machine)")


def _drain_to(url: str) -> None:
    """Send the logs and events still queued to the server before it stops (they would
    otherwise be sent at exit, to a server that is gone)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)


def _create_writer_limit(url: str) -> None:
    """The database-writer limit on the local server, as a server's operator creates it (tasks/limits.py)."""
    from prefect.client.orchestration import SyncPrefectClient

    from lifecycle.settings import get_settings
    from tasks.limits import default_writers, ensure_writer_limit

    with SyncPrefectClient(url) as client:
        ensure_writer_limit(client, default_writers(get_settings().resolved_database_url))


@contextmanager
def local_api() -> Iterator[str | None]:
    """A Prefect API for the duration: the configured one, or a local server that dies with
    this process. Yields the API URL (None when a configured one is used)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield None
        return
    port = _free_port()
    process = _start(port)
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(process, url)
        _create_writer_limit(url)
        with temporary_settings(updates={PREFECT_API_URL: url}):
            try:
                yield url
            finally:
                _drain_to(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
