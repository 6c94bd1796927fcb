"""The keyring: versioned master keys and the blind-index key, loaded from outside the database.

Master keys wrap each customer's data key (envelope encryption, see
:mod:`lifecycle.privacy.envelope`); the blind-index key feeds the keyed hashes of
:mod:`lifecycle.privacy.blind_index`. Neither may live in the database whose rows they
protect (JR/T 0171-2020, PIPL): whoever holds a database backup plus the keys can read
everything, and whoever holds the blind-index key can brute-force low-entropy indexes
(mobiles, ID numbers). Keys therefore come from the environment or a secrets file.

JSON format (``Keyring.to_json`` writes it, the loaders read it)::

    {
      "development_only": true,
      "active": 2,
      "master_keys": {"1": "<base64 of 32 bytes>", "2": "<base64 of 32 bytes>"},
      "blind_index_key": "<base64 of 32 bytes>",
      "blind_index_version": 1
    }

* ``active`` — the master key version used for new wraps; older versions stay for
  unwrapping until every wrapped key has been re-wrapped (``rewrap_data_key``), then
  ``without_version`` retires them. Versions are 1..65535 (two bytes in each header).
* ``blind_index_version`` is optional (default 1); it is recorded next to indexes so a
  re-key can be rolled out. ``development_only`` marks generated demo keyrings;
  production loaders can refuse them (``load_keyring(require_production=True)``).

Where the loaders look: ``LIFECYCLE_KEYRING`` holds the JSON itself (a Prefect Secret
block or a container secret injected as a variable); otherwise ``LIFECYCLE_KEYRING_FILE``
names a file, written with mode 0600 by :func:`write_keyring`.

Messages of :class:`~lifecycle.errors.KeyringError` never repeat key material, and the
keyring refuses to be pickled, so it cannot end up in Prefect's persisted task results:
load it inside the task that needs it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from lifecycle.errors import KeyringError

__all__ = [
    "ENV_KEYRING",
    "ENV_KEYRING_FILE",
    "KEY_BYTES",
    "MAX_MASTER_VERSION",
    "Keyring",
    "generate_keyring",
    "load_keyring",
    "write_keyring",
]

ENV_KEYRING = "LIFECYCLE_KEYRING"
ENV_KEYRING_FILE = "LIFECYCLE_KEYRING_FILE"
KEY_BYTES = 32
MAX_MASTER_VERSION = 0xFFFF

_log = logging.getLogger(__name__)


def _check_key(what: str, key: object) -> bytes:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        length = len(key) if isinstance(key, bytes) else type(key).__name__
        raise KeyringError(f"{what} must be {KEY_BYTES} bytes, got {length}")
    return key


def _check_version(what: str, version: object) -> int:
    if not isinstance(version, int) or isinstance(version, bool):
        raise KeyringError(f"{what} must be an integer, got {type(version).__name__}")
    if not 1 <= version <= MAX_MASTER_VERSION:
        raise KeyringError(f"{what} must be within 1..{MAX_MASTER_VERSION}, got {version}")
    return version


@dataclass(frozen=True, repr=False)
class Keyring:
    """Versioned 32-byte master keys, the active version, and the blind-index key.

    Immutable: rotation returns a new keyring (``with_new_version``,
    ``without_version``). ``repr`` lists versions only, never key bytes.
    """

    master_keys: Mapping[int, bytes]
    active_version: int
    blind_index_key: bytes
    blind_index_version: int = 1
    development_only: bool = False

    def __post_init__(self) -> None:
        keys = {
            _check_version("master key version", v): _check_key(f"master key version {v}", k)
            for v, k in dict(self.master_keys).items()
        }
        _check_version("active version", self.active_version)
        if self.active_version not in keys:
            raise KeyringError(
                f"active master key version {self.active_version} is not in the keyring "
                f"(versions present: {sorted(keys) or 'none'})"
            )
        _check_key("blind index key", self.blind_index_key)
        _check_version("blind index version", self.blind_index_version)
        object.__setattr__(self, "master_keys", MappingProxyType(keys))

    def __repr__(self) -> str:
        return (
            f"Keyring(versions={sorted(self.master_keys)}, active_version={self.active_version}, "
            f"blind_index_version={self.blind_index_version}, "
            f"development_only={self.development_only})"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "Keyring is not picklable on purpose: key material must not reach task results "
            "or caches; call load_keyring() inside the task that needs it"
        )

    def __copy__(self) -> Keyring:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Keyring:
        return self

    @property
    def active_key(self) -> bytes:
        """The master key that wraps new data keys."""
        return self.master_keys[self.active_version]

    def master_key(self, version: int) -> bytes:
        """The master key of ``version``; :class:`KeyringError` naming it when absent."""
        try:
            return self.master_keys[version]
        except KeyError:
            raise KeyringError(
                f"master key version {version} is not in the keyring "
                f"(versions present: {sorted(self.master_keys)}); was it retired before "
                "every wrapped data key was re-wrapped?"
            ) from None

    def with_new_version(self) -> Keyring:
        """A keyring with a fresh master key as version max+1, made active."""
        version = max(self.master_keys) + 1
        if version > MAX_MASTER_VERSION:
            raise KeyringError(f"no master key version left above {MAX_MASTER_VERSION}")
        keys = {**self.master_keys, version: secrets.token_bytes(KEY_BYTES)}
        return Keyring(keys, version, self.blind_index_key, self.blind_index_version,
                       self.development_only)

    def without_version(self, version: int) -> Keyring:
        """A keyring without ``version``; refuses the active version or an absent one."""
        if version == self.active_version:
            raise KeyringError(f"cannot retire master key version {version}: it is active")
        self.master_key(version)
        keys = {v: k for v, k in self.master_keys.items() if v != version}
        return Keyring(keys, self.active_version, self.blind_index_key,
                       self.blind_index_version, self.development_only)

    def to_json(self) -> str:
        """The JSON document described in the module docstring (contains secrets)."""
        document = {
            "development_only": self.development_only,
            "active": self.active_version,
            "master_keys": {
                str(v): base64.b64encode(k).decode("ascii")
                for v, k in sorted(self.master_keys.items())
            },
            "blind_index_key": base64.b64encode(self.blind_index_key).decode("ascii"),
            "blind_index_version": self.blind_index_version,
        }
        return json.dumps(document, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        """Parse the JSON format; :class:`KeyringError` without key material on any flaw."""
        try:
            document = json.loads(text)
        except (ValueError, TypeError):
            # ``from None``: the JSON error object carries the whole document.
            raise KeyringError("keyring is not valid JSON") from None
        if not isinstance(document, dict):
            raise KeyringError("keyring JSON must be an object")
        for name in ("active", "master_keys", "blind_index_key"):
            if name not in document:
                raise KeyringError(f"keyring JSON lacks the {name!r} field")
        raw_keys = document["master_keys"]
        if not isinstance(raw_keys, dict) or not raw_keys:
            raise KeyringError("keyring 'master_keys' must be a non-empty object")
        keys: dict[int, bytes] = {}
        for name, encoded in raw_keys.items():
            try:
                version = int(name)
            except ValueError:
                raise KeyringError("keyring 'master_keys' names must be integers") from None
            keys[version] = _decode_key(f"master key version {version}", encoded)
        development_only = document.get("development_only", False)
        if not isinstance(development_only, bool):
            raise KeyringError("keyring 'development_only' must be true or false")
        return cls(
            master_keys=keys,
            active_version=document["active"],
            blind_index_key=_decode_key("blind index key", document["blind_index_key"]),
            blind_index_version=document.get("blind_index_version", 1),
            development_only=development_only,
        )

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Keyring:
        """Read a keyring file; warns (never fails) when others may read it."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
            mode = file.stat().st_mode
        except FileNotFoundError:
            raise KeyringError(f"keyring file {file} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyringError(
                f"keyring file {file} cannot be read: {type(exc).__name__}"
            ) from None
        if mode & 0o077:
            _log.warning("keyring file %s is readable by group or others (mode %o); "
                         "chmod 600 it", file, mode & 0o777)
        try:
            return cls.from_json(text)
        except KeyringError as exc:
            raise KeyringError(f"keyring file {file}: {exc}") from None


