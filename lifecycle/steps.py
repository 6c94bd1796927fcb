"""How a service runs its steps: directly, as orchestrator tasks, or under a timer.

A service (``integration.service.run_day``, and the decision and care services
after it) is written once, as a sequence of named steps, each a plain function
call made through a :class:`Step`::

    staged = step("stage-source:core_customers", stage, ctx, plan, "core_customers")

The caller chooses what a step is: tests pass nothing (:func:`direct`, a plain
call); the Prefect flow passes a wrapper that makes each step a task with its
retries and timeout (``tasks/``); the benchmark passes one that times each step
and records its memory. A name is ``kind`` or ``kind:detail`` — the kind names
the step (the task), the detail tells its runs apart (which source).

Steps exchange values: a step returns what the next one needs and never changes
an object another step reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

R = TypeVar("R")
T = TypeVar("T")


class Step(Protocol):
    def __call__(self, name: str, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R: ...


def direct(name: str, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
    """Run the step as a plain call."""
    return fn(*args, **kwargs)


def each(step: Step, kind: str, fn: Callable[..., R], items: Sequence[T], label: Callable[[T], str],
         *args: Any) -> list[R]:
    """``fn(*args, item)`` for every item, as steps ``kind:label(item)``; concurrently when the
    step runner offers it (a ``map`` method), one after the other otherwise."""
    fan_out = getattr(step, "map", None)
    if fan_out is not None:
        return list(fan_out(kind, fn, items, label, *args))
    return [step(f"{kind}:{label(item)}", fn, *args, item) for item in items]


def kind_of(name: str) -> str:
    """``stage-source:transactions`` -> ``stage-source``."""
    return name.split(":", 1)[0]


def detail_of(name: str) -> str | None:
    """``stage-source:transactions`` -> ``transactions``; None for a plain kind."""
    return name.split(":", 1)[1] if ":" in name else None
