"""Machine information and memory peaks come from the standard library and /proc."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.machine import MemoryWatch, machine_info, memory_total_bytes, package_versions


def test_machine_info_names_cores_memory_python_sqlite_and_package_versions() -> None:
    info = machine_info()
    assert int(str(info["cores"])) >= 1 and int(str(info["usable_cores"])) >= 1
    assert info["python"] == sys.version.split()[0]
    assert str(info["sqlite"]).count(".") >= 2
    packages = info["packages"]
    assert isinstance(packages, dict)
    assert {"pandas", "numpy", "sqlalchemy", "great-expectations", "prefect", "cryptography"} <= set(packages)
    assert packages["pandas"]


def test_a_package_that_is_not_installed_has_no_version() -> None:
    assert package_versions(("no-such-distribution-bench",)) == {"no-such-distribution-bench": None}


def test_memory_total_is_read_from_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24576000 kB\nMemFree:        1000 kB\n")
    assert memory_total_bytes(meminfo) == 24576000 * 1024


def test_a_phase_peak_sees_memory_allocated_inside_it() -> None:
    watch = MemoryWatch()
    with watch.phase("small"):
        pass
    with watch.phase("big"):
        block = bytearray(200 * 1024 * 1024)
        block[:: 4096] = b"x" * len(block[:: 4096])  # touch every page
        del block
    assert watch.phases["big"] >= watch.phases["small"] + 150 * 1024 * 1024
    assert watch.peak_bytes == watch.phases["big"]


def _touch(mib: int) -> None:
    block = bytearray(mib * 1024 * 1024)
    block[:: 4096] = b"x" * len(block[:: 4096])  # touch every page
    del block


def test_each_step_gets_its_own_peak_and_the_phase_the_highest() -> None:
    watch = MemoryWatch()
    assert watch.method.startswith("VmHWM")  # Linux: /proc/self/status has the high-water mark
    with watch.phase("run"):
        with watch.step("quiet"):
            pass
        with watch.step("hungry"):
            _touch(200)
        with watch.step("quiet again"):
            pass
    steps = watch.steps["run"]
    assert steps["hungry"] >= steps["quiet"] + 150 * 1024 * 1024
    assert steps["quiet again"] < steps["hungry"] - 150 * 1024 * 1024  # reset when the step began
    assert watch.phases["run"] >= steps["hungry"]  # the later reset does not hide the phase's peak


def test_a_step_outside_a_phase_is_not_measured() -> None:
    watch = MemoryWatch()
    with watch.step("loose"):
        _touch(10)
    assert watch.steps == {}