def _decode_key(what: str, encoded: object) -> bytes:
    if not isinstance(encoded, str):
        raise KeyringError(f"{what} must be a base64 string")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"{what} is not valid base64") from None
    return _check_key(what, key)


def generate_keyring(development_only: bool = True) -> Keyring:
    """A new keyring with one random master key (version 1) and a blind-index key.

    Marked ``development_only`` by default: production keyrings are made by the key
    custodians' procedure and loaded, not generated by the pipeline.
    """
    return Keyring(
        master_keys={1: secrets.token_bytes(KEY_BYTES)},
        active_version=1,
        blind_index_key=secrets.token_bytes(KEY_BYTES),
        development_only=development_only,
    )


def write_keyring(keyring: Keyring, path: str | os.PathLike[str]) -> Path:
    """Write ``keyring`` as JSON with mode 0600, atomically (temp file + rename)."""
    target = Path(path)
    fd, temp = tempfile.mkstemp(prefix=".keyring-", dir=target.parent)  # created 0600
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(keyring.to_json())
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def load_keyring(
    env: Mapping[str, str] | None = None, *, require_production: bool = False
) -> Keyring:
    """Load the keyring from ``LIFECYCLE_KEYRING`` (JSON) or ``LIFECYCLE_KEYRING_FILE``.

    ``env`` defaults to ``os.environ``. With ``require_production`` a keyring marked
    ``development_only`` is refused, so a demo keyring cannot protect real data.
    """
    env = os.environ if env is None else env
    if env.get(ENV_KEYRING):
        try:
            keyring = Keyring.from_json(env[ENV_KEYRING])
        except KeyringError as exc:
            raise KeyringError(f"{ENV_KEYRING}: {exc}") from None
    elif env.get(ENV_KEYRING_FILE):
        keyring = Keyring.from_file(env[ENV_KEYRING_FILE])
    else:
        raise KeyringError(
            f"no keyring configured: set {ENV_KEYRING} to the keyring JSON or "
            f"{ENV_KEYRING_FILE} to the path of a keyring file"
        )
    if require_production and keyring.development_only:
        raise KeyringError("the configured keyring is marked development_only; "
                           "production runs need a production keyring")
    return keyring
