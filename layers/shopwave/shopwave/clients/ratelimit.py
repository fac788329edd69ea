"""One rate limit shared by every thread talking to a system (Wave's limit is per business).

A token bucket for the steady rate, and a pause that every caller honours after a 429's
Retry-After, so concurrent writers back off together instead of each hammering the limit.
"""
from __future__ import annotations

import random
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

    def release(self) -> None:
        """A request's answer came (nothing to give back: this limiter counts starts only)."""


class LimitedRetry(Retry):
    """urllib3's Retry, with every retry waiting its turn at the shared limiter (a RateLimiter, or
    the deployment's SharedBudget: anything with acquire/release/pause) and a 429 pausing every
    caller of that limiter: for its Retry-After, or without one for this retry's jittered backoff.
    The limiter is released while the retry waits, so a waiting caller holds no slot."""

    limiter = None  # RateLimiter | SharedBudget | None
    RETRY_AFTER_MAX = 60.0

    def parse_retry_after(self, retry_after: str) -> float:
        # urllib3 takes whole seconds or a date only; Wave documents no Retry-After, so a
        # fractional one ("0.5") is honoured as given rather than failing the request.
        try:
            seconds = float(retry_after)
        except ValueError:
            return super().parse_retry_after(retry_after)
        return min(max(seconds, 0.0), self.RETRY_AFTER_MAX) if seconds == seconds else 0.0

    def new(self, **kw):
        retry = super().new(**kw)
        retry.limiter = self.limiter
        return retry

    def throttled_backoff(self) -> float:
        """After a 429 without Retry-After: factor x 2^(n-1) plus jitter from the first retry on
        (urllib3 retries the first one at once, which only meets the same full house)."""
        backoff = self.backoff_factor * (2 ** max(len(self.history) - 1, 0))
        return min(self.backoff_max, backoff + random.random() * (self.backoff_jitter or self.backoff_factor))

    def sleep(self, response=None):
        limiter = self.limiter
        if limiter is not None:
            limiter.release()
        if response is not None and response.status == 429:
            retry_after = self.get_retry_after(response)  # "0" means at once; none: back off
            wait = self.throttled_backoff() if retry_after is None else retry_after
            if limiter is not None and wait > 0:
                limiter.pause(wait)
            time.sleep(wait)
        else:
            super().sleep(response)
        if limiter is not None:
            limiter.acquire()
