"""The batch engine behind field encryption: byte compatibility with the documented layout,
and the paths the fast path skips (missing values, repeated customers, odd generations)."""

from __future__ import annotations

import pandas as pd
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lifecycle.errors import KeyringError
from lifecycle.privacy._field_batch import _CHUNK_ROWS, decrypt_columns, encrypt_columns
from lifecycle.privacy.envelope import new_data_keys
from lifecycle.privacy.fields import decrypt_field, encrypt_field

DEK = new_data_keys(1)[0]


def _aad(table: str, column: str, customer_id: int, header: bytes) -> bytes:
    return f"{table}|{column}|{customer_id}|".encode() + header


def test_ciphertext_follows_the_documented_layout_and_associated_data() -> None:
    blob = encrypt_field(DEK, "13812345678", table="customers", column="mobile",
                         customer_id=42, generation=7)
    assert blob is not None
    header, nonce, sealed = blob[:2], blob[2:14], blob[14:]
    assert header == b"\x01\x07"
    plain = AESGCM(DEK).decrypt(nonce, sealed, _aad("customers", "mobile", 42, header))
    assert plain == b"13812345678"


def test_ciphertext_built_by_hand_from_the_layout_decrypts() -> None:
    header, nonce = b"\x01\x03", bytes(range(12))
    sealed = AESGCM(DEK).encrypt(nonce, "张三".encode(), _aad("customers", "name", 7, header))
    assert decrypt_field(DEK, header + nonce + sealed, table="customers", column="name",
                         customer_id=7) == "张三"


@pytest.mark.parametrize("generation", [0, 1, ord("%"), ord("d"), 255])
def test_every_generation_byte_round_trips(generation: int) -> None:
    blob = encrypt_field(DEK, "x", table="t", column="c", customer_id=5, generation=generation)
    assert blob is not None and blob[1] == generation
    assert AESGCM(DEK).decrypt(blob[2:14], blob[14:], _aad("t", "c", 5, blob[:2])) == b"x"


def test_columns_with_and_without_missing_values_in_one_batch() -> None:
    n = _CHUNK_ROWS + 37
    ids = list(range(1000, 1000 + n))
    deks = new_data_keys(n)
    full = [f"m{i}" for i in range(n)]
    holes: list[object] = [None if i % 3 else f"e{i}" for i in range(n)]
    holes[n - 1] = pd.NA
    blobs = encrypt_columns(ids, deks, [full, holes], ["mobile", "email"], "customers", 1)
    assert [b is None for b in blobs[1]] == [v is None or v is pd.NA for v in holes]
    back = decrypt_columns(ids, deks, blobs, ["mobile", "email"], "customers")
    assert back[0] == full
    assert back[1] == [v if isinstance(v, str) else None for v in holes]
    nonces = [b[2:14] for column in blobs for b in column if b is not None]
    assert len(set(nonces)) == len(nonces)


def test_non_text_in_a_later_chunk_is_refused_naming_the_column() -> None:
    n = _CHUNK_ROWS + 2
    values: list[object] = ["v"] * n
    values[-1] = 13812345678
    with pytest.raises(TypeError, match=r"customers\.mobile: .* int") as err:
        encrypt_columns(list(range(n)), new_data_keys(n), [values], ["mobile"], "customers", 1)
    assert "13812345678" not in str(err.value)


def test_repeated_customers_share_their_key_within_a_chunk() -> None:
    keys = new_data_keys(3)
    ids = [1, 2, 1, 3, 2, 1]
    deks = [keys[i - 1] for i in ids]
    blobs = encrypt_columns(ids, deks, [[f"v{i}" for i in range(6)]], ["c"], "t", 1)[0]
    for i, (customer_id, blob) in enumerate(zip(ids, blobs, strict=True)):
        assert decrypt_field(keys[customer_id - 1], blob, table="t", column="c",
                             customer_id=customer_id) == f"v{i}"


def test_a_bad_key_names_its_customer_among_good_ones() -> None:
    ids = [10, 11, 12]
    deks: list[object] = [DEK, "k" * 32, DEK]
    with pytest.raises(KeyringError, match="customer 11"):
        encrypt_columns(ids, deks, [["a", "b", "c"]], ["c"], "t", 1)  # type: ignore[arg-type]
