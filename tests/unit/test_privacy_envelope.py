"""Envelope encryption: data keys wrapped per customer under versioned master keys."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.errors import DecryptionError, KeyringError
from lifecycle.privacy.envelope import (
    WRAPPED_KEY_BYTES,
    new_data_keys,
    rewrap_data_key,
    rewrap_data_keys,
    unwrap_data_key,
    unwrap_data_keys,
    wrap_data_key,
    wrap_data_keys,
    wrapped_key_version,
)
from lifecycle.privacy.keyring import generate_keyring


def test_new_data_keys_are_32_random_bytes_each() -> None:
    keys = new_data_keys(100)
    assert len(keys) == 100 and {len(k) for k in keys} == {32} and len(set(keys)) == 100
    assert new_data_keys(0) == []


def test_wrap_round_trip_and_layout() -> None:
    keyring = generate_keyring().with_new_version()
    dek = new_data_keys(1)[0]
    wrapped = wrap_data_key(keyring, dek, 42)
    assert len(wrapped) == WRAPPED_KEY_BYTES and wrapped[0] == 0x01
    assert wrapped_key_version(wrapped) == 2 == int.from_bytes(wrapped[1:3], "big")
    assert dek not in wrapped
    assert unwrap_data_key(keyring, wrapped, 42) == dek


def test_wrapping_twice_gives_different_bytes() -> None:
    keyring = generate_keyring()
    dek = new_data_keys(1)[0]
    assert wrap_data_key(keyring, dek, 1) != wrap_data_key(keyring, dek, 1)


def test_wrapped_key_of_another_customer_fails_naming_the_customer() -> None:
    keyring = generate_keyring()
    wrapped = wrap_data_key(keyring, new_data_keys(1)[0], 42)
    with pytest.raises(DecryptionError) as err:
        unwrap_data_key(keyring, wrapped, 43)
    assert err.value.customer_id == 43 and "customer_id=43" in str(err.value)


def test_wrong_master_key_fails_with_decryption_error() -> None:
    wrapped = wrap_data_key(generate_keyring(), new_data_keys(1)[0], 42)
    with pytest.raises(DecryptionError, match="master key version 1"):
        unwrap_data_key(generate_keyring(), wrapped, 42)


def test_missing_master_version_is_a_keyring_error_naming_it() -> None:
    old = generate_keyring()
    wrapped = wrap_data_key(old, new_data_keys(1)[0], 42)
    retired = old.with_new_version().without_version(1)
    with pytest.raises(KeyringError, match="master key version 1 is not in the keyring") as err:
        unwrap_data_key(retired, wrapped, 42)
    assert not isinstance(err.value, DecryptionError)


def test_altered_header_version_fails_even_when_that_version_exists() -> None:
    keyring = generate_keyring().with_new_version()
    wrapped = bytearray(wrap_data_key(keyring, new_data_keys(1)[0], 42))
    wrapped[2] = 1  # claim version 1; the header is authenticated
    with pytest.raises(DecryptionError):
        unwrap_data_key(keyring, bytes(wrapped), 42)


def test_tampered_or_truncated_wrapped_key_fails() -> None:
    keyring = generate_keyring()
    wrapped = wrap_data_key(keyring, new_data_keys(1)[0], 42)
    flipped = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(DecryptionError):
        unwrap_data_key(keyring, flipped, 42)
    with pytest.raises(DecryptionError, match="not a wrapped data key"):
        unwrap_data_key(keyring, wrapped[:-1], 42)


def test_rewrap_moves_to_the_active_version_and_still_unwraps() -> None:
    keyring = generate_keyring()
    dek = new_data_keys(1)[0]
    wrapped = wrap_data_key(keyring, dek, 7)
    rotated = keyring.with_new_version()
    rewrapped = rewrap_data_key(rotated, wrapped, 7)
    assert wrapped_key_version(rewrapped) == 2
    assert unwrap_data_key(rotated.without_version(1), rewrapped, 7) == dek


def test_bulk_rewrap_leaves_current_keys_untouched() -> None:
    keyring = generate_keyring()
    deks = new_data_keys(4)
    ids = [1, 2, 3, 4]
    old = wrap_data_keys(keyring, deks[:2], ids[:2])
    rotated = keyring.with_new_version()
    current = wrap_data_keys(rotated, deks[2:], ids[2:])
    out = rewrap_data_keys(rotated, old + current, ids)
    assert [wrapped_key_version(w) for w in out] == [2, 2, 2, 2]
    assert out[2:] == current  # idempotent: a re-run of the rotation changes nothing
    assert rewrap_data_keys(rotated, out, ids) == out
    assert unwrap_data_keys(rotated.without_version(1), out, ids) == deks


def test_bulk_forms_accept_numpy_ids_and_memoryview_blobs() -> None:
    keyring = generate_keyring()
    deks = new_data_keys(3)
    ids = np.array([10, 20, 30], dtype=np.int64)
    wrapped = wrap_data_keys(keyring, deks, list(ids))
    assert unwrap_data_keys(keyring, [memoryview(w) for w in wrapped], list(ids)) == deks


def test_misaligned_bulk_input_and_bad_key_length_are_refused() -> None:
    keyring = generate_keyring()
    with pytest.raises(ValueError, match="2 data keys but 1 customer ids"):
        wrap_data_keys(keyring, new_data_keys(2), [1])
    with pytest.raises(KeyringError, match="must be 32 bytes, got 16"):
        wrap_data_key(keyring, bytes(16), 1)
