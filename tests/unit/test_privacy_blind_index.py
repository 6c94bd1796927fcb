"""Blind indexes: deterministic keyed hashes, separated by purpose and key, NA-preserving."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from lifecycle.privacy.blind_index import INDEX_HEX_CHARS, PURPOSES, blind_index, blind_index_series
from lifecycle.privacy.keyring import generate_keyring

KEYRING = generate_keyring()


def test_index_is_deterministic_32_hex_chars() -> None:
    first = blind_index(KEYRING, "mobile", "13812345678")
    assert first == blind_index(KEYRING, "mobile", "13812345678")
    assert first is not None and len(first) == INDEX_HEX_CHARS == 32
    int(first, 16)
    assert blind_index(KEYRING, "mobile", "13812345679") != first


def test_index_is_not_a_plain_hash_of_the_value() -> None:
    value = "13812345678"
    plain = hashlib.sha256(value.encode()).hexdigest()[:32]
    unkeyed_sub = hmac.new(KEYRING.blind_index_key, value.encode(), hashlib.sha256).hexdigest()[:32]
    assert blind_index(KEYRING, "mobile", value) not in {plain, unkeyed_sub}


def test_purposes_give_unrelated_indexes() -> None:
    indexes = {blind_index(KEYRING, purpose, "110101199003074514") for purpose in PURPOSES}
    assert len(indexes) == len(PURPOSES) == 10


def test_another_key_gives_another_index_and_rotating_master_keys_does_not() -> None:
    assert blind_index(generate_keyring(), "id_no", "X") != blind_index(KEYRING, "id_no", "X")
    assert blind_index(KEYRING.with_new_version(), "id_no", "X") == blind_index(KEYRING, "id_no", "X")


def test_missing_and_empty_values_have_no_index() -> None:
    assert blind_index(KEYRING, "email", None) is None
    assert blind_index(KEYRING, "email", "") is None


def test_unknown_purpose_and_non_text_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown blind index purpose 'phone'"):
        blind_index(KEYRING, "phone", "13812345678")
    with pytest.raises(TypeError) as err:
        blind_index_series(KEYRING, "mobile", pd.Series([13812345678]))
    assert "13812345678" not in str(err.value)


@pytest.mark.parametrize("dtype", [object, "string", "str"])
def test_series_matches_scalar_keeps_index_and_leaves_na_missing(dtype: object) -> None:
    values = pd.Series(["13812345678", None, "13912345678", "13812345678", ""], index=list("abcde"),
                       name="mobile", dtype=dtype)
    out = blind_index_series(KEYRING, "mobile", values)
    assert list(out.index) == list("abcde") and out.name == "mobile"
    assert out.isna().tolist() == [False, True, False, False, True]
    assert out["a"] == out["d"] == blind_index(KEYRING, "mobile", "13812345678")
    assert out["c"] == blind_index(KEYRING, "mobile", "13912345678")


def test_series_of_only_missing_values() -> None:
    out = blind_index_series(KEYRING, "id_no", pd.Series([None, float("nan"), pd.NA], dtype=object))
    assert out.isna().all() and len(out) == 3


def test_index_is_truncated_hmac_sha256_under_the_hkdf_sub_key() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    sub_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"lifecycle/blind-index/v1/name_mobile").derive(KEYRING.blind_index_key)
    value = "张三|13812345678"
    expected = hmac.new(sub_key, value.encode(), hashlib.sha256).digest()[:16].hex()
    assert blind_index(KEYRING, "name_mobile", value) == expected
    assert blind_index_series(KEYRING, "name_mobile", pd.Series([value])).tolist() == [expected]
