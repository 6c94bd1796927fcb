"""The ``purge`` flow: delete what is kept longer than its period.

Periods come from the purge YAML (default: the packaged
``lifecycle/config/purge.yaml``): landing day-folders, quarantined rows
(and their run keys once a run has none left), dated facts past their
regulatory period (AML: at least five years) and the bodies of sent care
messages. Each kind is purged by its own task, which logs its count.
"""

from __future__ import annotations

from datetime import date

from prefect import flow

from tasks.protection import (
    clear_delivered_message_bodies,
    load_purge_policy,
    publish_summary,
    purge_landing_files,
    purge_old_facts,
    purge_quarantine,
)


@flow(name="purge", log_prints=False, persist_result=False)
def purge(purge_file: str | None = None, today: date | None = None) -> dict[str, int]:
    """Purge landing files, quarantine rows, facts and message bodies older than their periods.

    Args:
        purge_file: purge YAML to use (default: the packaged lifecycle/config/purge.yaml).
        today: the date ages are counted from (default: today).
    """
    policy = load_purge_policy(purge_file)
    day = today or date.today()
    counts: dict[str, int] = {
        "landing_day_folders": purge_landing_files(policy.landing_files_days, day),
        **purge_quarantine(policy.quarantine_days),
        **purge_old_facts(policy.fact_retention_days, day),
        "message_bodies": clear_delivered_message_bodies(policy.delivered_message_body_days),
    }
    publish_summary("purge", "Data purge", dict(counts))
    return counts
