"""The flows' context: :func:`lifecycle.bootstrap.build_context`, once per process.

The only thing the orchestration layer adds is the keyring from a Prefect
Secret block when ``LIFECYCLE_KEYRING_BLOCK`` names one (the domain never talks
to Prefect). The keyring refuses to be pickled, and no task returns it, so it
never reaches Prefect's result storage.

Tests and the benchmark inject a context of their own with :func:`using`; a
test that changes settings between runs calls :func:`reset`.

A context holds engines and (lazily) the keyring: it never leaves its process.
Tasks that may run elsewhere (customer partitions on Dask workers) are given a
:class:`ContextRef` instead — the settings and a token, both picklable — and
:func:`resolve` it where they run: the very context in the process that made
the reference, otherwise one built from the settings once per process.
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from lifecycle.bootstrap import Context, build_context
from lifecycle.settings import Settings, get_settings
from tasks.secrets import keyring_from_block

_lock = threading.Lock()
_injected: Context | None = None
_built: dict[Settings, Context] = {}
_referenced: weakref.WeakValueDictionary[str, Context] = weakref.WeakValueDictionary()
_token_of: weakref.WeakKeyDictionary[Context, str] = weakref.WeakKeyDictionary()


class ContextRef:
    """What a task that may run in another process gets instead of a :class:`Context`."""

    __slots__ = ("settings", "token")

    def __init__(self, settings: Settings, token: str) -> None:
        self.settings = settings
        self.token = token

    def __getstate__(self) -> tuple[Settings, str]:
        return self.settings, self.token

    def __setstate__(self, state: tuple[Settings, str]) -> None:
        self.settings, self.token = state

    def __repr__(self) -> str:  # task parameters are shown in logs: settings may hold a database password
        return f"ContextRef({self.token[:8]})"


def reference(ctx: Context) -> ContextRef:
    """A picklable reference to ``ctx`` (the same token for the same context)."""
    with _lock:
        token = _token_of.get(ctx)
        if token is None:
            token = uuid.uuid4().hex
            _token_of[ctx] = token
            _referenced[token] = ctx
    return ContextRef(ctx.settings, token)


def resolve(ref: ContextRef) -> Context:
    """The referenced context in its own process; elsewhere the context of its settings, built once here."""
    with _lock:
        ctx = _referenced.get(ref.token)
        if ctx is not None:
            return ctx
        if ref.settings not in _built:
            _built[ref.settings] = _build(ref.settings)
        return _built[ref.settings]


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
