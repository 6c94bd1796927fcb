"""Customer groups on both back-ends: joins and leaves with history, names that are stable, unique and free of PII."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from lifecycle.privacy.blind_index import blind_index
from lifecycle.privacy.keyring import Keyring, generate_keyring
from lifecycle.segments.config import GroupRule, LabelRules, load_label_rules
from lifecycle.segments.groups import GroupNameError, group_sizes, name_groups, refresh_groups
from lifecycle.store.base import table_of
from lifecycle.store.db import make_engine, upgrade
from lifecycle.store.models import Customer, CustomerGroup, GroupMembership
from lifecycle.store.upsert import upsert_frame

NOW = datetime(2026, 6, 30, 6, 0)
D1, D2 = date(2026, 6, 29), date(2026, 6, 30)
PEOPLE = [("王小明", "13812345678", "11010119900307451X"), ("欧阳娜娜", "13900001111", "110101198001010016"),
          ("李雷", "13700002222", "110101197501010011")]


def _store(url: str, keyring: Keyring) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    rows = pd.DataFrame({
        "customer_id": [1, 2, 3], "customer_ref": ["CUS1", "CUS2", "CUS3"], "customer_type": ["individual"] * 3,
        "name_bidx": [blind_index(keyring, "name", n) for n, _, _ in PEOPLE],
        "mobile_bidx": [blind_index(keyring, "mobile", m) for _, m, _ in PEOPLE],
        "id_no_bidx": [blind_index(keyring, "id_no", i) for _, _, i in PEOPLE]})
    with engine.begin() as conn:
        upsert_frame(conn, table_of(Customer), rows)
    return engine


def _rules(*groups: GroupRule) -> LabelRules:
    return load_label_rules().rules.model_copy(update={"groups": list(groups)})


def _group(code: str, zh: str, en: str, tiers: list[str]) -> GroupRule:
    return GroupRule.model_validate({"code": code, "when": [{"column": "value_tier", "op": "in", "value": tiers}],
                                     "names": {"zh_CN": zh, "en": en}, "rationale": "hand-made for the test"})


HNW = _group("hnw_club", "{brand}高净值客户俱乐部", "{brand} High-Net-Worth Club", ["high_value", "private_banking"])
MASS = _group("everyday", "{brand}悦享生活圈", "{brand} Everyday Circle", ["mass"])


def _inputs(tiers: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1, 2, 3], "value_tier": tiers})


def test_membership_joins_and_leaves_with_history(database_url: str) -> None:
    keyring = generate_keyring()
    engine = _store(database_url, keyring)
    rules = _rules(HNW, MASS)
    with engine.begin() as conn:
        names = name_groups(conn, keyring, rules, NOW)
        first = refresh_groups(conn, _inputs(["high_value", "mass", "mass"]), rules, D1, NOW)
        assert group_sizes(conn, D1) == {"hnw_club": 1, "everyday": 2}  # nobody has left yet
    assert names["hnw_club"] == {"zh_CN": "示例银行高净值客户俱乐部", "en": "Example Bank High-Net-Worth Club"}
    assert [(c.code, c.members, c.joined, c.left) for c in first] == [("hnw_club", 1, 1, 0), ("everyday", 2, 2, 0)]
    with engine.begin() as conn:
        second = refresh_groups(conn, _inputs(["high_value", "private_banking", "mass"]), rules, D2, NOW)
        again = refresh_groups(conn, _inputs(["high_value", "private_banking", "mass"]), rules, D2, NOW)
    assert [(c.code, c.members, c.joined, c.left) for c in second] == [("hnw_club", 2, 1, 0), ("everyday", 1, 0, 1)]
    assert [(c.joined, c.left) for c in again] == [(0, 0), (0, 0)]  # the same date again changes nothing
    with engine.connect() as conn:
        history = pd.DataFrame(conn.execute(select(
            GroupMembership.group_code, GroupMembership.customer_id, GroupMembership.joined_on,
            GroupMembership.left_on, GroupMembership.leave_reason).order_by(GroupMembership.id)).all())
        assert group_sizes(conn, D1) == {"hnw_club": 1, "everyday": 2}
        assert group_sizes(conn, D2) == {"hnw_club": 2, "everyday": 1}
    moved = history[(history["customer_id"] == 2) & (history["group_code"] == "everyday")].iloc[0]
    assert (moved["joined_on"], moved["left_on"], moved["leave_reason"]) == (D1, D2, "no longer meets everyday")
    engine.dispose()


def test_names_stay_stable_until_the_definition_changes(database_url: str) -> None:
    keyring = generate_keyring()
    engine = _store(database_url, keyring)
    with engine.begin() as conn:
        name_groups(conn, keyring, _rules(HNW), NOW)
    rebranded = load_label_rules().rules.model_copy(update={"groups": [HNW], "brand": {"zh_CN": "新银行",
                                                                                       "en": "New Bank"}})
    with engine.begin() as conn:
        assert name_groups(conn, keyring, rebranded, NOW)["hnw_club"]["zh_CN"] == "示例银行高净值客户俱乐部"
    redefined = _group("hnw_club", "{brand}财富管理群", "{brand} Wealth Management Circle", ["private_banking"])
    with engine.begin() as conn:
        assert name_groups(conn, keyring, _rules(redefined), NOW)["hnw_club"]["zh_CN"] == "示例银行财富管理群"
    with engine.connect() as conn:
        assert conn.execute(select(CustomerGroup.name_zh)).scalars().all() == ["示例银行财富管理群"]
    engine.dispose()


@pytest.mark.parametrize(("template", "check"), [
    ("{brand}王小明之友", "a customer's name"),
    ("欧阳娜娜贵宾群", "a customer's name"),
    ("热线13812345678专属群", "a customer's mobile number"),
    ("VIP-11010119900307451X", "a customer's ID number"),
])
def test_a_name_carrying_a_customers_personal_data_is_refused(database_url: str, template: str, check: str) -> None:
    keyring = generate_keyring()
    engine = _store(database_url, keyring)
    leaky = _group("leaky", template, "Leaky Circle", ["mass"])
    with pytest.raises(GroupNameError, match=check) as caught, engine.begin() as conn:
        name_groups(conn, keyring, _rules(HNW, leaky), NOW)
    assert template in str(caught.value) and "leaky" in str(caught.value)
    for name, mobile, id_no in PEOPLE:  # the refusal itself names no customer's value
        assert all(v not in str(caught.value).replace(template, "") for v in (name, mobile, id_no))
    with engine.connect() as conn:
        assert conn.execute(select(CustomerGroup.code)).scalars().all() == []  # nothing stored
    engine.dispose()


def test_two_groups_cannot_share_a_name(sqlite_url: str) -> None:
    keyring = generate_keyring()
    engine = _store(sqlite_url, keyring)
    twin = _group("twin", "{brand}高净值客户俱乐部", "Twin Club", ["mass"])
    with pytest.raises(GroupNameError, match="would both be named"), engine.begin() as conn:
        name_groups(conn, keyring, _rules(HNW, twin), NOW)
    engine.dispose()
