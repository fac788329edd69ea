"""Shared HTTP plumbing: sessions whose retries come from urllib3, and call counting."""
from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter

from .ratelimit import LimitedRetry, RateLimiter

RETRYABLE_STATUS = (429, 500, 502, 503, 504)


def session(*, retry_status: tuple[int, ...], read_retries: int, attempts: int = 5,
            backoff_factor: float = 0.25, limiter: RateLimiter | None = None) -> requests.Session:
    """A session that retries with exponential backoff and jitter, honouring Retry-After.

    `read_retries=0` is for requests that must not be sent twice after a timeout (a Wave
    mutation that may already have taken effect); adopt-before-create covers those instead.
    """
    retry = LimitedRetry(
        total=attempts,
        connect=3,
        read=read_retries,
        status=attempts,
        other=0,
        allowed_methods=None,  # POST included: which requests are safe is decided by the caller
        status_forcelist=retry_status,
        backoff_factor=backoff_factor,
        backoff_jitter=backoff_factor,
        backoff_max=20,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.limiter = limiter
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=32)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def attempts_made(response: requests.Response) -> int:
    """HTTP requests behind one response: the final one plus every retry urllib3 made."""
    retries = getattr(response.raw, "retries", None)
    return 1 + (len(retries.history) if retries is not None else 0)


def throttled_answers(response: requests.Response) -> int:
    """429s behind one response: the retried ones urllib3 recorded, and the final one."""
    retries = getattr(response.raw, "retries", None)
    history = retries.history if retries is not None else ()
    return sum(1 for attempt in history if attempt.status == 429) + (response.status_code == 429)


class CallCounter:
    """API calls per system, for metrics and for tests that count writes; with the 429s seen and
    the time spent waiting for answers (retries and their backoff included)."""

    def __init__(self) -> None:
        self.reads = 0
        self.writes = 0
        self.throttled = 0
        self.seconds = 0.0

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def add(self, n: int, *, write: bool, throttled: int = 0, seconds: float = 0.0) -> None:
        if write:
            self.writes += n
        else:
            self.reads += n
        self.throttled += throttled
        self.seconds += seconds
