"""Wave's public GraphQL API: one endpoint, variables only, three kinds of failure."""
from __future__ import annotations

import time
from typing import Any

import requests

from ..clients.errors import Refused, Unavailable
from ..clients.ratelimit import RateLimiter
from ..clients.http import RETRYABLE_STATUS, CallCounter, attempts_made, session, throttled_answers


class WaveError(Exception):
    """Base of every Wave failure."""


class WaveTransportError(WaveError, Unavailable):
    """Wave could not be reached or kept failing (timeouts, 5xx, 429) after the retries."""
    system = "Wave"


class WaveGraphQLError(WaveError, Refused):
    """Wave answered with GraphQL `errors` (an invalid operation, no access, unknown id)."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        codes = sorted({str((e.get("extensions") or {}).get("code", "")) for e in errors} - {""})
        super().__init__("; ".join(str(e.get("message")) for e in errors) + (f" ({', '.join(codes)})" if codes else ""))


class WaveInputError(WaveError, Refused):
    """A mutation answered `didSucceed: false`: the record is refused; retrying won't help."""

    def __init__(self, mutation: str, input_errors: list[dict[str, Any]]):
        self.mutation = mutation
        self.input_errors = input_errors or []
        detail = "; ".join(f"{'.'.join(e.get('path') or [])}: {e.get('message')}" for e in self.input_errors)
        super().__init__(f"{mutation} refused: {detail or 'no reason given'}")


class WaveClient:
    def __init__(self, url: str, token: str, business_id: str, *, timeout: tuple[float, float] = (5, 30), backoff_factor: float = 0.25,
                 max_rps: float | None = None, page_size: int = 100, budget=None):
        self.url = url
        self.business_id = business_id
        self.page_size = page_size  # records per page of a list query (SYNC_PAGE_SIZE)
        self.timeout = timeout
        self.calls = CallCounter()
        # Every HTTP attempt waits its turn here: the deployment's SharedBudget (state/budget.py,
        # across containers) where one is given, else a rate limit for this process's threads.
        self.limiter = budget or RateLimiter(max_rps or None)
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        # Queries are safe to repeat; mutations are repeated only when Wave said it did nothing.
        self._query_session = session(retry_status=RETRYABLE_STATUS, read_retries=3, backoff_factor=backoff_factor, limiter=self.limiter)
        self._mutation_session = session(retry_status=(429,), read_retries=0, backoff_factor=backoff_factor, limiter=self.limiter)

    def query(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        return self._post(self._query_session, document, {"businessId": self.business_id, **variables}, write=False)

    def mutate(self, field: str, document: str, input_: dict[str, Any]) -> dict[str, Any]:
        """Run one mutation; returns its payload, or raises WaveInputError when Wave refuses."""
        data = self._post(self._mutation_session, document, {"input": input_}, write=True)
        result = data.get(field) or {}
        if not result.get("didSucceed"):
            raise WaveInputError(field, result.get("inputErrors") or [])
        return result

    def _post(self, s: requests.Session, document: str, variables: dict[str, Any], *, write: bool) -> dict[str, Any]:
        self.limiter.acquire()  # retries give their slot back and wait again inside (LimitedRetry)
        started = time.perf_counter()
        try:
            response = s.post(self.url, json={"query": document, "variables": variables},
                              headers=self._headers, timeout=self.timeout)
        except requests.RequestException as exc:
            self.calls.add(1, write=write, seconds=time.perf_counter() - started)
            raise WaveTransportError(f"Wave unreachable: {type(exc).__name__}") from None
        finally:
            self.limiter.release()
        self.calls.add(attempts_made(response), write=write, throttled=throttled_answers(response),
                       seconds=time.perf_counter() - started)
        if response.status_code in RETRYABLE_STATUS:
            raise WaveTransportError(f"Wave answered HTTP {response.status_code} after retries")
        try:
            body = response.json()
        except ValueError:
            raise WaveTransportError(f"Wave answered HTTP {response.status_code} without JSON") from None
        if body.get("errors"):
            raise WaveGraphQLError(body["errors"])
        if response.status_code != 200 or body.get("data") is None:
            raise WaveTransportError(f"Wave answered HTTP {response.status_code} without data")
        return body["data"]
