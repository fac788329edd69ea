"""Each side's timestamps, read into one comparable form (UTC, microseconds, fixed width)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def normalise(value: str | None) -> str:
    return parse(value).strftime(FORMAT) if value else ""


def format_moment(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(FORMAT)


def minus(value: str, overlap: timedelta) -> str:
    """A filter bound a little before `value`: whether a side's `after` is strict or not, and
    whatever its precision, records at `value` itself are read again (and skipped as seen)."""
    return (parse(value) - overlap).strftime(FORMAT)


def wave_format(value: str) -> str:
    return parse(value).strftime("%Y-%m-%dT%H:%M:%S.") + f"{parse(value).microsecond // 1000:03d}Z"
