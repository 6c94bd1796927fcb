"""Keyring loading, rotation and secrecy: errors are clear and never hold key material."""

from __future__ import annotations

import base64
import copy
import json
import logging
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle.errors import KeyringError, LifecycleError
from lifecycle.privacy.keyring import (
    ENV_KEYRING,
    ENV_KEYRING_FILE,
    Keyring,
    generate_keyring,
    load_keyring,
    write_keyring,
)


def _secrets(keyring: Keyring) -> list[str]:
    """Every textual form a key could leak in: base64, hex and raw repr."""
    keys = [*keyring.master_keys.values(), keyring.blind_index_key]
    return [form for key in keys for form in (base64.b64encode(key).decode(), key.hex(), repr(key))]


def _assert_no_secret(text: str, keyring: Keyring) -> None:
    for secret in _secrets(keyring):
        assert secret not in text


def test_json_round_trip_keeps_versions_keys_and_flags() -> None:
    keyring = generate_keyring().with_new_version()
    loaded = Keyring.from_json(keyring.to_json())
    assert loaded == keyring
    assert loaded.active_version == 2 and sorted(loaded.master_keys) == [1, 2]
    assert loaded.development_only is True


def test_documented_json_shape_is_accepted() -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    text = json.dumps({"development_only": True, "active": 2, "master_keys": {"1": key, "2": key},
                       "blind_index_key": key})
    keyring = Keyring.from_json(text)
    assert keyring.active_version == 2 and keyring.active_key == bytes(range(32))
    assert keyring.blind_index_version == 1


def test_repr_and_str_show_versions_not_keys() -> None:
    keyring = generate_keyring()
    _assert_no_secret(repr(keyring) + str(keyring), keyring)
    assert "versions=[1]" in repr(keyring)


def test_env_json_is_loaded() -> None:
    keyring = generate_keyring()
    assert load_keyring({ENV_KEYRING: keyring.to_json()}) == keyring


def test_env_file_is_loaded_and_written_with_mode_0600(tmp_path: Path) -> None:
    keyring = generate_keyring()
    path = write_keyring(keyring, tmp_path / "keyring.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring({ENV_KEYRING_FILE: str(path)}) == keyring


def test_group_readable_file_is_loaded_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    keyring = generate_keyring()
    path = write_keyring(keyring, tmp_path / "keyring.json")
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="lifecycle.privacy.keyring"):
        assert Keyring.from_file(path) == keyring
    assert "chmod 600" in caplog.text
    _assert_no_secret(caplog.text, keyring)


def test_missing_configuration_names_both_variables() -> None:
    with pytest.raises(KeyringError) as err:
        load_keyring({})
    assert ENV_KEYRING in str(err.value) and ENV_KEYRING_FILE in str(err.value)
    assert isinstance(err.value, LifecycleError)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="does not exist"):
        load_keyring({ENV_KEYRING_FILE: str(tmp_path / "absent.json")})


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: "{not json" + json.dumps(d), "not valid JSON"),
        (lambda d: json.dumps({**d, "active": 7}), "active master key version 7"),
        (lambda d: json.dumps({**d, "master_keys": {"1": d["master_keys"]["1"][:-8]}}), "master key version 1"),
        (lambda d: json.dumps({**d, "master_keys": {"1": "!!" + d["master_keys"]["1"]}}), "not valid base64"),
        (lambda d: json.dumps({**d, "blind_index_key": base64.b64encode(b"short").decode()}), "32 bytes, got 5"),
        (lambda d: json.dumps({k: v for k, v in d.items() if k != "blind_index_key"}), "blind_index_key"),
        (lambda d: json.dumps([d]), "must be an object"),
        (lambda d: json.dumps({**d, "master_keys": {"one": d["master_keys"]["1"]}}), "must be integers"),
    ],
)
def test_malformed_keyring_is_refused_without_echoing_keys(mutate: object, expected: str) -> None:
    keyring = generate_keyring()
    text = mutate(json.loads(keyring.to_json()))  # type: ignore[operator]
    with pytest.raises(KeyringError) as err:
        load_keyring({ENV_KEYRING: text})
    message = str(err.value)
    assert expected in message and ENV_KEYRING in message
    _assert_no_secret(message, keyring)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_malformed_file_names_the_file_and_not_the_keys(tmp_path: Path) -> None:
    keyring = generate_keyring()
    path = tmp_path / "keyring.json"
    path.write_text(keyring.to_json().replace('"active": 1', '"active": 3'))
    with pytest.raises(KeyringError) as err:
        Keyring.from_file(path)
    assert str(path) in str(err.value) and "version 3" in str(err.value)
    _assert_no_secret(str(err.value), keyring)


def test_production_loader_refuses_a_development_keyring() -> None:
    env = {ENV_KEYRING: generate_keyring(development_only=True).to_json()}
    with pytest.raises(KeyringError, match="development_only"):
        load_keyring(env, require_production=True)
    production = generate_keyring(development_only=False)
    assert load_keyring({ENV_KEYRING: production.to_json()}, require_production=True) == production


def test_new_version_is_max_plus_one_and_active() -> None:
    keyring = generate_keyring().with_new_version().with_new_version().without_version(2)
    rotated = keyring.with_new_version()
    assert sorted(rotated.master_keys) == [1, 3, 4] and rotated.active_version == 4
    assert rotated.master_keys[3] == keyring.master_keys[3]
    assert rotated.blind_index_key == keyring.blind_index_key


def test_retiring_the_active_or_an_absent_version_is_refused() -> None:
    keyring = generate_keyring().with_new_version()
    with pytest.raises(KeyringError, match="active"):
        keyring.without_version(2)
    with pytest.raises(KeyringError, match="version 9 is not in the keyring"):
        keyring.without_version(9)
    assert sorted(keyring.without_version(1).master_keys) == [2]


def test_keyring_is_immutable() -> None:
    keyring = generate_keyring()
    with pytest.raises(TypeError):
        keyring.master_keys[2] = bytes(32)  # type: ignore[index]
    with pytest.raises(AttributeError):
        keyring.active_version = 2  # type: ignore[misc]


def test_keyring_refuses_pickling_so_it_never_lands_in_task_results() -> None:
    keyring = generate_keyring()
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(keyring)
    assert copy.deepcopy(keyring) is keyring


def test_privacy_package_does_not_import_prefect() -> None:
    code = ("import sys, lifecycle.privacy.keyring, lifecycle.privacy.envelope, lifecycle.privacy.fields, "
            "lifecycle.privacy.blind_index, lifecycle.privacy.masking, lifecycle.privacy.redaction, "
            "lifecycle.errors; print(any(m == 'prefect' or m.startswith('prefect.') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
