"""Generated landing data, cached per scale under ``<root>/data/<scale>/``.

A cached extract is reused when its ``truth/manifest.json`` records the same
generator arguments and every file it lists is still there with its size;
otherwise it is generated again (in a child process, so that the generator's
memory is not counted as the pipeline's).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench.scales import Scale

MANIFEST = Path("truth") / "manifest.json"


@dataclass(frozen=True)
class Extract:
    """One generated extract: its folder, landing zone, as-of date and files."""

    root: Path
    as_of: date
    mode: str  # full | delta
    generated_seconds: float | None  # None when reused from the cache
    files: dict[str, dict[str, Any]]  # source -> rows, bytes, encoding (from the manifest)

    @property
    def landing_dir(self) -> Path:
        return self.root / "landing"

    @property
    def truth_dir(self) -> Path:
        return self.root / "truth"

    @property
    def rows(self) -> int:
        return sum(int(f["rows"]) for f in self.files.values())

    @property
    def bytes(self) -> int:
        return sum(int(f["bytes"]) for f in self.files.values())

    def to_dict(self) -> dict[str, object]:
        return {"root": str(self.root), "as_of": self.as_of.isoformat(), "mode": self.mode,
                "generated_seconds": self.generated_seconds, "cached": self.generated_seconds is None,
                "rows": self.rows, "bytes": self.bytes, "files": self.files}


def generator_args(scale: Scale, mode: str) -> dict[str, object]:
    """The manifest ``args`` a matching extract records."""
    return {
        "customers": scale.customers,
        "seed": scale.seed,
        "as_of": (scale.as_of if mode == "full" else scale.delta_as_of).isoformat(),
        "txns_per_customer": float(scale.txns_per_customer),
        "flaw_rate": float(scale.flaw_rate),
        "delta_fraction": None if mode == "full" else float(scale.delta_fraction),
    }


def command(scale: Scale, mode: str, out: Path) -> list[str]:
    args = generator_args(scale, mode)
    argv = [sys.executable, "-m", "lifecycle.synth", "--customers", str(scale.customers), "--seed", str(scale.seed),
            "--as-of", str(args["as_of"]), "--out", str(out), "--txns-per-customer", str(scale.txns_per_customer),
            "--flaw-rate", str(scale.flaw_rate)]
    if mode == "delta":
        argv += ["--delta-fraction", str(scale.delta_fraction)]
    return argv


def _manifest(root: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def manifest_matches(root: Path, scale: Scale, mode: str) -> bool:
    """True when ``root`` holds a complete extract made with this scale's arguments."""
    manifest = _manifest(root)
    if manifest is None or manifest.get("mode") != mode:
        return False
    recorded = manifest.get("args", {})
    if any(recorded.get(k) != v for k, v in generator_args(scale, mode).items()):
        return False
    for relative, info in manifest.get("files", {}).items():
        path = root / relative
        if not path.is_file() or path.stat().st_size != int(info["bytes"]):
            return False
    return True


def _landing_files(root: Path) -> dict[str, dict[str, Any]]:
    manifest = _manifest(root) or {}
    return {info["source"]: {"rows": info["rows"], "bytes": info["bytes"], "encoding": info["encoding"]}
            for relative, info in manifest.get("files", {}).items() if relative.startswith("landing/")}


def ensure_extract(data_root: Path, scale: Scale, mode: str) -> Extract:
    """The scale's full or delta extract, generated unless a matching one is cached."""
    root = data_root / scale.name / mode
    as_of = scale.as_of if mode == "full" else scale.delta_as_of
    seconds = None
    if not manifest_matches(root, scale, mode):
        shutil.rmtree(root, ignore_errors=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        done = subprocess.run(command(scale, mode, root), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"generator failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        seconds = time.perf_counter() - started
        if not manifest_matches(root, scale, mode):
            raise RuntimeError(f"generator wrote {root} but its manifest does not match the scale")
    return Extract(root, as_of, mode, seconds, _landing_files(root))
