"""Bootstrap: settings, database, keyring and quality gate, wired once per process.

The one place that knows where things come from. The keyring is loaded from
``LIFECYCLE_KEYRING`` / ``LIFECYCLE_KEYRING_FILE`` or, when
``LIFECYCLE_KEYRING_BLOCK`` names one, from a Prefect Secret block; it is never
returned from a task (it refuses to be pickled), so it never reaches Prefect's
result storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine

from lifecycle.privacy.keyring import Keyring, load_keyring
from lifecycle.privacy.redaction import install_redaction
from lifecycle.quality import QualityGate
from lifecycle.settings import Settings, get_settings
from lifecycle.sources import SourcesConfig, load_sources
from lifecycle.store.db import make_engine, migrate
from lifecycle.store.keystore import KeyStore


@dataclass(frozen=True)
class Wiring:
    settings: Settings
    engine: Engine
    keystore: KeyStore
    sources: SourcesConfig

    @property
    def keyring(self) -> Keyring:
        return _keyring(self.settings.keyring_block)

    @property
    def quality_gate(self) -> QualityGate:
        return _gate(self.settings)


@lru_cache(maxsize=1)
def _keyring(block: str | None) -> Keyring:
    if block:
        from prefect.blocks.system import Secret

        secret: Any = Secret.load(block)
        return Keyring.from_json(str(secret.get()))
    return load_keyring()


@lru_cache(maxsize=4)
def _gate(settings: Settings) -> QualityGate:
    return QualityGate(settings.resolved_gx_dir, settings.data_docs_dir, settings.resolved_suites_dir)


@lru_cache(maxsize=4)
def _wire(settings: Settings) -> Wiring:
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    keystore = KeyStore(make_engine(settings.resolved_keystore_url))
    return Wiring(settings, engine, keystore, load_sources(settings.sources_file))


def bootstrap() -> Wiring:
    """The process's wiring; migrations run on first use.

    Installs log redaction first (idempotent): every task calls ``bootstrap``, so
    every process that runs a task redacts PII from its log records, including
    those Prefect ships to its API.
    """
    install_redaction()
    return _wire(get_settings())


def reset() -> None:
    """Forget cached wiring (tests change settings between runs)."""
    get_settings.cache_clear()
    _wire.cache_clear()
    _keyring.cache_clear()
    _gate.cache_clear()
