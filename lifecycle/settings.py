"""Runtime settings: one typed model, read once from the environment.

Every setting has the ``LIFECYCLE_`` prefix (``LIFECYCLE_DATABASE_URL`` …).
Defaults are the embedded set-up: a SQLite file and folders under ``var/``.
No secret has a default: the keyring comes from ``LIFECYCLE_KEYRING`` (JSON),
``LIFECYCLE_KEYRING_FILE`` (a path) or a Prefect Secret block named by
``LIFECYCLE_KEYRING_BLOCK`` (read by the orchestration layer).
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from lifecycle.errors import ConfigError

ENV_PREFIX = "LIFECYCLE_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    home: Path = Field(default=Path("var"), description="working folder for the embedded default")
    database_url: str = Field(default="", description="SQLAlchemy URL; default: SQLite file under home")
    keystore_url: str = Field(default="", description="SQLAlchemy URL of the key store (wrapped data keys), kept "
                              "apart from the main database; default: SQLite file under home")
    landing_dir: Path | None = Field(default=None, description="landing zone; default: <home>/landing")
    reports_dir: Path | None = Field(default=None, description="reports; default: <home>/reports")
    gx_dir: Path | None = Field(default=None, description="GX project folder; default: <home>/gx")
    sources_file: Path | None = Field(default=None, description="sources YAML; default: the packaged one")
    suites_dir: Path | None = Field(default=None, description="GX suites; default: ./expectations")
    keyring_file: Path | None = None
    keyring_block: str | None = Field(default=None, description="Prefect Secret block holding the keyring JSON")
    erasure_log_file: Path | None = Field(default=None, description="append-only log of erasures, kept outside both "
                                          "databases and replayed on start-up after a restore; default: beside the "
                                          "keyring file, else <home>/erasure-log.jsonl")
    chunk_rows: int = Field(default=1_000_000, gt=0, description="rows per chunk for large extracts")
    rules_file: Path | None = Field(default=None, description="decision rules YAML; default: the packaged one")
    care_rules_file: Path | None = Field(default=None, description="care rules YAML (retention, entitlements, "
                                         "digests, dispatcher); default: the packaged one")
    labels_file: Path | None = Field(default=None, description="labels and customer groups YAML; default: the "
                                     "packaged one")
    notify_config: Path | None = Field(default=None, description="apprise YAML of the notification channels "
                                       "(kept by the platform team, outside the repository); without it messages "
                                       "wait in the outbox")
    notify_timeout: float = Field(default=10.0, gt=0, le=300, description="seconds per send")
    partitions: int = Field(default=2, ge=1, le=1024, description="customer partitions features and decisions "
                            "are computed in (parallel tasks in the flows)")
    task_runner: Literal["threads", "dask"] = Field(default="threads", description="what runs the customer "
                                                    "partition tasks: threads of the flow run's process, or Dask "
                                                    "workers (needs the dask extra: prefect-dask)")
    dask_address: str | None = Field(default=None, description="scheduler of an existing Dask cluster "
                                     "(tcp://host:8786) for LIFECYCLE_TASK_RUNNER=dask; default: a local cluster "
                                     "started for each fan-out")
    dask_workers: int = Field(default=2, ge=1, le=256, description="worker processes of the local Dask cluster")

    @field_validator("database_url", "keystore_url")
    @classmethod
    def _a_sqlalchemy_url(cls, value: str) -> str:
        if value:
            try:
                make_url(value)
            except ArgumentError:
                # the URL itself is never quoted: it may hold a password
                raise ValueError("not a SQLAlchemy URL (dialect+driver://user:password@host/database, "
                                 "or sqlite:///path)") from None
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'lifecycle.db').resolve()}"

    @property
    def resolved_keystore_url(self) -> str:
        return self.keystore_url or f"sqlite:///{(self.home / 'keystore.db').resolve()}"

    @property
    def resolved_erasure_log_file(self) -> Path:
        if self.erasure_log_file is not None:
            return self.erasure_log_file
        return (self.keyring_file.parent if self.keyring_file else self.home) / "erasure-log.jsonl"

    @property
    def resolved_landing_dir(self) -> Path:
        return self.landing_dir or self.home / "landing"

    @property
    def resolved_reports_dir(self) -> Path:
        return self.reports_dir or self.home / "reports"

    @property
    def resolved_gx_dir(self) -> Path:
        return self.gx_dir or self.home / "gx"

    @property
    def data_docs_dir(self) -> Path:
        return self.resolved_reports_dir / "data-docs"

    @property
    def resolved_suites_dir(self) -> Path:
        return self.suites_dir or packaged_suites_dir()


def packaged_suites_dir() -> Path:
    """The GX suites shipped with the platform (the ``expectations`` package)."""
    module = importlib.import_module("expectations")
    assert module.__file__ is not None
    return Path(module.__file__).resolve().parent


def describe_invalid(exc: ValidationError) -> str:
    """One line naming each bad setting's variable, what it must be and what it is for.

    The values are never quoted: a setting may hold a password or a keyring.
    """
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        described = Settings.model_fields[field].description if field in Settings.model_fields else None
        problem = f"{ENV_PREFIX}{field.upper()}: {error['msg'].removeprefix('Value error, ')}"
        problems.append(f"{problem} ({described})" if described else problem)
    return "invalid setting " + "; ".join(problems) + " — fix the variable or unset it for the default"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of the environment; a bad value ends in a :class:`ConfigError` naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(describe_invalid(exc)) from None
