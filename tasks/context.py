"""The flows' context: :func:`lifecycle.bootstrap.build_context`, once per process.

The only thing the orchestration layer adds is the keyring from a Prefect
Secret block when ``LIFECYCLE_KEYRING_BLOCK`` names one (the domain never talks
to Prefect). The keyring refuses to be pickled, and no task returns it, so it
never reaches Prefect's result storage.

Tests and the benchmark inject a context of their own with :func:`using`; a
test that changes settings between runs calls :func:`reset`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from lifecycle.bootstrap import Context, build_context
from lifecycle.settings import Settings, get_settings
from tasks.secrets import keyring_from_block

_lock = threading.Lock()
_injected: Context | None = None
_built: dict[Settings, Context] = {}


def _build(settings: Settings) -> Context:
    block = settings.keyring_block
    return build_context(settings, keyring=(lambda: keyring_from_block(block)) if block else None)


def flow_context() -> Context:
    """The injected context, or the one built (once) from the environment's settings."""
    with _lock:
        if _injected is not None:
            return _injected
        settings = get_settings()
        if settings not in _built:
            _built[settings] = _build(settings)
        return _built[settings]


@contextmanager
def using(ctx: Context) -> Iterator[Context]:
    """Make the flows' tasks use ``ctx`` for the duration (tests, the benchmark)."""
    global _injected
    with _lock:
        saved, _injected = _injected, ctx
    try:
        yield ctx
    finally:
        with _lock:
            _injected = saved


def reset() -> None:
    """Forget the contexts built from settings (a test changed the environment)."""
    with _lock:
        for ctx in _built.values():
            ctx.dispose()
        _built.clear()
        get_settings.cache_clear()
