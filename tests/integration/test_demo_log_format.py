"""The demo's output keeps Prefect's log format, also on the first run (which generates the bank first)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from lifecycle.synth.cli import main as synth

ROOT = Path(__file__).resolve().parents[2]
PREFECT_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| INFO    \| prefect\.demo-probe - after the generator$", re.M)

# What `make demo` does on a fresh home, up to its first run log line: generate the
# bank (flows.demo._prepare calls the generator's command line), then import the flows.
_FIRST_RUN = textwrap.dedent("""
    import sys
    from datetime import date
    from pathlib import Path
    from flows.demo import _prepare
    home = Path(sys.argv[1])
    home.mkdir()  # the demo claims its home first
    _prepare(home, 30, 3, date(2026, 6, 30), 0.0)
    import flows.daily  # imports Prefect, which sets up its logging
    from prefect.logging import get_logger
    get_logger("demo-probe").info("after the generator")
""")


def test_the_first_demo_run_logs_in_prefects_format(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LIFECYCLE_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_LOGGING_LEVEL="INFO", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", _FIRST_RUN, str(tmp_path / "home")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "extract for 2026-06-30" in result.stdout  # the generator did run first
    output = result.stdout + result.stderr
    assert PREFECT_LINE.search(output), output[-3000:]
    assert "INFO:prefect" not in output


def test_the_generator_command_leaves_the_root_logger_alone(tmp_path: Path) -> None:
    before = list(logging.getLogger().handlers)
    assert synth(["--customers", "20", "--seed", "1", "--as-of", "2026-06-30", "--out", str(tmp_path),
                  "--verbose"]) == 0
    assert logging.getLogger().handlers == before
    synth_logger = logging.getLogger("lifecycle.synth")
    assert synth_logger.handlers == [] and synth_logger.propagate
