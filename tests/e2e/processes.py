"""Child processes of the end-to-end tests: started under a mark, always stopped.

A Prefect server, a worker and the flow-run processes the worker spawns must not
outlive the test that started them, whether it passes, fails or is killed. Three
layers make sure of it:

* every child is started in its own session (so a signal reaches its whole process
  group) with a unique mark in its environment, which its descendants inherit;
* each child asks the kernel to SIGKILL it when the test process dies
  (``PR_SET_PDEATHSIG``, Linux), so a SIGKILLed pytest leaves no server behind;
* :meth:`ProcessSupervisor.stop_all` stops the children newest first (SIGTERM to the
  group, a bounded wait, then SIGKILL) and then kills whatever still carries the
  mark: the process worker starts each flow run in a session of its own, which a
  signal to the worker's group does not reach.

``survivors()`` lists the live processes carrying the mark, so a test can assert
that nothing it started is left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

MARK_VARIABLE = "LIFECYCLE_E2E_MARK"

# Runs before the real program: PR_SET_PDEATHSIG survives execve (except of set-uid
# binaries), so the program is killed when the thread that started it exits. The
# getppid check closes the race where the parent died before prctl took effect.
_LAUNCHER = """\
import ctypes, os, signal, sys
PR_SET_PDEATHSIG = 1
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
    sys.exit("prctl(PR_SET_PDEATHSIG) failed: errno %d" % ctypes.get_errno())
if os.getppid() != int(sys.argv[1]):
    sys.exit("the test process died before its child started")
os.execvp(sys.argv[2], sys.argv[2:])
"""


@dataclass
class ManagedProcess:
    """One child process and the file its stdout and stderr go to."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_text(self) -> str:
        """Everything the process wrote so far (decoded leniently: it is a log)."""
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self, grace_seconds: float) -> None:
        """SIGTERM the process group, wait up to ``grace_seconds``, then SIGKILL it.

        The group is signalled, not just the leader, so helpers it forked in its
        session go too. Idempotent.
        """
        # The group is signalled only while the leader is unreaped (alive or a
        # zombie): its pid, and so the group id, cannot have been reused yet.
        # Members that outlive the leader are left to the supervisor's sweep.
        if self.alive():
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                _signal_group(self.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(timeout=10)
        self._log.close()


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


class ProcessSupervisor:
    """Starts child processes under one mark and stops every one of them.

    Not thread-safe: start and stop processes from the test's own thread (the
    death signal is tied to the thread that started the child).
    """

    def __init__(self, log_dir: Path) -> None:
        self.mark = uuid.uuid4().hex
        self.log_dir = log_dir
        self._started: list[ManagedProcess] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    @property
    def processes(self) -> Sequence[ManagedProcess]:
        return tuple(self._started)

    def start(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path
    ) -> ManagedProcess:
        """Start ``argv`` in its own session, logging to ``<log_dir>/<name>.log``."""
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("ab")
        command = [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *argv]
        try:
            popen = subprocess.Popen(
                command,
                env={**env, MARK_VARIABLE: self.mark},
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            log.close()
            raise
        process = ManagedProcess(name, popen, log_path, log)
        self._started.append(process)
        return process

    def stop_all(self, grace_seconds: float = 10.0, sweep_seconds: float = 10.0) -> list[int]:
        """Stop every started process (newest first), then kill marked leftovers.

        Returns the pids that had to be swept (descendants that escaped their
        parent's process group and outlived it); callers may report them. Raises
        ``RuntimeError`` if anything carrying the mark is still alive after
        ``sweep_seconds``.
        """
        for process in reversed(self._started):
            process.stop(grace_seconds)
        swept = self.survivors()
        for pid in swept:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + sweep_seconds
        while (left := self.survivors()) and time.monotonic() < deadline:
            time.sleep(0.05)
        if left:
            raise RuntimeError(f"processes marked {self.mark} survived SIGKILL: {left}")
        return swept

    def survivors(self) -> list[int]:
        """Live (non-zombie) processes whose environment carries this mark."""
        return marked_processes(self.mark)


def marked_processes(mark: str) -> list[int]:
    """Pids of live processes with ``LIFECYCLE_E2E_MARK=<mark>`` in their environment.

    Reads ``/proc`` (Linux). Processes of other users cannot be read and cannot be
    ours, so they are skipped; zombies are dead already and skipped too.
    """
    needle = f"{MARK_VARIABLE}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        state = stat.rsplit(")", 1)[-1].split()[0]
        if state != "Z" and needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return sorted(found)
