"""Field encryption: round trips, and ciphertext that cannot be moved between rows,
columns or tables."""

from __future__ import annotations

import math
from typing import TypedDict

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecycle.errors import DecryptionError, KeyringError
from lifecycle.privacy._field_batch import _CHUNK_ROWS
from lifecycle.privacy.envelope import new_data_keys
from lifecycle.privacy.fields import (
    FIELD_OVERHEAD,
    bench_encrypt,
    decrypt_column,
    decrypt_field,
    decrypt_frame,
    encrypt_column,
    encrypt_field,
    encrypt_frame,
    field_key_generation,
)


class Where(TypedDict):
    table: str
    column: str
    customer_id: int


DEK, OTHER_DEK = new_data_keys(2)
WHERE: Where = {"table": "customers", "column": "mobile", "customer_id": 42}


@settings(deadline=None)  # timing varies on shared machines
@given(st.text(max_size=200))
def test_any_text_round_trips(value: str) -> None:
    blob = encrypt_field(DEK, value, **WHERE)
    assert blob is not None and len(blob) == FIELD_OVERHEAD + len(value.encode())
    assert decrypt_field(DEK, blob, **WHERE) == value


def test_layout_carries_format_and_generation_and_hides_plaintext() -> None:
    blob = encrypt_field(DEK, "13812345678", **WHERE, generation=3)
    assert blob is not None and blob[0] == 0x01 and field_key_generation(blob) == 3
    assert b"13812345678" not in blob
    assert encrypt_field(DEK, "13812345678", **WHERE) != encrypt_field(DEK, "13812345678", **WHERE)


def test_none_stays_none_and_empty_string_is_a_value() -> None:
    assert encrypt_field(DEK, None, **WHERE) is None
    assert decrypt_field(DEK, None, **WHERE) is None
    assert decrypt_field(DEK, encrypt_field(DEK, "", **WHERE), **WHERE) == ""


@pytest.mark.parametrize(
    "moved",
    [
        Where(table="customers", column="mobile", customer_id=43),  # another customer's row
        Where(table="customers", column="id_no", customer_id=42),  # another column
        Where(table="customer_history", column="mobile", customer_id=42),  # another table
    ],
)
def test_ciphertext_moved_elsewhere_fails_naming_the_place(moved: Where) -> None:
    blob = encrypt_field(DEK, "13812345678", **WHERE)
    with pytest.raises(DecryptionError) as err:
        decrypt_field(DEK, blob, **moved)
    assert (err.value.table, err.value.column, err.value.customer_id) == (
        moved["table"], moved["column"], moved["customer_id"])
    assert "13812345678" not in str(err.value)


def test_wrong_data_key_tampering_and_altered_generation_fail() -> None:
    blob = encrypt_field(DEK, "13812345678", **WHERE)
    assert blob is not None
    with pytest.raises(DecryptionError):
        decrypt_field(OTHER_DEK, blob, **WHERE)
    with pytest.raises(DecryptionError):
        decrypt_field(DEK, blob[:-1] + bytes([blob[-1] ^ 0x80]), **WHERE)
    with pytest.raises(DecryptionError):
        decrypt_field(DEK, blob[:1] + b"\x02" + blob[2:], **WHERE)  # the header is authenticated
    with pytest.raises(DecryptionError):
        decrypt_field(DEK, blob[:10], **WHERE)


def test_column_round_trip_with_missing_values_and_per_row_keys() -> None:
    values = ["张三", None, "", float("nan"), pd.NA, "欧阳娜娜"]
    deks = new_data_keys(len(values))
    ids = list(range(100, 100 + len(values)))
    blobs = encrypt_column(values, deks, ids, table="customers", column="name")
    assert [b is None for b in blobs] == [False, True, False, True, True, False]
    back = decrypt_column(blobs, deks, ids, table="customers", column="name")
    assert back == ["张三", None, "", None, None, "欧阳娜娜"]
    swapped = [blobs[5], None, blobs[2], None, None, blobs[0]]
    with pytest.raises(DecryptionError) as err:
        decrypt_column(swapped, deks, ids, table="customers", column="name")
    assert err.value.customer_id == 100


