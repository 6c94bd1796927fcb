"""Named points at which a child process kills itself (SIGKILL), for crash-consistency tests.

A kill point wraps one function of the platform: the child process calls
:func:`arm` with a point's name before it runs the day; when the wrapped
function is reached (``before``) or returns (``after``) for the ``nth`` time —
and, if given, when ``when`` accepts its arguments — the process sends itself
SIGKILL: no ``finally``, no ``atexit``, no flushing, as when the machine loses
power or the kernel's OOM killer strikes. Production code has no hooks for
this; only this module's monkeypatching in the child.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KillPoint:
    name: str
    target: str  # "module:attribute" or "module:Class.method"
    moment: str  # "before" | "after"
    nth: int = 1
    when: Callable[..., bool] | None = None  # on the call's (args, kwargs)
    description: str = ""


def _source_is(entity: str) -> Callable[..., bool]:
    def check(*args: Any, **kwargs: Any) -> bool:
        spec = kwargs.get("spec", args[1] if len(args) > 1 else None)
        return getattr(spec, "entity", None) == entity
    return check


POINTS: dict[str, KillPoint] = {p.name: p for p in (
    KillPoint("after-plan", "lifecycle.integration.planning:plan_day", "after",
              description="the run's row is committed as running; nothing staged"),
    KillPoint("mid-staging", "lifecycle.integration.stage:_write_part", "after", nth=2,
              description="a fact source's Parquet parts half written in the staging folder"),
    KillPoint("after-registration", "lifecycle.integration.loading:register_files", "after",
              description="files and quarantine written in the day's open transaction"),
    KillPoint("after-keystore-commit", "lifecycle.store.keystore:KeyStore.add_customer_keys", "after",
              description="new customers' data keys committed in the key store; the main database's "
                          "transaction with their customers not yet committed"),
    KillPoint("mid-customers", "lifecycle.store.upsert:upsert_frame", "after",
              description="golden records written, their source links not, in the open transaction"),
    KillPoint("inside-fact-load", "lifecycle.integration.facts:load_fact_chunk", "after",
              when=_source_is("transaction"),
              description="part of the transactions written in the open transaction"),
    KillPoint("before-commit", "lifecycle.integration.bookkeeping:finish_run", "after",
              when=lambda *a, **k: str(a[2] if len(a) > 2 else k.get("status")) == "succeeded",
              description="everything written, the run closed as succeeded, the commit not made"),
    KillPoint("after-commit", "lifecycle.integration.planning:remove_staging", "before",
              description="the day committed; staging not removed, report not written"),
    KillPoint("mid-report", "lifecycle.integration.bookkeeping:mark_reported", "before",
              description="the day committed, the report file written but not recorded"),
)}

# Points of the outbox dispatcher (tests/support/dispatch_child.py): not part of the day's list above.
DISPATCH_POINTS: dict[str, KillPoint] = {p.name: p for p in (
    KillPoint("dispatch-after-claim", "lifecycle.care.outbox:claim", "after",
              description="a batch claimed (leased), nothing sent"),
    KillPoint("dispatch-after-send", "lifecycle.care.outbox:record", "before", nth=3,
              description="the third message of the batch accepted by the channel, its outcome not recorded"),
)}


def _kind_is(name: str) -> Callable[..., bool]:
    """A rotation batch of one kind of key (rewrap_batch's third argument)."""
    def check(*args: Any, **kwargs: Any) -> bool:
        kind = kwargs.get("kind", args[2] if len(args) > 2 else None)
        return getattr(kind, "name", None) == name
    return check


def _closing(*args: Any, **kwargs: Any) -> bool:
    """The rotation's last record: the one that closes it with a status."""
    return (args[3] if len(args) > 3 else kwargs.get("status")) is not None


# Points of the night after integration (tests/support/night_child.py): decisions, labels,
# care, the digests' dispatch, master-key rotation and erasure.
NIGHT_POINTS: dict[str, KillPoint] = {p.name: p for p in (
    KillPoint("decide-after-plan", "lifecycle.decisioning.service:plan_decisions", "after",
              description="the decision run committed as running, the date's earlier results cleared"),
    KillPoint("decide-mid-features", "lifecycle.decisioning.service:compute_partition_features", "after",
              description="one partition's features committed, the other's not computed"),
    KillPoint("decide-after-fit", "lifecycle.decisioning.service:fit_models", "after",
              description="the models' fit committed, no decision made"),
    KillPoint("decide-mid-partitions", "lifecycle.decisioning.service:decide_partition", "after",
              description="one partition's decisions committed, the other's not made"),
    KillPoint("decide-before-finish", "lifecycle.decisioning.service:finish_decisions", "before",
              description="every decision committed, the run not closed"),
    KillPoint("labels-before-groups", "lifecycle.segments.service:refresh_groups", "before",
              description="labels written, groups not refreshed, in the open transaction"),
    KillPoint("retention-before-entitlements", "lifecycle.care.service:_entitlement_changes", "before",
              description="retention tasks inserted, entitlement changes not, in the open transaction"),
    KillPoint("loyalty-before-expiry", "lifecycle.care.loyalty:expire", "before",
              description="points earned, expiry not posted, in the open transaction"),
    KillPoint("digests-enqueued", "lifecycle.care.digests:enqueue_digests", "after",
              description="the RMs' digests committed in the outbox, none sent"),
    KillPoint("digests-after-send", "lifecycle.care.outbox:record", "before", nth=2,
              description="the second digest accepted by the channel, its outcome not recorded"),
    KillPoint("rotate-after-first-batch", "lifecycle.protection.rotation:rewrap_batch", "after",
              description="one batch of customer keys re-wrapped and committed, the rest on the old version"),
    KillPoint("rotate-inside-batch", "lifecycle.protection.rotation:rewrap_data_keys", "after", nth=2,
              description="the second batch re-wrapped in memory inside its open key-store transaction"),
    KillPoint("rotate-mid-run-keys", "lifecycle.protection.rotation:rewrap_batch", "before",
              when=_kind_is("run_keys"),
              description="every customer key re-wrapped, the quarantine run keys not"),
    KillPoint("rotate-before-close", "lifecycle.protection.rotation:_record", "before", when=_closing,
              description="every key re-wrapped, the rotation's row not closed"),
    KillPoint("erase-inside-transaction", "lifecycle.protection.erasure:_delete_quarantined_records", "after",
              description="PII cleared, cards, messages, tasks and labels too, in the open transaction"),
    KillPoint("erase-after-main-commit", "lifecycle.store.keystore:KeyStore.destroy_customer_key", "before",
              description="the main database's erasure committed, the data key not destroyed"),
    KillPoint("erase-after-key-destroyed", "lifecycle.store.keystore:KeyStore.destroy_customer_key", "after",
              description="the data key destroyed, the command not finished"),
)}


def _resolve(target: str) -> tuple[Any, str]:
    module_name, _, path = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, attribute = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    return owner, attribute


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(name: str) -> None:
    """Patch the point's function in this process so that reaching it kills the process."""
    point = POINTS.get(name) or DISPATCH_POINTS.get(name) or NIGHT_POINTS[name]
    owner, attribute = _resolve(point.target)
    original = getattr(owner, attribute)
    seen = 0

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal seen
        matches = point.when is None or point.when(*args, **kwargs)
        if matches:
            seen += 1
        fire = matches and seen == point.nth
        if fire and point.moment == "before":
            _die()
        result = original(*args, **kwargs)
        if fire:
            _die()
        return result

    setattr(owner, attribute, wrapper)
    if isinstance(owner, type):
        return  # a method: every caller goes through the class
    for module in list(sys.modules.values()):  # modules that imported the function by name
        if getattr(module, "__name__", "").startswith("lifecycle.") and getattr(module, attribute, None) is original:
            setattr(module, attribute, wrapper)
