"""Wave's public GraphQL API: one endpoint, variables only, three kinds of failure.

What Wave's answer means is decided here once: HTTP 401/403 or `UNAUTHENTICATED` is the token
refused (every request would fail alike: the run stops, nothing is parked), `INTERNAL_SERVER_ERROR`
inside an HTTP 200 is Wave failing (the same), any other GraphQL error refuses the request, except
`NOT_FOUND` on one look-up of a `query_partial`: that record is gone, the others answered."""
from __future__ import annotations

import time
from typing import Any, Callable

import requests

from ..clients.errors import AuthenticationFailed, Refused, Unavailable
from ..clients.ratelimit import RateLimiter
from ..clients.http import RETRYABLE_STATUS, CallCounter, attempts_made, session, throttled_answers

# Error codes about the token or Wave itself, never about one record (../shared/wave/README.md).
TOKEN_REFUSED_CODES = frozenset({"UNAUTHENTICATED", "FORBIDDEN"})
SERVER_FAULT_CODES = frozenset({"INTERNAL_SERVER_ERROR"})
NOT_FOUND = "NOT_FOUND"

Path = tuple[Any, ...]  # where in the data a GraphQL error points, e.g. ("business", "r3")


class WaveError(Exception):
    """Base of every Wave failure."""


class WaveTransportError(WaveError, Unavailable):
    """Wave cannot be used now: unreachable, or kept failing (timeouts, 5xx, 429) after the retries."""
    system = "Wave"


class WaveAuthenticationFailed(WaveTransportError, AuthenticationFailed):
    """Wave refused the token (HTTP 401/403, UNAUTHENTICATED), or has no such business for it."""


class WaveServerError(WaveTransportError):
    """Wave answered INTERNAL_SERVER_ERROR inside an HTTP 200: Wave's fault, not the record's."""


def _code(error: dict[str, Any]) -> str:
    return str((error.get("extensions") or {}).get("code") or "")


class WaveGraphQLError(WaveError, Refused):
    """Wave answered with GraphQL `errors` (an invalid operation, no access, unknown id)."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        codes = sorted({_code(e) for e in errors} - {""})
        super().__init__("; ".join(str(e.get("message")) for e in errors) + (f" ({', '.join(codes)})" if codes else ""))


class WaveInputError(WaveError, Refused):
    """A mutation answered `didSucceed: false`: the record is refused; retrying won't help."""

    def __init__(self, mutation: str, input_errors: list[dict[str, Any]]):
        self.mutation = mutation
        self.input_errors = input_errors or []
        detail = "; ".join(f"{'.'.join(e.get('path') or [])}: {e.get('message')}" for e in self.input_errors)
        super().__init__(f"{mutation} refused: {detail or 'no reason given'}")


