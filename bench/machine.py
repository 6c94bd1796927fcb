"""What the benchmark ran on, and how much memory it took.

Stdlib only (psutil is not a dependency): ``/proc`` on Linux, ``resource`` and
``os`` elsewhere. Peak RSS per phase uses the kernel's high-water mark
(``VmHWM``), reset at the start of each phase through ``/proc/self/clear_refs``;
where that reset is refused, a sampling thread reads ``VmRSS`` instead.
"""

from __future__ import annotations

import os
import platform
import re
import resource
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

PACKAGES = ("pandas", "numpy", "pyarrow", "sqlalchemy", "great-expectations", "prefect", "cryptography",
            "psycopg", "pyinstrument")
_PROC_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_GIB = 1024**3


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution, None when it is not installed."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def memory_total_bytes(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """Physical memory, from /proc/meminfo or sysconf; None when neither answers."""
    try:
        match = re.search(r"^MemTotal:\s+(\d+) kB", meminfo.read_text(), re.MULTILINE)
        if match:
            return int(match.group(1)) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
    except OSError:
        match = None
    return match.group(1).strip() if match else platform.processor() or platform.machine()


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def code_version(repo: Path | None = None) -> dict[str, object]:
    """The checkout's commit and whether it had local changes (read-only git calls)."""
    import subprocess

    where = repo or Path(__file__).resolve().parent.parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, timeout=30,
                                  check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def machine_info() -> dict[str, object]:
    """The machine and software the numbers belong to (taken at the start of a run)."""
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "memory_bytes": memory_total_bytes(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "packages": package_versions(),
        "load_average_start": load_average(),
        "code": code_version(),
    }


def _status_kib(field: str) -> int | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", _PROC_STATUS.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def current_rss_bytes() -> int | None:
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def rusage_peaks() -> dict[str, int]:
    """Lifetime peak RSS of this process and of its largest waited-for child (bytes)."""
    scale = 1 if sys.platform == "darwin" else 1024  # Linux reports kB, macOS bytes
    return {"self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale,
            "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale}


def _reset_high_water() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class MemoryWatch:
    """Peak RSS per named phase of this process (bytes)."""

    def __init__(self, sample_seconds: float = 0.2) -> None:
        self.sample_seconds = sample_seconds
        self.phases: dict[str, int] = {}
        self.steps: dict[str, dict[str, int]] = {}  # phase -> step -> peak RSS (VmHWM only)
        self._phase: str | None = None
        self._step_peak = 0  # highest step peak of the running phase
        self.method = "VmHWM (reset per phase)" if _status_kib("VmHWM") is not None else "getrusage"

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        exact = self.method.startswith("VmHWM") and _reset_high_water()
        self._phase, self._step_peak = name, 0
        sampled = [current_rss_bytes() or 0]
        stop = threading.Event()
        sampler = None
        if not exact:
            sampler = threading.Thread(target=self._sample, args=(stop, sampled), daemon=True)
            sampler.start()
        try:
            yield
        finally:
            stop.set()
            if sampler is not None:
                sampler.join()
            self._phase = None
            peak = max(max(sampled), self._step_peak)  # steps reset the high-water mark
            if exact:
                peak = max(peak, (_status_kib("VmHWM") or 0) * 1024)
            if peak == 0:  # no /proc: the process's lifetime peak is the best bound
                peak = rusage_peaks()["self"]
            self.phases[name] = max(self.phases.get(name, 0), peak)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Exact peak RSS of one step of the running phase (where VmHWM can be reset).

        The high-water mark is reset when the step starts and read when it ends; RSS
        held from earlier steps counts in each step's peak. Outside a phase, or
        without VmHWM, the step is not measured.
        """
        phase = self._phase
        if phase is None or not self.method.startswith("VmHWM") or not _reset_high_water():
            yield
            return
        try:
            yield
        finally:
            peak = (_status_kib("VmHWM") or 0) * 1024
            steps = self.steps.setdefault(phase, {})
            steps[name] = max(steps.get(name, 0), peak)
            self._step_peak = max(self._step_peak, peak)

    def _sample(self, stop: threading.Event, sampled: list[int]) -> None:
        while not stop.wait(self.sample_seconds):
            sampled.append(current_rss_bytes() or 0)

    @property
    def peak_bytes(self) -> int:
        return max(self.phases.values(), default=0)


def gib(value: float | None) -> str:
    return "—" if value is None else f"{value / _GIB:.2f} GiB"


def elapsed(start: float) -> float:
    return time.perf_counter() - start
