"""One clock for both systems: every write on either side gets a stamp 1 ms after the last
one, so `updated_at` / `modifiedAt` strictly increase, and the edit made later in a test is
the later edit for the merge (as it would be with real clocks, minus the ties and the skew)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class LogicalClock:
    step = timedelta(milliseconds=1)  # Wave keeps milliseconds: one step apart on both sides

    def __init__(self, start: datetime | None = None):
        start = start or datetime.now(timezone.utc)
        self._last = start.replace(microsecond=start.microsecond // 1000 * 1000)
        self._lock = threading.Lock()

    def tick(self) -> datetime:
        with self._lock:
            self._last += self.step
            return self._last

    def to_next_second(self) -> None:
        """The next stamps start a new second (a test of what shares one second under Wave's coarse precision)."""
        with self._lock:
            self._last = self._last.replace(microsecond=0) + timedelta(seconds=1)

    # the Wave sandbox store's clock interface (util.Clock)
    def now_ms(self) -> int:
        return int(self.tick().timestamp() * 1000)

    def now(self) -> str:
        moment = self.tick()
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class WallClock:
    """The state store's "now" (claims' leases, parked records' due times): real time plus
    whatever a test has moved it on, so a lease can run out or a backoff pass without sleeping."""

    def __init__(self):
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def advance(self, by: timedelta | float) -> None:
        self.offset += by if isinstance(by, timedelta) else timedelta(seconds=by)
