"""Survivorship: most trusted source first, then most recent; conflicts reported."""

from __future__ import annotations

import pandas as pd

from lifecycle.integration.survivorship import survive


def _records() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [1, 1, 1],
        "source": ["core_customers", "card_customers", "core_customers"],
        "trust": [1, 2, 1],
        "updated_at": pd.to_datetime(["2026-01-01", "2026-06-01", "2025-01-01"]),
        "mobile": ["13800000001", "13900000002", "13700000003"],
        "email": [None, "a@b.cn", None],
    })


def test_most_trusted_then_most_recent_wins_and_gaps_are_filled() -> None:
    won = survive(_records(), ("mobile", "email"), {}).values.set_index("attribute")
    assert won.loc["mobile", "value"] == "13800000001"  # core beats card, newer core beats older
    assert won.loc["email", "source"] == "card_customers"  # only source with a value


def test_disagreements_are_reported_without_values() -> None:
    conflicts = survive(_records(), ("mobile",), {}).conflicts
    assert set(conflicts["other_source"]) == {"card_customers", "core_customers"}
    assert "value" not in conflicts.columns


def test_stored_provenance_from_a_more_trusted_source_is_not_overwritten() -> None:
    stored = {1: {"mobile": ["core_customers", 1, "2026-03-01T00:00:00"]}}
    card_only = _records().iloc[[1]]
    assert survive(card_only, ("mobile",), stored).values.empty
    newer_core = _records().iloc[[0]].assign(updated_at=pd.to_datetime(["2026-04-01"]))
    assert len(survive(newer_core, ("mobile",), stored).values) == 1


def test_provenance_entries_match_the_per_value_form_for_every_kind_of_time() -> None:
    from lifecycle.integration.survivorship import _OLDEST, provenance_by_customer, provenance_entry

    times = [pd.Timestamp("2026-06-30 08:15:00"), pd.Timestamp("2026-06-30 08:15:00.250000"),
             pd.Timestamp("2026-06-30 08:15:00.000000001"), _OLDEST, pd.Timestamp("1999-01-01")]
    winners = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "attribute": ["name", "mobile", "name", "email", "name"],
                            "source": ["core", "card", "core", "core", "card"], "trust": [1, 2, 1, 1, 2],
                            "ts": pd.Series(times, dtype="datetime64[ns]")})
    expected = {1: {"name": provenance_entry("core", 1, times[0]), "mobile": provenance_entry("card", 2, times[1])},
                2: {"name": provenance_entry("core", 1, times[2]), "email": provenance_entry("core", 1, times[3])},
                3: {"name": provenance_entry("card", 2, times[4])}}
    assert provenance_by_customer(winners).to_dict() == expected
    assert expected[2]["email"][2] is None and expected[1]["mobile"][2] == "2026-06-30T08:15:00.250000"
