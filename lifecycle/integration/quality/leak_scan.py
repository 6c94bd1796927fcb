"""Prove that no planted value reached the files GX wrote.

Used by the PII test and usable as an operational canary: plant values that
fail the rules, run the gate, build Data Docs, then scan the GX project and the
Data Docs folder. A value is searched in the spellings a file may hold it in:
UTF-8 as is, JSON-escaped (``\\uXXXX``) and HTML-escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path


def scan_for_values(paths: Iterable[Path], values: Iterable[str]) -> list[str]:
    """Files under ``paths`` holding any of ``values``, as ``"<file>: value #<i>"``.

    The hit names the value by its position in ``values``, not by the value
    itself, so that a failing check does not print the PII it caught.
    """
    needles = [(i, _spellings(v)) for i, v in enumerate(values) if v]
    hits: list[str] = []
    for file in sorted(f for root in paths for f in _files(Path(root))):
        content = file.read_bytes()
        hits += [f"{file}: value #{i}" for i, spellings in needles if any(s in content for s in spellings)]
    return hits


def _files(root: Path) -> Iterable[Path]:
    if root.is_file():
        return [root]
    return (p for p in root.rglob("*") if p.is_file())


def _spellings(value: str) -> set[bytes]:
    return {
        value.encode("utf-8"),
        json.dumps(value)[1:-1].encode("utf-8"),
        json.dumps(value, ensure_ascii=False)[1:-1].encode("utf-8"),
        html.escape(value).encode("utf-8"),
    }
