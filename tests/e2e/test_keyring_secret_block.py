"""The keyring saved in a Prefect Secret block on a real server loads back, however stored."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator

import pytest
from prefect.blocks.system import Secret
from prefect.settings import PREFECT_API_URL, temporary_settings

from lifecycle.errors import KeyringError
from lifecycle.privacy.keyring import Keyring, generate_keyring
from tasks.secrets import keyring_from_block
from tests.e2e.conftest import PrefectStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def on_server(prefect_stack: PrefectStack) -> Iterator[None]:
    """Point this process's Prefect client (blocks use it) at the shared server."""
    with temporary_settings(updates={PREFECT_API_URL: prefect_stack.server.api_url}):
        yield


def _name() -> str:
    return f"keyring-{uuid.uuid4().hex[:8]}"


def _key_texts(keyring: Keyring) -> list[str]:
    return [base64.b64encode(k).decode() for k in (*keyring.master_keys.values(), keyring.blind_index_key)]


@pytest.mark.parametrize("shape", ["json-string", "json-object"])
@pytest.mark.usefixtures("on_server")
def test_a_keyring_saved_in_a_secret_block_loads_back(shape: str) -> None:
    keyring = generate_keyring().with_new_version()
    value: object = keyring.to_json() if shape == "json-string" else json.loads(keyring.to_json())
    name = _name()
    Secret.model_validate({"value": value}).save(name)
    loaded = keyring_from_block(name)
    assert dict(loaded.master_keys) == dict(keyring.master_keys)
    assert loaded.active_version == 2 and loaded.blind_index_key == keyring.blind_index_key
    assert loaded.development_only


@pytest.mark.usefixtures("on_server")
def test_a_missing_block_is_named_in_the_error() -> None:
    name = _name()
    with pytest.raises(KeyringError, match=f"Prefect Secret block '{name}' does not exist"):
        keyring_from_block(name)


@pytest.mark.usefixtures("on_server")
def test_a_malformed_block_names_what_is_wrong_and_shows_no_key() -> None:
    keyring = generate_keyring()
    document = json.loads(keyring.to_json())
    del document["active"]
    name = _name()
    Secret.model_validate({"value": document}).save(name)
    with pytest.raises(KeyringError) as caught:
        keyring_from_block(name)
    message = str(caught.value)
    assert f"'{name}'" in message and "lacks the 'active' field" in message
    assert not any(text in message for text in _key_texts(keyring))


@pytest.mark.usefixtures("on_server")
def test_a_block_that_is_not_json_is_refused() -> None:
    name = _name()
    Secret.model_validate({"value": "correct horse battery staple"}).save(name)
    with pytest.raises(KeyringError, match="is not valid JSON") as caught:
        keyring_from_block(name)
    assert "horse" not in str(caught.value)
