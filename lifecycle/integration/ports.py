"""What the integration service needs from its surroundings (the composition root provides it).

:class:`IntegrationContext` is satisfied by :class:`lifecycle.bootstrap.Context`;
tests may pass anything with the same attributes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine

from lifecycle.clock import Clock
from lifecycle.integration.sources import SourcesConfig
from lifecycle.integration.stage import Validator
from lifecycle.privacy.keyring import Keyring
from lifecycle.settings import Settings
from lifecycle.store.keystore import KeyStore


class QualityGate(Validator, Protocol):
    def build_data_docs(self) -> Path: ...


class IntegrationContext(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def keystore(self) -> KeyStore: ...

    @property
    def keyring(self) -> Keyring: ...

    @property
    def sources(self) -> SourcesConfig: ...

    @property
    def gate(self) -> QualityGate: ...

    @property
    def clock(self) -> Clock: ...
