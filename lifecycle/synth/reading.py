"""Reading generated output back (for evaluations and tests), values as text.

The manifest says which encoding each file was written in, so a file with a
planted encoding flaw is still read correctly here (the pipeline, which only
has the sources configuration, is what should notice the flaw).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd


def read_manifest(out: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((Path(out) / "truth" / "manifest.json").read_text(encoding="utf-8"))
    return manifest


def landing_path(out: Path, source: str) -> tuple[Path, str]:
    """Path and written encoding of ``source``'s landing file."""
    for relative, entry in read_manifest(out)["files"].items():
        if entry["source"] == source:
            return Path(out) / relative, str(entry["encoding"])
    raise KeyError(f"no landing file for source {source!r} in {out}")


def read_extract(out: Path, source: str) -> pd.DataFrame:
    """A landing file as strings (empty cells become empty strings)."""
    path, encoding = landing_path(out, source)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


def read_truth(out: Path, name: str) -> pd.DataFrame:
    """``truth/<name>.csv`` as strings."""
    return pd.read_csv(Path(out) / "truth" / f"{name}.csv", dtype=str, keep_default_na=False)
