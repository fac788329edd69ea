"""The Customwebshop REST contract (docs/webshop-openapi.yaml)."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Iterator
from urllib.parse import quote

import requests

from ..clients.errors import AuthenticationFailed, Refused, Stale, Unavailable
from ..clients.ratelimit import RateLimiter
from ..clients.http import RETRYABLE_STATUS, CallCounter, attempts_made, session
from ..config import WEBSHOP_MAX_PAGE_SIZE


class WebshopError(Exception):
    """Base of every webshop failure."""


class WebshopTransportError(WebshopError, Unavailable):
    """Unreachable, or kept answering 429/5xx after the retries."""
    system = "webshop"


class WebshopAuthenticationFailed(WebshopTransportError, AuthenticationFailed):
    """401/403: the webshop refused the API key (revoked, expired or rotated), for every request alike."""


class WebshopInputError(WebshopError, Refused):
    """400/409/422: the webshop refuses this write; retrying the same write won't help."""


class WebshopStale(WebshopError, Stale):
    """412: the record moved on since it was read (If-Match)."""


class WebshopClient:
    """`api_key` is the key, or what reads it (config.secret_reader: called per request, with
    `fresh=True` to read past its cache once the webshop refuses the one it gave)."""

    def __init__(self, base_url: str, api_key: str | Callable[..., str], *, timeout: tuple[float, float] = (5, 30), backoff_factor: float = 0.25,
                 max_rps: float | None = None, page_size: int = 100):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.page_size = page_size
        self.calls = CallCounter()
        self.limiter = RateLimiter(max_rps or None)  # shared by every thread of this process
        self._api_key = api_key if callable(api_key) else (lambda fresh=False: api_key)
        # Every write is safe to repeat: POST carries an Idempotency-Key, PATCH an If-Match.
        self._session = session(retry_status=RETRYABLE_STATUS, read_retries=3, backoff_factor=backoff_factor, limiter=self.limiter)

    def list_page(self, resource: str, *, updated_after: str | None = None, cursor: str | None = None,
                  limit: int | None = None) -> tuple[list[dict], str | None]:
        params: dict[str, Any] = {"limit": min(limit or self.page_size, WEBSHOP_MAX_PAGE_SIZE)}  # the contract's 1..200
        if cursor:
            params["cursor"] = cursor
        elif updated_after:
            params["updated_after"] = updated_after
        body = self._request("GET", f"/{resource}", params=params)
        return body.get("data") or [], body.get("next_cursor")

    def get(self, resource: str, record_id: str) -> dict | None:
        return self._request("GET", f"/{resource}/{quote(record_id, safe='')}", missing_ok=True)

    def create(self, resource: str, body: dict[str, Any], *, idempotency_key: str) -> dict:
        return self._request("POST", f"/{resource}", json_body=body, headers={"Idempotency-Key": idempotency_key})

    def patch(self, resource: str, record_id: str, body: dict[str, Any], *, if_match: int | None = None) -> dict:
        headers = {"If-Match": str(if_match)} if if_match is not None else {}
        return self._request("PATCH", f"/{resource}/{quote(record_id, safe='')}", json_body=body, headers=headers)

    def iter_changed(self, resource: str, updated_after: str | None, page_size: int | None = None) -> Iterator[list[dict]]:
        """Pages of records changed after `updated_after`, following the keyset cursor (pages of
        `page_size` records, default the client's)."""
        cursor = None
        while True:
            page, cursor = self.list_page(resource, updated_after=updated_after, cursor=cursor, limit=page_size)
            yield page
            if not cursor:
                return

    def _request(self, method: str, path: str, *, params=None, json_body=None, headers=None, missing_ok=False):
        key = self._api_key()
        try:
            return self._send(method, path, key, params=params, json_body=json_body, headers=headers, missing_ok=missing_ok)
        except WebshopAuthenticationFailed:
            # A refused key did nothing: if the secret was rotated since it was cached, the new
            # one is tried once, so a rotation needs no new process.
            fresh = self._api_key(fresh=True)
            if fresh == key:
                raise
            return self._send(method, path, fresh, params=params, json_body=json_body, headers=headers, missing_ok=missing_ok)

    def _send(self, method: str, path: str, key: str, *, params, json_body, headers, missing_ok):
        all_headers = {"Authorization": f"Bearer {key}", "Accept": "application/json", **(headers or {})}
        data = None
        if json_body is not None:
            data = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        self.limiter.acquire()
        try:
            response = self._session.request(method, self.base_url + path, params=params, data=data,
                                             headers=all_headers, timeout=self.timeout)
        except requests.RequestException as exc:
            self.calls.add(1, write=method != "GET")
            raise WebshopTransportError(f"webshop unreachable: {type(exc).__name__}") from None
        self.calls.add(attempts_made(response), write=method != "GET")
        status = response.status_code
        if status in (401, 403):
            raise WebshopAuthenticationFailed(f"the webshop refused the API key: HTTP {status}")
        if status == 404 and missing_ok:
            return None
        if status in RETRYABLE_STATUS:
            raise WebshopTransportError(f"webshop answered HTTP {status} after retries")
        if status == 412:
            raise WebshopStale(f"{method} {path}: record changed since it was read")
        if 400 <= status < 500:
            raise WebshopInputError(f"{method} {path}: HTTP {status}: {_error_message(response)}")
        if status >= 300:
            raise WebshopTransportError(f"webshop answered HTTP {status}")
        return response.json()


def _error_message(response: requests.Response) -> str:
    try:
        error = response.json().get("error") or {}
        return f"{error.get('code')}: {error.get('message')}"
    except ValueError:
        return response.text[:200]


def idempotency_key(*parts: str) -> str:
    """A key that is the same for the same logical create, so a retried POST is harmless."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]
