"""Versioned YAML configuration read into pydantic models, with stewards' errors.

Every configuration file (sources, retention, and the rules to come) is read
the same way: a missing file, invalid YAML or a value that breaks the model is
a ConfigError naming the file and the field, never a traceback.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from lifecycle.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


def load_yaml_model(file: Path, model: type[Model], what: str) -> Model:
    """``file`` parsed and validated as ``model``; ``what`` names the file in messages."""
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} {file} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {file} is not valid YAML: {exc}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{what} {file}: {problems}") from None


def load_versioned(file: Path, model: type[Model], what: str) -> tuple[Model, str]:
    """``file`` as ``model``, and its version ``<name>@<first 12 hex of the file's SHA-256>``
    (the model has a ``name``): any edit of the file is a new version."""
    loaded = load_yaml_model(file, model, what)
    try:
        digest = hashlib.sha256(file.read_bytes()).hexdigest()[:12]
    except OSError as exc:  # pragma: no cover - read just above
        raise ConfigError(f"{what} {file}: {exc}") from None
    return loaded, f"{getattr(loaded, 'name', what)}@{digest}"
