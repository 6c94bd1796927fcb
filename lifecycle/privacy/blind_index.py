"""Blind indexes: keyed hashes that let identity resolution match PII without plaintext.

``blind_index(keyring, "mobile", "13812345678")`` is HMAC-SHA256 under a per-purpose
sub-key, truncated to 16 bytes and returned as 32 hex characters. Equal inputs give
equal indexes, so the database can join and look up on them while storing only
ciphertext for the values themselves.

Contract and reasons:

* **Sub-key per purpose.** Each purpose (:data:`PURPOSES`) gets its own key, derived
  with HKDF-SHA256 from the keyring's ``blind_index_key`` (``info`` names the purpose),
  so an ID-number index cannot be compared with a mobile index, and indexes leaked for
  one purpose reveal nothing about another.
* **Callers normalise first.** The index is exact-match on the given string, so the
  standardise step must already have produced canonical forms: resident ID numbers
  upper-case (trailing ``X``), mobiles as 11 digits without ``+86``/spaces, names
  trimmed and in half-width characters, ``name_mobile`` as ``f"{name}|{mobile}"``, card
  numbers digits only, USCC upper-case, emails lower-case. Missing values and empty
  strings give ``None``: an index on "" would make every blank match every other.
* **Truncation to 128 bits.** For 10⁸ distinct values the chance of any collision is
  about n²/2¹²⁹ ≈ 10⁻²³: negligible, and it halves index storage.
* **Brute force.** Mobiles (~10⁹ candidates) and ID numbers (~10¹¹ plausible) are low
  entropy: anyone holding the blind-index key can hash every candidate in hours. The key
  therefore lives with the master keys, outside the database; a database dump alone
  does not reveal them. Delete a customer's indexes on erasure.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Final

import pandas as pd
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lifecycle.privacy.keyring import Keyring

__all__ = ["INDEX_HEX_CHARS", "PURPOSES", "blind_index", "blind_index_series"]

PURPOSES: Final = frozenset({"id_no", "mobile", "name", "name_mobile", "card_no", "uscc", "email", "passport",
                              "customer_key", "name_birth_date"})
INDEX_BYTES: Final = 16
INDEX_HEX_CHARS: Final = 2 * INDEX_BYTES
_INFO_PREFIX = b"lifecycle/blind-index/v1/"
_SHA256_BLOCK = 64


@lru_cache(maxsize=32)
def _sub_key(blind_index_key: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO_PREFIX + purpose.encode()
    ).derive(blind_index_key)


class _KeyedSha256:
    """HMAC-SHA256 (RFC 2104) with the keyed inner and outer states computed once.

    Equal to ``hmac.new(key, value, "sha256").digest()``; copying the two precomputed
    ``hashlib`` states per value is what ``hmac.HMAC.copy()`` does, without the Python
    wrapper, and about twice as fast.
    """

    def __init__(self, key: bytes) -> None:
        block = key.ljust(_SHA256_BLOCK, b"\0")  # sub-keys are 32 bytes, below one block
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def index(self, value: str) -> str:
        return self.indexes([value])[0]

    def indexes(self, values: list[str]) -> list[str]:
        inner_state, outer_state = self._inner, self._outer
        out: list[str] = []
        for value in values:
            inner = inner_state.copy()
            inner.update(value.encode())
            outer = outer_state.copy()
            outer.update(inner.digest())
            out.append(outer.digest()[:INDEX_BYTES].hex())
        return out


def _keyed(keyring: Keyring, purpose: str) -> _KeyedSha256:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown blind index purpose {purpose!r}; expected one of "
                         f"{sorted(PURPOSES)}")
    return _KeyedSha256(_sub_key(keyring.blind_index_key, purpose))


def _usable(value: object, purpose: str) -> str | None:
    """The value to index, ``None`` when missing or empty; TypeError for non-strings."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, float) and value != value:
        return None
    # Name the type only: the value may be PII.
    raise TypeError(f"blind index {purpose!r} needs normalised strings, got "
                    f"{type(value).__name__}")


def blind_index(keyring: Keyring, purpose: str, value: str | None) -> str | None:
    """The 32-hex-character blind index of ``value`` for ``purpose``; ``None`` if missing."""
    keyed = _keyed(keyring, purpose)
    usable = _usable(value, purpose)
    return None if usable is None else keyed.index(usable)


def blind_index_series(keyring: Keyring, purpose: str, values: pd.Series) -> pd.Series:
    """Blind indexes of a Series, same index and name, object dtype, ``None`` where missing.

    Each distinct value is hashed once (repeated mobiles, shared addresses), copying one
    precomputed keyed state instead of re-keying per value.
    """
    keyed = _keyed(keyring, purpose)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    usable = [_usable(value, purpose) for value in pd.Index(uniques).tolist()]
    present = [value for value in usable if value is not None]
    hashed = iter(keyed.indexes(present))
    by_code: list[str | None] = [None if value is None else next(hashed) for value in usable]
    by_code.append(None)  # code -1 (missing) picks this slot
    out = [by_code[code] for code in codes.tolist()]
    return pd.Series(out, index=values.index, name=values.name, dtype=object)
