"""The platform's error hierarchy: few classes, messages a data steward can act on.

Every error raised on purpose by ``lifecycle/`` derives from :class:`LifecycleError`,
so a flow can tell "bad input or configuration" from a programming bug. Messages
name *where* the problem is (file, row, column, rule, table, key version) and never
*what* the data was: no plaintext PII and no key material ever goes into a message,
because exceptions end up in logs, Prefect run states and the Prefect UI.

The classes keep their constructor arguments in ``args`` so that they survive
pickling (Prefect and Dask move exceptions between processes).
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DecryptionError",
    "KeyringError",
    "LifecycleError",
    "LoadIntegrityError",
    "ModelFitError",
    "SourceError",
]


class LifecycleError(Exception):
    """Base class of every deliberate error raised by the lifecycle domain."""


class ConfigError(LifecycleError):
    """A configuration file or setting is missing, malformed or inconsistent."""


class SourceError(LifecycleError):
    """An input source is unusable; the message names file, row, column and rule.

    Any of ``file``, ``row``, ``column`` and ``rule`` may be ``None`` when unknown
    (a missing file has no row). ``message`` says what is wrong in words and must
    not quote the offending value when the column holds PII.
    """

    def __init__(
        self,
        file: str | None,
        row: int | None,
        column: str | None,
        rule: str | None,
        message: str,
    ) -> None:
        super().__init__(file, row, column, rule, message)
        self.file = file
        self.row = row
        self.column = column
        self.rule = rule
        self.message = message

    def __str__(self) -> str:
        parts = [
            f"{label} {value}"
            for label, value in (
                ("file", self.file),
                ("row", self.row),
                ("column", self.column),
                ("rule", self.rule),
            )
            if value is not None
        ]
        where = ", ".join(parts)
        return f"{where}: {self.message}" if where else self.message


class LoadIntegrityError(LifecycleError):
    """A bulk load would leave rows that refer to nothing (checked once per load).

    The message names the table, the column and how many referenced keys are missing;
    the load's transaction is rolled back, so nothing of it is stored.
    """


class ModelFitError(LifecycleError, ValueError):
    """A statistical model cannot be fitted to, or fed with, the data it was given.

    Raised for empty input, data that cannot identify the model (no repeat buyers),
    inconsistent summaries (recency after age), a transaction log the summary
    cannot read (missing column, date or amount) or an optimiser that fails; the
    message says which, with counts, never customer values. It is also a
    ``ValueError``, since the cause is always the data passed in.
    """


class KeyringError(LifecycleError):
    """The keyring is missing, malformed, or lacks the key version a value needs."""


class DecryptionError(KeyringError):
    """A ciphertext or wrapped key failed authentication.

    Causes: the wrong key (data key of another customer, retired or replaced master
    key), a tampered value, or a ciphertext copied to another row, column or table
    (the associated data no longer matches). The message names the table, column
    and customer so a steward can find the row; it never contains plaintext or key
    bytes.
    """

    def __init__(
        self,
        message: str,
        table: str | None = None,
        column: str | None = None,
        customer_id: int | None = None,
    ) -> None:
        super().__init__(message, table, column, customer_id)
        self.message = message
        self.table = table
        self.column = column
        self.customer_id = customer_id

    def __str__(self) -> str:
        context = [
            f"{label}={value}"
            for label, value in (
                ("table", self.table),
                ("column", self.column),
                ("customer_id", self.customer_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(context)})" if context else self.message
