"""EventBridge schedule expressions, for the local gateway to fire them as template.yaml declares.

    next_fire("cron(2/5 * * * ? *)", after)   # the next matching minute after `after` (UTC)
    waits("rate(5 minutes)", speedup=60)      # seconds to wait before each run, endlessly

Cron fields: minutes hours day-of-month month day-of-week year, each `*`, `?`, a number or name,
a range `a-b`, a step `a/n` or `a-b/n`, or a list of those; L, W and # are not supported.
Day-of-week counts like EventBridge: 1 = SUN ... 7 = SAT.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Iterator

from devstack.template import parse_rate

_MONTHS = {name: i for i, name in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), 1)}
_DAYS = {name: i for i, name in enumerate("SUN MON TUE WED THU FRI SAT".split(), 1)}
_FIELDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (1, 7, _DAYS), (1970, 2199, {}))
_CRON = re.compile(r"^cron\((.*)\)$")


def _values(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int] | None:
    """The values one field allows; None for `*` and `?` (any)."""
    if text in ("*", "?"):
        return None
    allowed: set[int] = set()
    for part in text.split(","):
        match = re.fullmatch(r"(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:/(\d+))?", part)
        if not match:
            raise ValueError(f"unsupported cron field {text!r}")
        first, last, step = match.groups()

        def number(token: str) -> int:
            value = names.get(token.upper()) if not token.isdigit() else int(token)
            if value is None or not low <= value <= high:
                raise ValueError(f"cron value {token!r} out of {low}-{high}")
            return value

        start = low if first == "*" else number(first)
        end = number(last) if last else (high if step or first == "*" else start)
        allowed.update(range(start, end + 1, int(step or 1)))
    return frozenset(allowed)


def parse_cron(expression: str) -> tuple[frozenset[int] | None, ...]:
    match = _CRON.match(expression.strip())
    if not match:
        raise ValueError(f"not a cron expression: {expression!r}")
    parts = match.group(1).split()
    if len(parts) != 6:
        raise ValueError(f"a cron expression has 6 fields: {expression!r}")
    return tuple(_values(part, *spec) for part, spec in zip(parts, _FIELDS))


def next_fire(expression: str, after: datetime) -> datetime:
    """The first whole minute strictly after `after` (UTC) the cron expression matches."""
    minutes, hours, days, months, weekdays, years = parse_cron(expression)
    moment = after.astimezone(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(60 * 24 * 366 * 5):  # five years of minutes: an impossible expression ends
        weekday = moment.isoweekday() % 7 + 1  # EventBridge: SUN = 1
        if all(allowed is None or value in allowed for allowed, value in (
                (minutes, moment.minute), (hours, moment.hour), (days, moment.day),
                (months, moment.month), (weekdays, weekday), (years, moment.year))):
            return moment
        moment += timedelta(minutes=1)
    raise ValueError(f"cron expression never fires: {expression!r}")


def waits(expression: str, speedup: float = 1.0, start: datetime | None = None) -> Iterator[float]:
    """Seconds to wait before each run: a rate's interval, or for a cron expression the time to
    its next minute on a clock that runs `speedup` times faster from `start` (now)."""
    if not expression.strip().startswith("cron("):
        interval = parse_rate(expression) / speedup
        while True:
            yield interval
    clock = start or datetime.now(timezone.utc)
    while True:
        fire = next_fire(expression, clock)
        yield (fire - clock).total_seconds() / speedup
        clock = fire


def period(expression: str, start: datetime | None = None) -> float:
    """Seconds between runs: a rate's interval; for cron, between its next two runs."""
    if not expression.strip().startswith("cron("):
        return float(parse_rate(expression))
    first = next_fire(expression, start or datetime.now(timezone.utc))
    return (next_fire(expression, first) - first).total_seconds()
