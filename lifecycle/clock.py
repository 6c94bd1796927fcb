"""The platform's clock: what "now" and "today" are, injectable for tests and back-fills.

Stored timestamps are naive wall-clock times of the machine (as they have been
since the first release); business dates — the as-of date a run defaults to,
quiet hours, greetings — are dates in the bank's time zone
(``Asia/Shanghai`` by default), which may differ from the machine's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

BANK_TIMEZONE = "Asia/Shanghai"


class Clock(Protocol):
    def now(self) -> datetime:
        """Naive wall-clock time, to the second (what bookkeeping stores)."""
        ...

    def bank_now(self) -> datetime:
        """Aware time in the bank's time zone."""
        ...


@dataclass(frozen=True)
class SystemClock:
    timezone: str = BANK_TIMEZONE

    def now(self) -> datetime:
        return datetime.now().replace(microsecond=0)

    def bank_now(self) -> datetime:
        return datetime.now(ZoneInfo(self.timezone))


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at ``at`` (naive: taken as the bank's wall time)."""

    at: datetime
    timezone: str = BANK_TIMEZONE

    def now(self) -> datetime:
        return self.at.replace(microsecond=0, tzinfo=None)

    def bank_now(self) -> datetime:
        return self.at if self.at.tzinfo else self.at.replace(tzinfo=ZoneInfo(self.timezone))


def bank_today(clock: Clock) -> date:
    return clock.bank_now().date()


def previous_day(clock: Clock) -> date:
    """Yesterday in the bank's time zone: the as-of date a nightly run loads by default."""
    return bank_today(clock) - timedelta(days=1)
