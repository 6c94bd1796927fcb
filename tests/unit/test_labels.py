"""Labels of every dimension on hand-made frames: bands, value maps and cases, with their reasons."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lifecycle.errors import ConfigError
from lifecycle.segments.config import LabelRules, load_label_rules
from lifecycle.segments.industry import industry_sections
from lifecycle.segments.labels import label_frame, wide
from lifecycle.segments.service import _regions

RULES = load_label_rules().rules


def _people(**columns: list[object]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, list[object]] = {"customer_id": list(range(1, n + 1)), "customer_type": ["individual"] * n}
    return pd.DataFrame({**base, **columns})


def _labels(frame: pd.DataFrame, label: str) -> dict[int, str]:
    out = label_frame(frame, RULES)
    mine = out[out["label"] == label]
    return dict(zip(mine["customer_id"].astype(int), mine["value"], strict=True))


def test_age_bands_and_life_stage_from_age() -> None:
    frame = _people(age=[19, 25, 34.9, 35, 59, 60, 88, None])
    assert _labels(frame, "age_band") == {1: "under_25", 2: "25_34", 3: "25_34", 4: "35_44", 5: "45_59",
                                         6: "60_plus", 7: "60_plus"}  # no age, no label
    assert _labels(frame, "life_stage") == {1: "starting_out", 2: "starting_out", 3: "building", 4: "building",
                                           5: "established", 6: "retired", 7: "retired"}


def test_gender_is_mapped_and_an_unknown_code_gives_no_label() -> None:
    assert _labels(_people(gender=["M", "F", "X", None]), "gender") == {1: "male", 2: "female"}


def test_financial_status_bands_and_debt_cases_in_order() -> None:
    frame = _people(aum=[0, 49_999.99, 50_000, 6_000_000, float("inf")],
                    max_overdue_days=[0, 10, 0, 0, 0], debt_ratio=[None, 0.9, 0.7, 0.1, None],
                    loans_active=[0, 1, 1, 2, 0])
    assert _labels(frame, "aum_band") == {1: "under_50k", 2: "under_50k", 3: "50k_500k", 4: "6m_plus"}
    assert _labels(frame, "debt") == {1: "no_debt", 2: "overdue", 3: "high_debt", 4: "borrower", 5: "no_debt"}
    reasons = label_frame(frame, RULES).set_index(["customer_id", "label"]).loc[(2, "debt"), "reasons"]
    assert json.loads(reasons) == [{"rule": "debt", "input": "max_overdue_days", "value": 10, "threshold": 0}]


def test_consumption_and_digital_affinity() -> None:
    frame = _people(card_spend_365d=[0, 5_000, 150_000], card_txn_90d=[0, 12, 90], digital_logins_90d=[0, 9, 60])
    assert _labels(frame, "card_spending") == {1: "none", 2: "light", 3: "heavy"}
    assert _labels(frame, "card_frequency") == {1: "rare", 2: "weekly", 3: "daily"}
    assert _labels(frame, "digital_affinity") == {1: "offline", 2: "occasional", 3: "digital_first"}


def test_satisfaction_from_complaints_and_surveys() -> None:
    frame = _people(serious_open_complaints=[1, 0, 0, 0, 0, 0], open_complaints=[1, 1, 0, 0, 0, 0],
                    nps_latest=[10, 10, 3, 9, 7, None])
    assert _labels(frame, "satisfaction") == {1: "at_risk", 2: "unhappy", 3: "unhappy", 4: "promoter", 5: "passive"}


def test_corporate_labels_apply_to_corporates_only() -> None:
    frame = pd.DataFrame({"customer_id": [1, 2, 3], "customer_type": ["corporate", "corporate", "individual"],
                          "registered_capital": [500_000, 20_000_000, 1e9],
                          "industry_section": industry_sections(pd.Series(["C", "6510", "C"])),
                          "tenure_years": [6, 1, 9], "products_held": [3, 1, 5], "loans_active": [0, 1, 0]})
    assert _labels(frame, "company_size") == {1: "micro", 2: "medium"}
    assert _labels(frame, "industry") == {1: "manufacturing", 2: "information_technology"}
    assert _labels(frame, "cooperation") == {1: "core_partner", 2: "borrower"}


def test_industry_sections_follow_gb_t_4754() -> None:
    codes = pd.Series(["A", "c", "C39", "3911", "01", "70", "97", "98", "Z", "F39", None, ""])
    assert industry_sections(codes).tolist() == ["A", "C", "C", "C", "A", "K", "T", None, None, None, None, None]


def test_regions_by_the_longest_branch_prefix() -> None:
    regions = RULES.regions | {"310101": RULES.regions["3301"]}  # a branch-level override
    out = _regions(pd.Series(["310102", "310101", "110105", "9999", None]), regions)
    assert out["region_city"].tolist() == ["上海", "杭州", "北京", None, None]
    frame = _people(region_city_tier=["tier_1", None], region_economic_level=["high", "middle"])
    assert _labels(frame, "city_tier") == {1: "tier_1"} and _labels(frame, "economic_level") == {1: "high",
                                                                                              2: "middle"}


def test_wide_labels_are_columns_for_group_rules() -> None:
    out = wide(label_frame(_people(age=[30, 70], digital_logins_90d=[50, 0]), RULES))
    assert out.loc[1, "label.age_band"] == "25_34" and out.loc[2, "label.digital_affinity"] == "offline"


@pytest.mark.parametrize(("change", "message"), [
    ({"labels": [{"label": "x_band", "dimension": "financial", "input": "aum", "rationale": "ten chars!",
                  "bands": [{"value": "a", "below": 5}, {"value": "b", "below": 1}, {"value": "c"}]}]},
     "bounds must rise"),
    ({"labels": [{"label": "x_band", "dimension": "financial", "input": "aum", "rationale": "ten chars!",
                  "bands": [{"value": "a"}], "values": {"a": "b"}}]}, "exactly one of"),
    ({"groups": [{"code": "leaky", "when": [{"column": "value_tier", "op": "==", "value": "mass"}],
                  "names": {"zh_CN": "{brand}{customer_name}", "en": "x"}, "rationale": "ten chars!"}]},
     "may use only {brand}"),
])
def test_a_bad_labels_file_is_refused_with_the_key(tmp_path, change: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    import yaml

    raw = yaml.safe_load(RULES.model_dump_json()) | change
    file = tmp_path / "labels.yaml"
    file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_label_rules(file)
    assert LabelRules.model_validate(yaml.safe_load(RULES.model_dump_json()))  # the packaged one is valid


def test_occupation_and_income_band_are_mapped_from_the_customer_extract() -> None:
    frame = _people(occupation=["PROFESSIONAL", "STUDENT", "RETIRED", None, "ASTRONAUT"],
                    income_band=["GE_50K", "LT_5K", "10K_20K", "5K_10K", None])
    assert _labels(frame, "occupation") == {1: "professional", 2: "student", 3: "retired"}
    assert _labels(frame, "income_band") == {1: "50k_plus", 2: "under_5k", 3: "10k_20k", 4: "5k_10k"}
    out = label_frame(frame, RULES).set_index(["customer_id", "label"])
    assert json.loads(out.loc[(1, "occupation"), "reasons"]) == [
        {"rule": "occupation", "input": "occupation", "value": "PROFESSIONAL", "threshold": "values"}]
    assert set(out.xs(1, level="customer_id").index) >= {"occupation", "income_band"}
    assert out.loc[(1, "occupation"), "dimension"] == "demographics"


def test_family_life_stage_from_age_marital_status_and_dependants() -> None:
    frame = _people(age=[28, 50, 40, 52, 26, 40, 66, 50, 27, 33, 55],
                    marital_status=["MARRIED", "MARRIED", "MARRIED", "MARRIED", "SINGLE", "DIVORCED", "MARRIED",
                                    None, None, "SINGLE", "SINGLE"],
                    dependants=[2, 1, 0, 0, 0, 0, 0, None, None, None, 1],
                    occupation=["CLERK", "MANAGER", "CLERK", "CLERK", "STUDENT", "SERVICE", "RETIRED", "RETIRED",
                                "CLERK", "CLERK", "CLERK"])
    assert _labels(frame, "life_stage") == {
        1: "young_family", 2: "mature_family", 3: "young_couple", 4: "empty_nest", 5: "young_single",
        6: "single_adult", 7: "retired",
        8: "retired",  # retired by occupation, whatever the age
        9: "starting_out", 10: "building",  # dependants unknown: from age alone
        11: "mature_family"}  # a single parent is a family
    reasons = json.loads(label_frame(frame, RULES).set_index(["customer_id", "label"]).loc[(3, "life_stage"),
                                                                                          "reasons"])
    assert [r["input"] for r in reasons] == ["age", "marital_status", "dependants"]