class WaveClient:
    """`token` is the token, or what reads it (config.secret_reader: called per request, with
    `fresh=True` to read past its cache once Wave refuses the one it gave)."""

    def __init__(self, url: str, token: str | Callable[..., str], business_id: str, *, timeout: tuple[float, float] = (5, 30),
                 backoff_factor: float = 0.25, max_rps: float | None = None, page_size: int = 100, budget=None):
        self.url = url
        self.business_id = business_id
        self.page_size = page_size  # records per page of a list query (SYNC_PAGE_SIZE)
        self.timeout = timeout
        self.calls = CallCounter()
        # Every HTTP attempt waits its turn here: the deployment's SharedBudget (state/budget.py,
        # across containers) where one is given, else a rate limit for this process's threads.
        self.limiter = budget or RateLimiter(max_rps or None)
        self._token = token if callable(token) else (lambda fresh=False: token)
        # Queries are safe to repeat; mutations are repeated only when Wave said it did nothing.
        self._query_session = session(retry_status=RETRYABLE_STATUS, read_retries=3, backoff_factor=backoff_factor, limiter=self.limiter)
        self._mutation_session = session(retry_status=(429,), read_retries=0, backoff_factor=backoff_factor, limiter=self.limiter)

    def query(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The data; any GraphQL error raises."""
        return self._post(self._query_session, document, {"businessId": self.business_id, **variables}, write=False)[0]

    def query_partial(self, document: str, variables: dict[str, Any]) -> tuple[dict[str, Any], list[Path]]:
        """The data of a document of several look-ups by id, and the paths of those Wave answered
        NOT_FOUND (null in the data): records Wave no longer has, while the others answered. Any
        other GraphQL error raises as `query` does."""
        return self._post(self._query_session, document, {"businessId": self.business_id, **variables}, write=False,
                          partial=True)

    def mutate(self, field: str, document: str, input_: dict[str, Any]) -> dict[str, Any]:
        """Run one mutation; returns its payload, or raises WaveInputError when Wave refuses."""
        data = self._post(self._mutation_session, document, {"input": input_}, write=True)[0]
        result = data.get(field) or {}
        if not result.get("didSucceed"):
            raise WaveInputError(field, result.get("inputErrors") or [])
        return result

    def _post(self, s: requests.Session, document: str, variables: dict[str, Any], *, write: bool,
              partial: bool = False) -> tuple[dict[str, Any], list[Path]]:
        token = self._token()
        try:
            return self._send(s, document, variables, token, write=write, partial=partial)
        except WaveAuthenticationFailed:
            # A refused token did nothing (a mutation included): if the secret was rotated since it
            # was cached, the new one is tried once, so a rotation needs no new process.
            fresh = self._token(fresh=True)
            if fresh == token:
                raise
            return self._send(s, document, variables, fresh, write=write, partial=partial)

    def _send(self, s: requests.Session, document: str, variables: dict[str, Any], token: str, *, write: bool,
              partial: bool) -> tuple[dict[str, Any], list[Path]]:
        self.limiter.acquire()  # retries give their slot back and wait again inside (LimitedRetry)
        started = time.perf_counter()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            response = s.post(self.url, json={"query": document, "variables": variables}, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            self.calls.add(1, write=write, seconds=time.perf_counter() - started)
            raise WaveTransportError(f"Wave unreachable: {type(exc).__name__}") from None
        finally:
            self.limiter.release()
        self.calls.add(attempts_made(response), write=write, throttled=throttled_answers(response),
                       seconds=time.perf_counter() - started)
        if response.status_code in (401, 403):
            raise WaveAuthenticationFailed(f"Wave refused the token: HTTP {response.status_code}")
        if response.status_code in RETRYABLE_STATUS:
            raise WaveTransportError(f"Wave answered HTTP {response.status_code} after retries")
        try:
            body = response.json()
        except ValueError:
            raise WaveTransportError(f"Wave answered HTTP {response.status_code} without JSON") from None
        missing = self._missing(body["errors"], partial) if body.get("errors") else []
        if response.status_code != 200 or body.get("data") is None:
            raise WaveTransportError(f"Wave answered HTTP {response.status_code} without data")
        return body["data"], missing

    def _missing(self, errors: list[dict[str, Any]], partial: bool) -> list[Path]:
        """The paths of look-ups Wave answered NOT_FOUND, where that is all that went wrong;
        otherwise what the errors mean is raised."""
        codes = {_code(e) for e in errors}
        if codes & TOKEN_REFUSED_CODES:
            raise WaveAuthenticationFailed(f"Wave refused the token ({', '.join(sorted(codes & TOKEN_REFUSED_CODES))})")
        if codes & SERVER_FAULT_CODES:
            raise WaveServerError(f"Wave answered INTERNAL_SERVER_ERROR: {WaveGraphQLError(errors)}")
        paths = [tuple(e.get("path") or ()) for e in errors]
        if any(_code(e) == NOT_FOUND and path == ("business",) for e, path in zip(errors, paths)):
            raise WaveAuthenticationFailed(f"Wave has no business {self.business_id} this token can use (NOT_FOUND)")
        if partial and codes == {NOT_FOUND} and all(len(path) >= 2 for path in paths):
            return paths
        raise WaveGraphQLError(errors)
