"""A small stopwatch that adds up seconds per named step (for run logs and the benchmark)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Stopwatch:
    def __init__(self, totals: dict[str, float] | None = None) -> None:
        self.totals = totals if totals is not None else {}

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.totals[step] = self.totals.get(step, 0.0) + time.perf_counter() - start
