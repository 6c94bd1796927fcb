"""What the care services need from the composition root (``lifecycle.bootstrap.Context`` has it all)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine

from lifecycle.care.config import CareRuleSet
from lifecycle.clock import Clock
from lifecycle.privacy.keyring import Keyring
from lifecycle.store.keystore import KeyStore


class CareContext(Protocol):
    @property
    def engine(self) -> Engine: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def care_rules(self) -> CareRuleSet: ...


class SealingCareContext(CareContext, Protocol):
    """A care context that also reads and seals customers' personal data."""

    @property
    def keystore(self) -> KeyStore: ...

    @property
    def keyring(self) -> Keyring: ...
