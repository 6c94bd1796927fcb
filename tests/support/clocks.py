"""A clock a test can move: the outbox's back-off and leases without sleeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass
class MovableClock:
    """Naive machine time ``at``; the bank's time is the same instant in Asia/Shanghai."""

    at: datetime
    timezone: str = "Asia/Shanghai"

    def now(self) -> datetime:
        return self.at.replace(microsecond=0)

    def bank_now(self) -> datetime:
        return self.at.astimezone(ZoneInfo(self.timezone))

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def bank_time(hour: int, minute: int = 0, day: datetime | None = None) -> datetime:
    """A naive machine time that is ``hour:minute`` in Asia/Shanghai today (or on ``day``)."""
    base = (day or datetime.now()).astimezone(ZoneInfo("Asia/Shanghai"))
    return base.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone().replace(tzinfo=None)
