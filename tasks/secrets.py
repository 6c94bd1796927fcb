"""The keyring from a Prefect Secret block, whatever shape the block's value has.

A Secret block can hold the keyring JSON as a string or as a JSON object (the UI and
``Secret(value={...})`` store an object). ``Secret.get()`` hides the difference in
an unhelpful way: it returns a ``dict`` for an object *and* for a string that parses
as JSON, and the string itself otherwise. ``str()`` of that ``dict`` is Python's
repr, not JSON, so ``Keyring.from_json(str(secret.get()))`` fails for every keyring
stored either way. This module turns each shape into a :class:`Keyring`.

Every failure is a :class:`~lifecycle.errors.KeyringError` that names the block and
what is wrong with it, never the block's content: messages reach logs and the
Prefect UI.
"""

from __future__ import annotations

import json
from typing import Any

from lifecycle.errors import KeyringError
from lifecycle.privacy.keyring import Keyring

__all__ = ["keyring_from_block", "keyring_from_secret_value"]


def keyring_from_block(name: str) -> Keyring:
    """Load the Prefect Secret block ``name`` (from the configured API) as a keyring.

    Raises :class:`KeyringError` when no Secret block of that name exists or its value
    is not a valid keyring. Errors reaching the API itself (server down, auth) are
    not a keyring problem and propagate unchanged.
    """
    from prefect.blocks.system import Secret

    try:
        secret: Any = Secret.load(name)
    except ValueError:
        # Block.load raises ValueError("Unable to find block document named …").
        raise KeyringError(f"Prefect Secret block {name!r} does not exist") from None
    return keyring_from_secret_value(name, secret.get())


def keyring_from_secret_value(name: str, value: object) -> Keyring:
    """The keyring in ``value``, as returned by ``Secret.get()`` of block ``name``.

    Accepts a ``dict`` (a JSON object, or a JSON string that ``get()`` parsed) or a
    ``str`` holding the keyring JSON; anything else (a list, a number …) is refused.
    """
    if isinstance(value, dict):
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            raise KeyringError(f"Prefect Secret block {name!r} holds an object that is not JSON") from None
    elif isinstance(value, str):
        text = value
    else:
        raise KeyringError(
            f"Prefect Secret block {name!r} holds a {type(value).__name__}; "
            "it must hold the keyring JSON object (see lifecycle/privacy/keyring.py)"
        )
    try:
        return Keyring.from_json(text)
    except KeyringError as exc:
        raise KeyringError(f"Prefect Secret block {name!r}: {exc}") from None
