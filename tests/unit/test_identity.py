"""Identity resolution links records of one person and keeps others apart."""

from __future__ import annotations

import pandas as pd

from lifecycle.integration.identity import DEFAULT_RULES, ExistingIdentities, resolve


def _records(rows: list[tuple[str, str, str | None, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "source_key", "id_no_bidx", "name_mobile_bidx"])


def test_same_id_or_same_name_and_mobile_is_one_customer() -> None:
    recs = _records([("core", "a", "ID1", "NM1"), ("card", "k1", "ID1", None),
                     ("card", "k2", None, "NM1"), ("core", "b", "ID2", "NM2")])
    res = resolve(recs, ExistingIdentities.empty(DEFAULT_RULES), DEFAULT_RULES, next_customer_id=1)
    ids = res.assignments["customer_id"].tolist()
    assert ids[0] == ids[1] == ids[2] != ids[3]
    assert res.assignments["match_rule"].tolist() == ["new", "id_no", "name_mobile", "new"]
    assert res.next_customer_id == 3


def test_known_links_and_stored_keys_join_existing_customers() -> None:
    existing = ExistingIdentities(
        pd.DataFrame({"source": ["core"], "source_key": ["a"], "customer_id": [70]}),
        pd.DataFrame({"customer_id": [70, 90], "id_no_bidx": ["ID1", "ID9"], "name_mobile_bidx": [None, None]}),
    )
    recs = _records([("core", "a", "ID1", None), ("card", "k9", "ID9", None), ("card", "k5", "ID5", None)])
    res = resolve(recs, existing, DEFAULT_RULES, next_customer_id=100)
    assert res.assignments["customer_id"].tolist() == [70, 90, 100]
    assert res.assignments["match_rule"].tolist() == ["known", "id_no", "new"]
    assert res.assignments["is_new_customer"].tolist() == [False, False, True]


def test_component_reaching_two_customers_is_reported_as_a_conflict() -> None:
    existing = ExistingIdentities(
        ExistingIdentities.empty(DEFAULT_RULES).links,
        pd.DataFrame({"customer_id": [1, 2], "id_no_bidx": ["ID1", None], "name_mobile_bidx": [None, "NM2"]}),
    )
    recs = _records([("card", "k", "ID1", "NM2")])
    res = resolve(recs, existing, DEFAULT_RULES, next_customer_id=3)
    assert res.assignments["customer_id"].tolist() == [1]
    assert res.conflicts.to_dict("records") == [{"customer_id": 1, "other_customer_id": 2}]


def test_identity_rules_come_from_the_sources_configuration() -> None:
    import pytest
    from pydantic import ValidationError

    from lifecycle.integration.sources import IdentityRules, load_sources

    assert load_sources().identity.keys("individual") == ("id_no_bidx", "name_mobile_bidx")
    assert IdentityRules(individual=("id_no",)).keys("individual") == ("id_no_bidx",)
    with pytest.raises(ValidationError):
        IdentityRules(individual=("birthday",))  # type: ignore[arg-type]


def test_without_the_name_mobile_rule_records_without_an_id_stay_apart() -> None:
    recs = _records([("core", "a", "ID1", "NM1"), ("card", "k2", None, "NM1")])
    rules = ("id_no_bidx",)
    res = resolve(recs[["source", "source_key", "id_no_bidx"]], ExistingIdentities.empty(rules), rules, 1)
    assert res.assignments["customer_id"].nunique() == 2
