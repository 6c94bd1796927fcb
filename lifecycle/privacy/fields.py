"""Field-level AES-256-GCM encryption of PII values under a customer's data key.

Ciphertext layout (stored as bytes, 30 bytes + UTF-8 length of the value)::

    format (1 byte, 0x01) | data-key generation (1 byte) | nonce (12) | ciphertext+tag

* The *generation* says which of a customer's data keys encrypted the value, so a
  customer's key can be replaced later (re-encrypt under generation n+1); read it with
  :func:`field_key_generation` to pick the key before decrypting.
* Associated data is ``f"{table}|{column}|{customer_id}|"`` followed by the 2-byte
  header: a ciphertext copied to another row, column or table, or whose header was
  altered, fails with :class:`~lifecycle.errors.DecryptionError` instead of decrypting
  into the wrong place. Table and column names must therefore not contain ``"|"``.
* Nonces are random 96-bit values (drawn in bulk with one ``os.urandom`` per batch);
  per-customer keys keep every key far below the ~2³² messages a random nonce allows.
* ``None`` (and pandas' NA/NaN) stays ``None``: absence is not secret and costs no bytes.
  The empty string is a value and is encrypted.

Speed: ``AESGCM(key)`` costs more than an encryption, so the batch forms build it once per
customer per chunk of rows and reuse it for every PII column of that row (the engine is
:mod:`lifecycle.privacy._field_batch`). :func:`bench_encrypt` measures the throughput
of :func:`encrypt_frame`; use the batch forms, not a loop over :func:`encrypt_field`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence

import pandas as pd

from lifecycle.errors import KeyringError
from lifecycle.privacy._field_batch import (
    FIELD_OVERHEAD,
    decrypt_columns,
    encrypt_columns,
    field_key_generation,
)

__all__ = [
    "FIELD_OVERHEAD",
    "bench_encrypt",
    "decrypt_column",
    "decrypt_field",
    "decrypt_frame",
    "encrypt_column",
    "encrypt_field",
    "encrypt_frame",
    "field_key_generation",
]


def encrypt_field(
    dek: bytes, plaintext: str | None, *, table: str, column: str, customer_id: int,
    generation: int = 1,
) -> bytes | None:
    """Encrypt one value for ``table.column`` of ``customer_id``; ``None`` stays ``None``."""
    return encrypt_columns([int(customer_id)], [dek], [[plaintext]], [column], table,
                            generation)[0][0]


def decrypt_field(
    dek: bytes, ciphertext: bytes | None, *, table: str, column: str, customer_id: int
) -> str | None:
    """Decrypt one value; :class:`DecryptionError` names table, column and customer."""
    return decrypt_columns([int(customer_id)], [dek], [[ciphertext]], [column], table)[0][0]


def _aligned(values: Sequence[object], deks: Sequence[bytes], ids: list[int]) -> None:
    if not len(values) == len(deks) == len(ids):
        raise ValueError(f"{len(values)} values, {len(deks)} keys, {len(ids)} customer ids")


def encrypt_column(
    values: Sequence[object], deks: Sequence[bytes], customer_ids: Sequence[int], *,
    table: str, column: str, generation: int = 1,
) -> list[bytes | None]:
    """Encrypt ``values[i]`` with ``deks[i]`` for ``customer_ids[i]`` (aligned sequences)."""
    ids = [int(v) for v in customer_ids]
    values, deks = list(values), list(deks)
    _aligned(values, deks, ids)
    return encrypt_columns(ids, deks, [values], [column], table, generation)[0]


def decrypt_column(
    values: Sequence[object], deks: Sequence[bytes], customer_ids: Sequence[int], *,
    table: str, column: str,
) -> list[str | None]:
    """Decrypt ``values[i]`` with ``deks[i]`` for ``customer_ids[i]`` (aligned sequences)."""
    ids = [int(v) for v in customer_ids]
    values, deks = list(values), list(deks)
    _aligned(values, deks, ids)
    return decrypt_columns(ids, deks, [values], [column], table)[0]


def _frame_keys(
    df: pd.DataFrame, customer_id_col: str, dek_by_customer: Mapping[int, bytes], table: str
) -> tuple[list[int], list[bytes]]:
    ids = [int(v) for v in df[customer_id_col].tolist()]
    try:
        return ids, [dek_by_customer[customer_id] for customer_id in ids]
    except KeyError as exc:
        raise KeyringError(f"no data key for customer {exc.args[0]} (table {table})") from None


def encrypt_frame(
    df: pd.DataFrame, columns: Sequence[str], dek_by_customer: Mapping[int, bytes],
    customer_id_col: str, table: str, *, generation: int = 1,
) -> pd.DataFrame:
    """A copy of ``df`` where each PII column ``c`` is replaced by ``c_enc`` (bytes or None).

    The plaintext columns are dropped so nothing downstream can load them by mistake.
    Values must be ``str`` or missing (format dates and numbers as text first).
    Each customer's ``AESGCM`` is built once per chunk of rows and used for all columns;
    ciphertext is bound to ``table``, the column name ``c`` and the row's customer id.
    """
    ids, deks = _frame_keys(df, customer_id_col, dek_by_customer, table)
    encrypted = encrypt_columns(ids, deks, [df[c].tolist() for c in columns], columns, table,
                                 generation)
    out = df.drop(columns=list(columns))
    for name, data in zip(columns, encrypted, strict=True):
        out[f"{name}_enc"] = pd.Series(data, index=df.index, dtype=object)
    return out


def decrypt_frame(
    df: pd.DataFrame, columns: Sequence[str], dek_by_customer: Mapping[int, bytes],
    customer_id_col: str, table: str,
) -> pd.DataFrame:
    """The inverse of :func:`encrypt_frame`: ``c_enc`` columns become plaintext ``c``.

    For audited reveals and re-encryption only; the caller is responsible for the audit.
    """
    ids, deks = _frame_keys(df, customer_id_col, dek_by_customer, table)
    decrypted = decrypt_columns(ids, deks, [df[f"{c}_enc"].tolist() for c in columns],
                                 columns, table)
    out = df.drop(columns=[f"{c}_enc" for c in columns])
    for name, data in zip(columns, decrypted, strict=True):
        out[name] = pd.Series(data, index=df.index, dtype=object)
    return out


def bench_encrypt(n: int = 100_000) -> dict[str, float]:
    """Time :func:`encrypt_frame` over ``n`` synthetic customers × 6 PII fields.

    Returns ``fields``, wall ``seconds`` and ``fields_per_second``, and the same per CPU
    second (``cpu_seconds``, ``fields_per_cpu_second``: steadier on a shared machine; the
    work is single-threaded). Building the frame and the data keys is not timed. The
    target is ≥ 300,000 fields/s on one core.
    """
    ids = list(range(1, n + 1))
    frame = pd.DataFrame({
        "customer_id": ids,
        "name": ["欧阳娜娜" if i % 7 else "张三" for i in ids],
        "id_no": [f"11010119900307{i % 10000:04d}" for i in ids],
        "mobile": [f"138{i % 100_000_000:08d}" for i in ids],
        "email": [f"customer{i}@example.com" for i in ids],
        "address": ["上海市浦东新区陆家嘴环路1000号" for _ in ids],
        "card_no": [f"622202{i % 10**13:013d}" for i in ids],
    })
    keys = os.urandom(32 * n)
    deks = {i: keys[(i - 1) * 32 : i * 32] for i in ids}
    pii = ["name", "id_no", "mobile", "email", "address", "card_no"]
    started, cpu_started = time.perf_counter(), time.process_time()
    encrypt_frame(frame, pii, deks, "customer_id", "customer")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    fields = float(n * len(pii))
    return {"fields": fields, "seconds": seconds, "fields_per_second": fields / seconds,
            "cpu_seconds": cpu_seconds, "fields_per_cpu_second": fields / max(cpu_seconds, 1e-9)}


if __name__ == "__main__":  # command-line benchmark: python -m lifecycle.privacy.fields [n]
    import sys

    result = bench_encrypt(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    print(f"{result['fields']:.0f} fields in {result['seconds']:.2f} s: "  # noqa: T201
          f"{result['fields_per_second']:,.0f} fields/s wall, "
          f"{result['fields_per_cpu_second']:,.0f} fields/s per CPU second")
