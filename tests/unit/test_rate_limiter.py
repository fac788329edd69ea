"""The shared rate limiter: a 429's Retry-After holds every caller, not just the one that got it."""
import time

from shopwave.clients.ratelimit import LimitedRetry, RateLimiter


def test_given_a_pause_when_another_caller_acquires_then_it_waits_for_the_pause_to_end():
    limiter = RateLimiter(None)
    limiter.pause(0.3)
    started = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - started >= 0.25


def test_given_a_steady_rate_when_the_burst_is_spent_then_the_next_caller_waits_for_a_token():
    limiter = RateLimiter(5, burst=2)
    limiter.acquire(), limiter.acquire()
    started = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - started >= 0.15  # one token every 0.2 s


def test_given_no_limit_when_acquiring_then_nobody_waits():
    limiter = RateLimiter(None)
    started = time.monotonic()
    for _ in range(1000):
        limiter.acquire()
    assert time.monotonic() - started < 0.5


def test_given_a_retry_derived_from_a_limited_one_when_created_then_it_keeps_the_limiter():
    retry = LimitedRetry(total=3)
    retry.limiter = RateLimiter(None)
    assert retry.new(total=2).limiter is retry.limiter
