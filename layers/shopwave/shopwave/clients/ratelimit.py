"""One rate limit shared by every thread talking to a system (Wave's limit is per business).

A token bucket for the steady rate, and a pause that every caller honours after a 429's
Retry-After, so concurrent writers back off together instead of each hammering the limit.
"""
from __future__ import annotations

import threading
import time

from urllib3.util.retry import Retry


class RateLimiter:
    def __init__(self, per_second: float | None = None, *, burst: float | None = None):
        self.per_second = per_second
        self.capacity = burst or (per_second or 1)
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for a token (and for any pause a 429 asked for)."""
        while True:
            with self._lock:
                now = time.monotonic()
                wait = self._paused_until - now
                if wait <= 0 and self.per_second:
                    self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.per_second)
                    self._stamp = now
                    if self._tokens >= 1:
                        self._tokens -= 1
                        return
                    wait = (1 - self._tokens) / self.per_second
                elif wait <= 0:
                    return
            time.sleep(wait)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)


class LimitedRetry(Retry):
    """urllib3's Retry, with every retry waiting its turn at the shared limiter and a
    Retry-After pausing every caller of that limiter."""

    limiter: RateLimiter | None = None

    def new(self, **kw):
        retry = super().new(**kw)
        retry.limiter = self.limiter
        return retry

    def sleep(self, response=None):
        if response is not None and self.limiter is not None:
            retry_after = self.get_retry_after(response)
            if retry_after:
                self.limiter.pause(retry_after)
        super().sleep(response)
        if self.limiter is not None:
            self.limiter.acquire()
