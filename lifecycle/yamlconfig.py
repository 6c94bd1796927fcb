"""Versioned YAML configuration read into pydantic models, with stewards' errors.

Every configuration file (sources, retention, and the rules to come) is read
the same way: a missing file, invalid YAML or a value that breaks the model is
a ConfigError naming the file and the field, never a traceback.
"""

from __future__ import annotations

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
