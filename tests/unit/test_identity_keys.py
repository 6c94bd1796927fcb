"""Identity rules by configuration: the values each rule compares, normalised as configured."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from stdnum.es import dni

from lifecycle.errors import ConfigError
from lifecycle.integration.identity_keys import (
    IdentityRules,
    name_birth_dates,
    national_ids,
    passports,
    valid_mobiles,
)
from lifecycle.integration.sources import load_sources


def test_the_default_rules_are_unchanged() -> None:
    rules = load_sources().identity
    assert rules.keys("individual") == ("id_no_bidx", "name_mobile_bidx") and rules.keys("corporate") == ("uscc",)
    assert (rules.national_id.validator, rules.phone_region) == ("gb11643", "CN")


@pytest.mark.parametrize(("identity", "named"), [
    ({"national_id": {"validator": "stdnum.xx.nothing"}}, "identity.national_id.validator"),
    ({"national_id": {"validator": "os.path"}}, "identity.national_id.validator"),
    ({"phone_region": "XX"}, "identity.phone_region"),
    ({"individual": ["passport_number"]}, "identity.individual"),
])
def test_an_unknown_validator_region_or_rule_is_refused_at_load(tmp_path: Path, identity: dict[str, object],
                                                                named: str) -> None:
    raw = yaml.safe_load((Path("lifecycle/config/sources.yaml")).read_text(encoding="utf-8"))
    raw["identity"] = identity
    file = tmp_path / "sources.yaml"
    file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_sources(file)


def test_a_stdnum_validator_agrees_with_stdnum_and_skips_passports() -> None:
    frame = pd.DataFrame({"id_no": ["12345678Z", "12345678A", "87654321-X", None, "11223344B"],
                          "id_type": ["NID", None, None, None, "PASSPORT"]})
    found = national_ids(frame, pd.DataFrame(index=frame.index), "stdnum.es.dni")
    assert found.tolist() == ["12345678Z", None, dni.compact("87654321-X"), None, None]
    assert passports(frame).tolist() == [None, None, None, None, "11223344B"]


def test_the_built_in_validator_uses_the_standardisers_checksum_flag() -> None:
    frame = pd.DataFrame({"id_no": ["11010119900307451X", "110101199003074514"]})
    flags = pd.DataFrame({"chk_id_no_checksum": [False, True]})
    found = national_ids(frame, flags, "gb11643")
    assert pd.isna(found[0]) and found[1] == "110101199003074514"


def test_foreign_mobiles_of_any_form_are_one_e164_number_and_cn_mobiles_stay_as_they_are() -> None:
    spanish = pd.Series(["612345678", "+34612345678", "0034612345678", "12345", None])
    assert valid_mobiles(spanish, "ES").tolist() == ["+34612345678"] * 3 + [None, None]
    chinese = valid_mobiles(pd.Series(["13812345678", "12812345678", None]), "CN")
    assert chinese[0] == "13812345678" and chinese[1:].isna().all()


def test_name_and_birth_date_compare_case_folded_names_on_the_day() -> None:
    keys = name_birth_dates(pd.Series(["LUIS PÉREZ GIL", "Luis Pérez Gil", "Luis Pérez Gil", None]),
                            pd.Series(pd.to_datetime(["1970-01-01", "1970-01-01", "1970-01-02", "1970-01-01"])))
    assert keys[0] == keys[1] != keys[2] and keys[3] is None


def test_identity_rules_accept_every_documented_rule() -> None:
    rules = IdentityRules(individual=("id_no", "passport", "email", "customer_key", "name_birth_date",
                                      "name_mobile", "mobile"))
    assert rules.keys("individual")[-3:] == ("name_birth_date_bidx", "name_mobile_bidx", "mobile_bidx")
