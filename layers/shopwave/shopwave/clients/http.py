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


class CallCounter:
    """API calls per system, for metrics and for tests that count writes."""

    def __init__(self) -> None:
        self.reads = 0
        self.writes = 0

    @property
    def total(self) -> int:
        return self.reads + self.writes

    def add(self, n: int, *, write: bool) -> None:
        if write:
            self.writes += n
        else:
            self.reads += n
