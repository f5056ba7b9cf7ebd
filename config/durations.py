"""Durations in the configuration file: ``"3 days"``, ``"72h"``, ``"90m"``, ``"2 weeks"``, ``"1.5h"``, or a
whole number of days. The schema's ``duration`` pattern admits exactly what ``parse_duration`` reads."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {
    "s": "seconds",
    "sec": "seconds",
    "secs": "seconds",
    "second": "seconds",
    "seconds": "seconds",
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "h": "hours",
    "hr": "hours",
    "hrs": "hours",
    "hour": "hours",
    "hours": "hours",
    "d": "days",
    "day": "days",
    "days": "days",
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
}
_DURATION = re.compile(r"([0-9]{1,6}(?:\.[0-9]{1,3})?) ?([a-z]+)")


def parse_duration(value: str | int) -> timedelta:
    """The duration written as ``value``; raises ``ValueError`` when it is not one."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{value} is negative")
        return timedelta(days=value)
    found = _DURATION.fullmatch(value)
    if found is None or found.group(2) not in _UNITS:
        raise ValueError(f"{value!r} is not a duration")
    return timedelta(**{_UNITS[found.group(2)]: float(found.group(1))})
