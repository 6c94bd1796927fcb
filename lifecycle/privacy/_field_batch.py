"""The batch engine behind :mod:`lifecycle.privacy.fields` (private; import ``fields``).

Layout and associated data are documented in :mod:`lifecycle.privacy.fields`. Nearly all
the time goes to ``AESGCM(key)`` (one per customer: two OpenSSL contexts, ~2.4 KB) and
``AESGCM.encrypt`` (one per field); the rest is kept to a few C-level passes per column:

* ``AESGCM(key)`` is built once per distinct data key per chunk of rows and reused for
  every column of the chunk; chunks (``_CHUNK_ROWS``) bound the memory those hold.
* Nonces come from one ``os.urandom`` call per chunk; numpy cuts it into the 12-byte
  nonces and, in the same pass, into the 14-byte ``header + nonce`` ciphertext prefixes,
  so sealing a field is a single ``+``.
* Text is encoded by ``map(str.encode, ...)``; only a column chunk holding missing or
  non-text values takes the per-value path (:func:`_plain_bytes`).
* Encryption is ``map`` over ``AESGCM.encrypt``; associated data and sealing are list
  comprehensions (measured faster than ``map`` over ``bytes.__add__``/bound ``__add__``).

The garbage collector does not run during a batch (``AESGCM``, ``bytes`` and ``str`` are
not GC-tracked), so there is nothing to gain from disabling or freezing it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat
from typing import cast

import numpy as np
import pandas as pd
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lifecycle.errors import DecryptionError, KeyringError

__all__ = ["FIELD_OVERHEAD", "decrypt_columns", "encrypt_columns", "field_key_generation"]

_FORMAT = 0x01
_NONCE = 12
_HEADER = 2
FIELD_OVERHEAD = _HEADER + _NONCE + 16
_CHUNK_ROWS = 4096  # 4096 AESGCM objects ≈ 10 MB; 512..2048 measured no faster
_KEY_BYTES = 32

Value = str | None


@lru_cache(maxsize=1024)
def _prefix(table: str, column: str) -> bytes:
    if "|" in table or "|" in column:
        raise ValueError(f"table and column names must not contain '|': {table}.{column}")
    return f"{table}|{column}|".encode()


def _header(generation: int) -> bytes:
    if not 0 <= generation <= 255:
        raise ValueError(f"data-key generation must be within 0..255, got {generation}")
    return bytes((_FORMAT, generation))


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, float) and math.isnan(value)
    )


def _not_text(value: object, table: str, column: str) -> TypeError:
    # Name the type, never the value: it may be PII.
    return TypeError(f"{table}.{column}: expected str or missing, got {type(value).__name__}")


def field_key_generation(ciphertext: bytes) -> int:
    """The data-key generation recorded in a field ciphertext's header."""
    if len(ciphertext) < FIELD_OVERHEAD or ciphertext[0] != _FORMAT:
        raise DecryptionError("not a field ciphertext (bad length or format byte)")
    return ciphertext[1]


def _sealing_parts(n: int, header: bytes) -> tuple[list[bytes], list[bytes]]:
    """``n`` random nonces, and each nonce behind ``header`` (the ciphertext's first 14 bytes).

    One ``os.urandom`` call; numpy cuts it into ``bytes`` (and writes the headers) far faster
    than slicing or concatenating in a Python loop, so sealing is one ``+`` per field.
    """
    random = os.urandom(_NONCE * n)
    heads = np.empty((n, _HEADER + _NONCE), dtype=np.uint8)
    heads[:, :_HEADER] = np.frombuffer(header, dtype=np.uint8)
    heads[:, _HEADER:] = np.frombuffer(random, dtype=np.uint8).reshape(n, _NONCE)
    nonces: list[bytes] = np.frombuffer(random, dtype=f"V{_NONCE}").tolist()
    headed: list[bytes] = heads.view(f"V{_HEADER + _NONCE}").ravel().tolist()
    return nonces, headed


def _aeads_for(deks: Sequence[bytes], customer_ids: Sequence[int], table: str) -> list[AESGCM]:
    """One AESGCM per row, built once per distinct data key in the batch.

    ``AESGCM(key)`` costs about two encryptions and holds ~2.4 KB, hence chunked batches.
    """
    distinct = dict.fromkeys(deks)
    if not all(map(isinstance, distinct, repeat(bytes))) or {*map(len, distinct)} != {_KEY_BYTES}:
        for dek in distinct:
            if not isinstance(dek, bytes) or len(dek) != _KEY_BYTES:
                customer_id = customer_ids[list(deks).index(dek)]
                raise KeyringError(f"data key of customer {customer_id} ({table}) is not "
                                   f"{_KEY_BYTES} bytes")
    if len(distinct) == len(deks):  # the usual case: each customer once per chunk
        return list(map(AESGCM, deks))
    built = {dek: AESGCM(dek) for dek in distinct}
    return list(map(built.__getitem__, deks))


def _plain_bytes(values: Sequence[object], table: str, column: str) -> list[bytes | None]:
    """UTF-8 of each ``str``, ``None`` for each missing value; anything else is refused."""
    out = [value.encode() if isinstance(value, str) else None for value in values]
    for value in [value for value in values if not isinstance(value, str)]:
        if not _is_missing(value):
            raise _not_text(value, table, column)
    return out


def _seal(
    aeads: list[AESGCM], tails: list[bytes], datas: list[bytes], nonces: list[bytes],
    headed: list[bytes], prefix: bytes,
) -> list[bytes | None]:
    """``header | nonce | ct+tag`` of each ``datas[i]``, bound to ``prefix + tails[i]``.

    ``headed[i]`` is ``header + nonces[i]``.
    """
    aads = [prefix + tail for tail in tails]
    cts = list(map(AESGCM.encrypt, aeads, nonces, datas, aads))
    return [head + ct for head, ct in zip(headed, cts, strict=True)]


def _encrypt_chunk(
    aeads: list[AESGCM], tails: list[bytes], values: Sequence[object], nonces: list[bytes],
    headed: list[bytes], prefix: bytes, where: tuple[str, str],
) -> list[bytes | None]:
    """Encrypt one column of one chunk (``nonces``/``headed`` as long as ``values``)."""
    try:  # all text, the usual case: no per-value check in Python
        datas = list(map(str.encode, cast("Sequence[str]", values)))
    except TypeError:  # some value is missing, or not text (refused by _plain_bytes)
        plain = _plain_bytes(values, *where)
        rows = [i for i, data in enumerate(plain) if data is not None]
        out: list[bytes | None] = [None] * len(values)
        if rows:
            sealed = _seal([aeads[i] for i in rows], [tails[i] for i in rows],
                           cast("list[bytes]", [plain[i] for i in rows]),
                           nonces[: len(rows)], headed[: len(rows)], prefix)
            for i, blob in zip(rows, sealed, strict=True):
                out[i] = blob
        return out
    return _seal(aeads, tails, datas, nonces, headed, prefix)


def _decrypt_chunk(
    aeads: list[AESGCM], ids: list[int], values: Sequence[object], prefix: bytes,
    where: tuple[str, str],
) -> list[Value]:
    """Decrypt one column of one chunk in one ``map``; on failure find the row to name it."""
    table, column = where
    rows: list[int] = []
    blobs: list[bytes] = []
    for i, value in enumerate(values):
        if isinstance(value, (bytes, bytearray, memoryview)):
            rows.append(i)
            blobs.append(bytes(value))
        elif not _is_missing(value):
            raise TypeError(f"{table}.{column}: expected bytes or missing, "
                            f"got {type(value).__name__}")
    row_aeads = [aeads[i] for i in rows]
    aads = [prefix + b"%d|" % ids[i] + blob[:_HEADER] for i, blob in zip(rows, blobs, strict=True)]
    try:
        if any(len(blob) < FIELD_OVERHEAD or blob[0] != _FORMAT for blob in blobs):
            raise InvalidTag
        plains = list(map(AESGCM.decrypt, row_aeads,
                          [blob[_HEADER : _HEADER + _NONCE] for blob in blobs],
                          [blob[_HEADER + _NONCE :] for blob in blobs], aads))
    except InvalidTag:
        raise _first_failure(row_aeads, blobs, aads, [ids[i] for i in rows], where) from None
    out: list[Value] = [None] * len(values)
    for i, plain in zip(rows, plains, strict=True):
        out[i] = plain.decode()
    return out


def _first_failure(
    aeads: list[AESGCM], blobs: list[bytes], aads: list[bytes], ids: list[int],
    where: tuple[str, str],
) -> DecryptionError:
    """The error for the first value that does not decrypt, naming its customer."""
    failed: int | None = None
    for aead, blob, aad, customer_id in zip(aeads, blobs, aads, ids, strict=True):
        try:
            field_key_generation(blob)
            aead.decrypt(blob[_HEADER : _HEADER + _NONCE], blob[_HEADER + _NONCE :], aad)
        except (InvalidTag, DecryptionError):
            failed = customer_id
            break
    return DecryptionError(
        "cannot decrypt field: wrong data key or generation, tampered value, "
        "or a ciphertext copied from another row, column or table",
        table=where[0], column=where[1], customer_id=failed,
    )


def encrypt_columns(
    ids: list[int], deks: Sequence[bytes], columns: Sequence[Sequence[object]],
    names: Sequence[str], table: str, generation: int,
) -> list[list[bytes | None]]:
    """Encrypt ``columns[j][i]`` (named ``names[j]``) with ``deks[i]`` for ``ids[i]``."""
    header = _header(generation)
    tail = b"%d|" + header.replace(b"%", b"%%")  # customer id, then the header
    prefixes = [_prefix(table, name) for name in names]
    out: list[list[bytes | None]] = [[] for _ in names]
    for start in range(0, len(ids), _CHUNK_ROWS):
        stop = start + _CHUNK_ROWS
        chunk_ids = ids[start:stop]
        width = len(chunk_ids)
        aeads = _aeads_for(deks[start:stop], chunk_ids, table)
        tails = [tail % customer_id for customer_id in chunk_ids]
        nonces, headed = _sealing_parts(width * len(names), header)
        for j, (acc, prefix, values) in enumerate(zip(out, prefixes, columns, strict=True)):
            cut = slice(j * width, (j + 1) * width)
            acc += _encrypt_chunk(aeads, tails, values[start:stop], nonces[cut], headed[cut],
                                  prefix, (table, names[j]))
    return out


def decrypt_columns(
    ids: list[int], deks: Sequence[bytes], columns: Sequence[Sequence[object]],
    names: Sequence[str], table: str,
) -> list[list[Value]]:
    """Decrypt ``columns[j][i]`` (named ``names[j]``) with ``deks[i]`` for ``ids[i]``."""
    prefixes = [_prefix(table, name) for name in names]
    out: list[list[Value]] = [[] for _ in names]
    for start in range(0, len(ids), _CHUNK_ROWS):
        stop = start + _CHUNK_ROWS
        chunk_ids = ids[start:stop]
        aeads = _aeads_for(deks[start:stop], chunk_ids, table)
        for acc, prefix, values, name in zip(out, prefixes, columns, names, strict=True):
            acc.extend(_decrypt_chunk(aeads, chunk_ids, values[start:stop], prefix,
                                      (table, name)))
    return out
