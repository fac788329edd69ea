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


class _Answer:
    def __init__(self, status: int, retry_after: str | None = None):
        self.status = status
        self.headers = {"Retry-After": retry_after} if retry_after is not None else {}


class _Recorder:
    """A limiter that records what the retry asked of it."""

    def __init__(self):
        self.events: list = []

    def acquire(self):
        self.events.append("acquire")

    def release(self):
        self.events.append("release")

    def pause(self, seconds):
        self.events.append(("pause", seconds))


def test_given_a_429_without_retry_after_when_retrying_then_every_caller_pauses_for_a_jittered_backoff():
    limiter = _Recorder()
    from urllib3.util.retry import RequestHistory

    retry = LimitedRetry(total=3, backoff_factor=0.1, backoff_jitter=0.1,
                         history=(RequestHistory("POST", "/", None, 429, None),))  # the first retry
    retry.limiter = limiter
    started = time.monotonic()
    retry.sleep(_Answer(429))
    assert limiter.events[0] == "release" and limiter.events[-1] == "acquire"  # no slot held while waiting
    paused = limiter.events[1][1]
    assert 0.1 <= paused <= 0.2 and time.monotonic() - started >= 0.1  # the first retry waits too


def test_given_a_fractional_retry_after_when_retrying_then_it_is_honoured_not_refused():
    limiter = _Recorder()
    retry = LimitedRetry(total=3)
    retry.limiter = limiter
    retry.sleep(_Answer(429, "0.3"))
    assert ("pause", 0.3) in limiter.events


def test_given_retry_after_zero_when_retrying_then_nobody_is_paused():
    limiter = _Recorder()
    retry = LimitedRetry(total=3)
    retry.limiter = limiter
    retry.sleep(_Answer(429, "0"))
    assert limiter.events == ["release", "acquire"]
