"""The supervisor leaves no process behind: stubborn trees, escaped sessions, a killed parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.e2e.prefect_server import poll_until
from tests.e2e.processes import ProcessSupervisor, marked_processes

pytestmark = pytest.mark.e2e

# Ignores SIGTERM and starts a grandchild in a session of its own that ignores it too,
# like a process worker and the flow-run process it spawns; prints the grandchild's pid.
_STUBBORN_TREE = textwrap.dedent("""
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"],
        start_new_session=True)
    print(child.pid, flush=True)
    time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_stop_all_kills_a_stubborn_tree_that_left_its_session(tmp_path: Path) -> None:
    supervisor = ProcessSupervisor(tmp_path / "logs")
    try:
        parent = supervisor.start("stubborn", [sys.executable, "-c", _STUBBORN_TREE], env=dict(os.environ),
                                  cwd=tmp_path)
        grandchild = poll_until(lambda: int(text) if (text := parent.log_text().strip()) else None,
                                timeout=30, interval=0.05, failure=parent.log_tail)
        assert _alive(grandchild) and set(supervisor.survivors()) == {parent.pid, grandchild}
    finally:
        swept = supervisor.stop_all(grace_seconds=0.5)
    assert swept == [grandchild]  # only the mark found it: it had left the group
    assert supervisor.survivors() == [] and not _alive(grandchild) and not _alive(parent.pid)


def test_children_die_with_a_killed_test_process(tmp_path: Path) -> None:
    """A SIGKILLed pytest cannot clean up: the kernel's parent-death signal does."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
            from tests.e2e.processes import ProcessSupervisor
            supervisor = ProcessSupervisor(Path({str(tmp_path / 'logs')!r}))
            child = supervisor.start("sleeper", ["sleep", "120"], env={{}}, cwd=Path("/"))
            print(supervisor.mark, child.pid, flush=True)
            time.sleep(120)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    sleeper = 0
    try:
        assert holder.stdout is not None
        mark, pid = holder.stdout.readline().split()
        sleeper = int(pid)
        poll_until(lambda: True if marked_processes(mark) == [sleeper] else None, timeout=10,
                   interval=0.05, failure=lambda: f"sleeper {sleeper} never ran")
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        poll_until(lambda: True if not _alive(sleeper) else None, timeout=10, interval=0.05,
                   failure=lambda: f"sleeper {sleeper} outlived its killed parent")
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        if sleeper and _alive(sleeper):  # only when the assertion above failed
            os.kill(sleeper, signal.SIGKILL)
