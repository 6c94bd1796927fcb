"""A keyring read from a Secret block's value: every stored shape, clear refusals, no leaks.

The block itself is exercised against a real Prefect server in
tests/e2e/test_keyring_secret_block.py; here only the value handling, fast.
"""

from __future__ import annotations

import base64
import json

import pytest

from lifecycle.errors import KeyringError
from lifecycle.privacy.keyring import Keyring, generate_keyring
from tasks.secrets import keyring_from_secret_value


def _key_texts(keyring: Keyring) -> list[str]:
    keys = [*keyring.master_keys.values(), keyring.blind_index_key]
    return [form for key in keys for form in (base64.b64encode(key).decode(), key.hex())]


def _same(a: Keyring, b: Keyring) -> bool:
    return (dict(a.master_keys), a.active_version, a.blind_index_key, a.blind_index_version,
            a.development_only) == (dict(b.master_keys), b.active_version, b.blind_index_key,
                                    b.blind_index_version, b.development_only)


def test_a_json_string_value_gives_the_keyring() -> None:
    keyring = generate_keyring().with_new_version()
    assert _same(keyring_from_secret_value("kr", keyring.to_json()), keyring)


def test_a_dict_value_gives_the_keyring() -> None:
    """What ``Secret.get()`` returns for an object, and for a string that parses as JSON."""
    keyring = generate_keyring()
    assert _same(keyring_from_secret_value("kr", json.loads(keyring.to_json())), keyring)


def test_the_repr_of_a_dict_is_refused_as_not_json() -> None:
    """The old ``str(secret.get())`` path: Python's repr of the dict is not JSON."""
    value = str(json.loads(generate_keyring().to_json()))
    with pytest.raises(KeyringError, match="'kr'.*not valid JSON"):
        keyring_from_secret_value("kr", value)


@pytest.mark.parametrize("value", [["not", "an", "object"], 42, None, 1.5])
def test_a_value_of_another_type_is_refused_with_its_type(value: object) -> None:
    with pytest.raises(KeyringError, match=rf"block 'kr' holds a {type(value).__name__}"):
        keyring_from_secret_value("kr", value)


def test_a_malformed_keyring_names_the_block_and_the_field_but_no_key() -> None:
    keyring = generate_keyring()
    document = json.loads(keyring.to_json())
    document["blind_index_key"] = base64.b64encode(b"short").decode()
    with pytest.raises(KeyringError) as caught:
        keyring_from_secret_value("lifecycle-keyring", document)
    message = str(caught.value)
    assert "'lifecycle-keyring'" in message and "blind index key" in message
    for text in _key_texts(keyring):
        assert text not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
