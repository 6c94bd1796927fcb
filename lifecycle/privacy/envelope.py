"""Envelope encryption of per-customer data keys (DEKs) under versioned master keys.

Each customer has a random 256-bit data key that encrypts their PII fields
(:mod:`lifecycle.privacy.fields`). Only the *wrapped* data key is stored, encrypted
with AES-256-GCM under the keyring's active master key. Erasing a customer means
deleting their wrapped key (crypto-shredding): their ciphertexts, including those in
backups, can then never be decrypted again.

Wrapped key layout (63 bytes)::

    format (1 byte, 0x01) | master version (2 bytes, big-endian) | nonce (12) | ciphertext+tag (48)

The associated data is ``b"dek|<customer_id>|"`` followed by the 3-byte header, so a
wrapped key moved to another customer fails to unwrap, and so does a header whose
version or format byte was altered.

Rotation: ``with_new_version`` on the keyring, then ``rewrap_data_keys`` over the stored
wrapped keys (idempotent: keys already under the active version are returned as they
are), then ``without_version`` retires the old master key.

The bulk forms build one ``AESGCM`` per master version and draw all nonces with one
``os.urandom`` call; use them for batches, the single forms for one customer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lifecycle.errors import DecryptionError, KeyringError
from lifecycle.privacy.keyring import KEY_BYTES, Keyring

__all__ = [
    "WRAPPED_KEY_BYTES",
    "new_data_keys",
    "rewrap_data_key",
    "rewrap_data_keys",
    "unwrap_data_key",
    "unwrap_data_keys",
    "wrap_data_key",
    "wrap_data_keys",
    "wrapped_key_version",
]

_FORMAT = 0x01
_NONCE = 12
_HEADER = 3
WRAPPED_KEY_BYTES = _HEADER + _NONCE + KEY_BYTES + 16

Blob = bytes | bytearray | memoryview  # database drivers may hand back any of these


def new_data_keys(n: int) -> list[bytes]:
    """``n`` fresh random 32-byte data keys, drawn with a single ``os.urandom`` call."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    pool = os.urandom(KEY_BYTES * n)
    return [pool[i : i + KEY_BYTES] for i in range(0, KEY_BYTES * n, KEY_BYTES)]


def _header(version: int) -> bytes:
    return bytes((_FORMAT,)) + version.to_bytes(2, "big")


def _aad(header: bytes, customer_id: int) -> bytes:
    return b"dek|%d|" % int(customer_id) + header


def wrapped_key_version(wrapped: Blob) -> int:
    """The master key version a wrapped data key was made with (from its header)."""
    if len(wrapped) != WRAPPED_KEY_BYTES or wrapped[0] != _FORMAT:
        raise DecryptionError(
            f"not a wrapped data key (expected {WRAPPED_KEY_BYTES} bytes with format "
            f"0x{_FORMAT:02x}, got {len(wrapped)} bytes)"
        )
    return int.from_bytes(wrapped[1:3], "big")


def _version_of(blob: Blob, customer_id: int) -> int:
    try:
        return wrapped_key_version(blob)
    except DecryptionError as exc:
        raise DecryptionError(exc.message, customer_id=int(customer_id)) from None


def wrap_data_keys(
    keyring: Keyring, deks: Sequence[bytes], customer_ids: Sequence[int]
) -> list[bytes]:
    """Wrap each data key under the active master key, bound to its customer id."""
    if len(deks) != len(customer_ids):
        raise ValueError(f"{len(deks)} data keys but {len(customer_ids)} customer ids")
    header = _header(keyring.active_version)
    aead = AESGCM(keyring.active_key)
    nonces = os.urandom(_NONCE * len(deks))
    out: list[bytes] = []
    for i, (dek, customer_id) in enumerate(zip(deks, customer_ids, strict=True)):
        if len(dek) != KEY_BYTES:
            raise KeyringError(
                f"data key of customer {customer_id} must be {KEY_BYTES} bytes, got {len(dek)}"
            )
        nonce = nonces[i * _NONCE : (i + 1) * _NONCE]
        out.append(header + nonce + aead.encrypt(nonce, dek, _aad(header, customer_id)))
    return out


def unwrap_data_keys(
    keyring: Keyring, wrapped: Sequence[Blob], customer_ids: Sequence[int]
) -> list[bytes]:
    """Unwrap each key with the master version named in its header.

    Raises :class:`KeyringError` naming the version when the keyring lacks it, and
    :class:`DecryptionError` naming the customer when authentication fails (wrong or
    replaced master key, tampering, or a wrapped key of another customer).
    """
    if len(wrapped) != len(customer_ids):
        raise ValueError(f"{len(wrapped)} wrapped keys but {len(customer_ids)} customer ids")
    aeads: dict[int, AESGCM] = {}
    out: list[bytes] = []
    for stored, customer_id in zip(wrapped, customer_ids, strict=True):
        blob = bytes(stored)  # drivers may return memoryview for binary columns
        version = _version_of(blob, customer_id)
        aead = aeads.get(version)
        if aead is None:
            aead = aeads[version] = AESGCM(keyring.master_key(version))
        header = blob[:_HEADER]
        try:
            out.append(aead.decrypt(blob[_HEADER : _HEADER + _NONCE], blob[_HEADER + _NONCE :],
                                    _aad(header, customer_id)))
        except InvalidTag:
            raise DecryptionError(
                f"cannot unwrap data key with master key version {version}: wrong master "
                "key, tampered value, or a key wrapped for another customer",
                customer_id=int(customer_id),
            ) from None
    return out


def rewrap_data_keys(
    keyring: Keyring, wrapped: Sequence[Blob], customer_ids: Sequence[int]
) -> list[bytes]:
    """Re-wrap keys under the active master version; keys already there pass unchanged.

    Leaving current keys untouched makes a rotation job safe to re-run.
    """
    if len(wrapped) != len(customer_ids):
        raise ValueError(f"{len(wrapped)} wrapped keys but {len(customer_ids)} customer ids")
    active = keyring.active_version
    stale = [
        i
        for i, (blob, customer_id) in enumerate(zip(wrapped, customer_ids, strict=True))
        if _version_of(blob, customer_id) != active
    ]
    stale_ids = [customer_ids[i] for i in stale]
    deks = unwrap_data_keys(keyring, [wrapped[i] for i in stale], stale_ids)
    out = [bytes(blob) for blob in wrapped]
    for i, blob in zip(stale, wrap_data_keys(keyring, deks, stale_ids), strict=True):
        out[i] = blob
    return out


def wrap_data_key(keyring: Keyring, dek: bytes, customer_id: int) -> bytes:
    """Wrap one data key under the active master key, bound to ``customer_id``."""
    return wrap_data_keys(keyring, [dek], [customer_id])[0]


def unwrap_data_key(keyring: Keyring, wrapped: Blob, customer_id: int) -> bytes:
    """Unwrap one data key; see :func:`unwrap_data_keys` for the errors."""
    return unwrap_data_keys(keyring, [wrapped], [customer_id])[0]


def rewrap_data_key(keyring: Keyring, wrapped: Blob, customer_id: int) -> bytes:
    """Re-wrap one data key under the active master version (for rotation)."""
    return rewrap_data_keys(keyring, [wrapped], [customer_id])[0]
