"""The ``rotate-master-key`` flow: re-wrap every data key under the active master key.

Before running it, the operator makes a new master-key version active in the
keyring the flows read (``bank-lifecycle keys new-version --keyring-file F``
for a file keyring; see docs/data-protection.md for a Secret block). The flow
re-wraps customer and run keys in committed batches — a crashed run is
completed by the next — records a ``key_rotations`` row, and reports which
master-key versions no stored key uses any more (``bank-lifecycle keys retire``).
"""

from __future__ import annotations

from prefect import flow

from tasks.protection import publish_summary, rewrap_data_keys


@flow(name="rotate-master-key", log_prints=False, persist_result=False)
def rotate_master_key(batch_size: int = 10_000) -> dict[str, object]:
    """Re-wrap every stored data key not on the keyring's active master-key version.

    Args:
        batch_size: keys re-wrapped and committed per batch (a crash loses at most one batch).
    """
    summary = rewrap_data_keys(batch_size)
    publish_summary("key-rotation", f"Master key rotation to version {summary['to_version']}", {
        "keys re-wrapped": summary["total"], "batches": summary["batches"],
        "keys still on other versions": summary["stale"],
        "retirable master key versions": summary["retirable_versions"],
    })
    return summary
