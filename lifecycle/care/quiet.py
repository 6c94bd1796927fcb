"""Quiet hours: no message leaves at night, bank local time. Messages wait; they are not dropped."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from lifecycle.care.config import QuietHours


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(moment: datetime, quiet: QuietHours) -> bool:
    """Whether ``moment`` (aware; naive = the bank's local time) falls in the quiet window."""
    local = moment.astimezone(ZoneInfo(quiet.timezone)) if moment.tzinfo else moment
    start, end, now = _clock(quiet.start), _clock(quiet.end), local.time()
    return (start <= now or now < end) if start > end else (start <= now < end)


def next_allowed(moment: datetime, quiet: QuietHours) -> datetime:
    """``moment`` itself outside quiet hours, else the end of the window (same kind of datetime)."""
    zone = ZoneInfo(quiet.timezone)
    local = moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)
    if not in_quiet_hours(local, quiet):
        return moment
    end = _clock(quiet.end)
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    opened = datetime.combine(day, end, tzinfo=zone)
    return opened.astimezone(moment.tzinfo) if moment.tzinfo else opened.replace(tzinfo=None)


def to_machine_time(moment: datetime) -> datetime:
    """An aware time as the machine's naive wall-clock time (what the outbox stores)."""
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment
