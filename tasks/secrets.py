"""Secrets the flows read from Prefect blocks: the keyring.

A Prefect ``Secret`` block may hold the keyring as a JSON string or as a JSON
object (``Secret.get()`` then returns a dict); both are accepted. Errors name
the block and what is wrong, never the secret's content.
"""

from __future__ import annotations

import json
from typing import Any

from lifecycle.errors import KeyringError
from lifecycle.privacy.keyring import Keyring


def keyring_from_block(name: str) -> Keyring:
    from prefect.blocks.system import Secret

    try:
        secret: Any = Secret.load(name)
    except ValueError as exc:  # Prefect: "Unable to find block document named …"
        raise KeyringError(f"Prefect Secret block {name!r} not found ({type(exc).__name__}): create it or fix "
                           "LIFECYCLE_KEYRING_BLOCK") from None
    value = secret.get()
    if isinstance(value, dict):
        text = json.dumps(value)
    elif isinstance(value, str):
        text = value
    else:
        raise KeyringError(f"Prefect Secret block {name!r} holds a {type(value).__name__}, not the keyring's JSON")
    try:
        return Keyring.from_json(text)
    except KeyringError as exc:
        raise KeyringError(f"Prefect Secret block {name!r}: {exc}") from None