def test_non_text_values_are_refused_without_quoting_them() -> None:
    with pytest.raises(TypeError) as err:
        encrypt_column([13812345678], [DEK], [1], table="customers", column="mobile")
    assert "int" in str(err.value) and "13812345678" not in str(err.value)


def test_bad_names_and_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="must not contain"):
        encrypt_field(DEK, "x", table="a|b", column="c", customer_id=1)
    with pytest.raises(KeyringError, match="customer 1"):
        encrypt_field(bytes(16), "x", table="t", column="c", customer_id=1)


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [1, 2, 3, 1],
        "name": ["张三", "李四", None, "张三"],
        "mobile": ["13812345678", None, "13912345678", "13700000000"],
        "aum": [12345.67, 0.0, 5.5, 1.0],
    }, index=[10, 11, 12, 13])


def test_frame_replaces_pii_columns_by_ciphertext_and_decrypts_back() -> None:
    frame = _frame()
    deks = dict(zip([1, 2, 3], new_data_keys(3), strict=True))
    enc = encrypt_frame(frame, ["name", "mobile"], deks, "customer_id", "customers")
    assert list(enc.columns) == ["customer_id", "aum", "name_enc", "mobile_enc"]
    assert list(enc.index) == [10, 11, 12, 13]
    assert enc.loc[12, "name_enc"] is None and isinstance(enc.loc[10, "mobile_enc"], bytes)
    assert decrypt_field(deks[1], enc.loc[13, "mobile_enc"], table="customers", column="mobile",
                         customer_id=1) == "13700000000"
    back = decrypt_frame(enc, ["name", "mobile"], deks, "customer_id", "customers")
    assert list(back.columns) == ["customer_id", "aum", "name", "mobile"]
    assert back["name"].tolist() == ["张三", "李四", None, "张三"]
    assert back["mobile"].tolist() == ["13812345678", None, "13912345678", "13700000000"]
    assert back["aum"].tolist() == frame["aum"].tolist()


def test_frame_cell_swapped_between_columns_fails() -> None:
    deks = dict(zip([1, 2, 3], new_data_keys(3), strict=True))
    enc = encrypt_frame(_frame(), ["name", "mobile"], deks, "customer_id", "customers")
    enc.loc[10, "name_enc"] = enc.loc[10, "mobile_enc"]
    with pytest.raises(DecryptionError) as err:
        decrypt_frame(enc, ["name", "mobile"], deks, "customer_id", "customers")
    assert (err.value.column, err.value.customer_id) == ("name", 1)


def test_frame_without_a_customer_key_names_the_customer() -> None:
    deks = dict(zip([1, 2], new_data_keys(2), strict=True))
    with pytest.raises(KeyringError, match="no data key for customer 3"):
        encrypt_frame(_frame(), ["name"], deks, "customer_id", "customers")


def test_bench_reports_a_throughput() -> None:
    result = bench_encrypt(200)
    assert result["fields"] == 1200 and result["fields_per_second"] > 0
    assert math.isclose(result["fields"] / result["seconds"], result["fields_per_second"])


def test_str_subclasses_such_as_numpy_strings_are_text() -> None:
    import numpy as np

    blob = encrypt_column([np.str_("13812345678")], [DEK], [42], table="customers", column="mobile")[0]
    assert decrypt_field(DEK, blob, **WHERE) == "13812345678"


def test_batches_longer_than_one_chunk_round_trip() -> None:
    n = 2 * _CHUNK_ROWS + 123
    ids = list(range(n))
    deks = new_data_keys(n)
    values = [None if i % 1000 == 0 else f"v{i}" for i in ids]
    blobs = encrypt_column(values, deks, ids, table="t", column="c")
    assert len({b for b in blobs if b is not None}) == n - len(range(0, n, 1000))
    assert decrypt_column(blobs, deks, ids, table="t", column="c") == values
