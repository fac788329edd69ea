"""WebshopSandbox: the reference implementation of the Customwebshop contract."""

import base64
import binascii
import hashlib
import json
import random
import threading
from http.server import ThreadingHTTPServer

from .errors import ApiError, bad_request, conflict, not_found
from .schemas import CONTRACT_RESOURCES, check_shape, merge_patch
from .store import Store
from .values import format_ts, parse_ts
from .webhooks import AutoDeliverer, post_event

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
FAULT_CODES = {429: "rate_limited", 500: "internal_error", 502: "bad_gateway",
               503: "unavailable", 504: "gateway_timeout"}


def public(record):
    """The record as the API shows it (internal ``_...`` keys removed)."""
    return {k: v for k, v in record.items() if not k.startswith("_")} if record else None


def _fields(record):
    skip = ("id", "created_at", "updated_at", "version", "deleted")
    return {k: v for k, v in record.items() if k not in skip}


def _check_if_match(record, if_match):
    if if_match is None:
        return
    text = if_match.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not (text.isascii() and text.isdigit()):
        raise bad_request(f"If-Match must be a record version such as 3, got {if_match!r}")
    if int(text) != record["version"]:
        raise ApiError(412, "precondition_failed",
                       f"{record['id']} is at version {record['version']}, not {int(text)}")


class WebshopSandbox:
    """``resources``: what it serves (schemas.Resource), the contract's customers, products and
    orders unless given others; a test may serve one more of its own."""

    def __init__(self, db_path=":memory:", api_key="shop-sandbox-key", webhook_secret="whsec_sandbox",
                 webhook_urls=None, auto_deliver=False, base_path="/api/v1", retry_interval=1.0,
                 resources=CONTRACT_RESOURCES):
        self.store = Store(db_path, resources)
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_urls = dict(webhook_urls or {})
        self.base_path = base_path.rstrip("/")
        self.requests = []
        self._faults = []
        self._fault_lock = threading.Lock()
        self._fault_rate, self._fault_rng, self._fault_statuses = 0.0, None, (503,)
        self._deliver_lock = threading.Lock()
        self.key_revoked = False  # revoke_key(): the key is refused (401, as CONTRACT.md says) until restored
        self.refused_keys = 0  # API requests refused for their key (not in `requests`: refused before anything)
        self._server = self._thread = None
        self._auto = AutoDeliverer(self.deliver_webhooks, retry_interval) if auto_deliver else None

    # -- server lifecycle ------------------------------------------------------------------
    def start(self, port=0, host="127.0.0.1"):
        from .server import make_handler

        self._server = ThreadingHTTPServer((host, port), make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="webshop-sandbox", daemon=True)
        self._thread.start()
        return self.base_url

    @property
    def port(self):
        return self._server.server_address[1] if self._server else None

    @property
    def base_url(self):
        if not self._server:
            return None
        host = self._server.server_address[0]
        return f"http://{host}:{self.port}{self.base_path}"

    def stop(self):
        if self._auto:
            self._auto.stop()
            self._auto = None
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- test controls ----------------------------------------------------------------------
    def revoke_key(self):
        """The API key stops working: every API request is answered 401, as for a wrong key."""
        self.key_revoked = True

    def restore_key(self):
        self.key_revoked = False

    def rotate_key(self, new_key):
        """A new key replaces the old one, which is refused from now on (and a revocation ends)."""
        self.api_key, self.key_revoked = new_key, False

    def inject_fault(self, status=503, count=1, retry_after=None):
        with self._fault_lock:
            self._faults.extend([(status, retry_after)] * count)

    def set_fault_rate(self, rate, rng=None, statuses=(503,)):
        """Answer a random share of API requests with one of ``statuses`` before doing
        anything (rate 0 turns it off); queued ``inject_fault`` faults come first."""
        with self._fault_lock:
            self._fault_rate = float(rate or 0)
            self._fault_rng = rng or random.Random()
            self._fault_statuses = tuple(statuses)

    def take_fault(self):
        """The ApiError for the next injected fault, or None."""
        with self._fault_lock:
            if self._faults:
                status, retry_after = self._faults.pop(0)
            elif self._fault_rate and self._fault_rng.random() < self._fault_rate:
                status, retry_after = self._fault_rng.choice(self._fault_statuses), None
            else:
                return None
        if status == 429 and retry_after is None:
            retry_after = 1
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return ApiError(status, FAULT_CODES.get(status, "injected_fault"), f"injected fault ({status})", headers)

    def record_request(self, method, path, status):
        self.requests.append({"method": method, "path": path, "status": status})

    def reset_counters(self):
        self.requests.clear()

    @property
    def resources(self):
        """The names of the resources it serves."""
        return tuple(self.store.resources)

    def _resource(self, name):
        spec = self.store.resources.get(name)
        if spec is None:
            raise ApiError(404, "not_found", f"unknown resource {name!r}")
        return spec

    # -- direct access (same rules as the API, not counted in ``requests``) -----------------
    def _check_unique(self, spec, fields, record_id=None):
        for rule in spec.unique:
            value = fields.get(rule.field)
            if not value:
                continue
            for other in self.store.find(spec.name, rule.field, value):
                if other["id"] != record_id and (rule.among_deleted or not other["deleted"]):
                    raise conflict(f"{rule.label} {value!r} is already used by {other['id']}", rule.code)

    def create(self, resource, data):
        """Create a record as the merchant would in the shop's own admin: the API's rules, plus
        the merchant-only fields (an order's ``order_discount``). Direct callers may pass an
        ``id`` to seed a fixed one."""
        data = dict(data)
        return self._create(resource, data, data.pop("id", None), merchant=True)

    def _create(self, resource, data, record_id=None, merchant=False):
        spec = self._resource(resource)
        check_shape(spec, data, merchant)
        with self.store.lock:
            if record_id is not None and self.store.get(resource, record_id):
                raise conflict(f"{resource} {record_id!r} already exists", "duplicate_id")
            fields = spec.normalize(data, self.store.get, None)
            self._check_unique(spec, fields)
            if spec.numbered and fields[spec.numbered] is None:
                fields[spec.numbered] = self.store.next_number(resource, spec.numbered)
            record = self.store.insert(resource, fields, record_id)
        self._changed()
        return public(record)

    def update(self, resource, record_id, data, if_match=None):
        """Change a record as the merchant would (PATCH's rules, plus the merchant-only fields)."""
        return self._update(resource, record_id, data, if_match, merchant=True)

    def _update(self, resource, record_id, data, if_match=None, merchant=False):
        """PATCH: given fields replace, nested objects merge, order lines merge by line id."""
        spec = self._resource(resource)
        check_shape(spec, data, merchant)
        with self.store.lock:
            current = self._current(resource, record_id, if_match)
            if current["deleted"]:
                raise conflict(f"{resource} {record_id!r} is deleted", "deleted")
            old = _fields(current)
            fields = spec.normalize(merge_patch(old, data), self.store.get, current)
            if spec.numbered and fields[spec.numbered] is None:
                fields[spec.numbered] = old[spec.numbered]
            if fields == old:
                return public(current)  # nothing changed: no new version, no webhook
            self._check_unique(spec, fields, record_id)
            record = self.store.replace(resource, record_id, fields)
        self._changed()
        return public(record)

    def _current(self, resource, record_id, if_match):
        """The stored record a write applies to (404 if none, 412 if If-Match is stale); under the lock."""
        current = self.store.get(resource, record_id)
        if current is None:
            raise not_found(resource, record_id)
        _check_if_match(current, if_match)
        return current

    def delete(self, resource, record_id, if_match=None):
        """Soft delete; deleting a deleted record answers it unchanged."""
        self._resource(resource)
        with self.store.lock:
            current = self._current(resource, record_id, if_match)
            if current["deleted"]:
                return public(current)
            record = self.store.replace(resource, record_id, _fields(current), deleted=True)
        self._changed()
        return public(record)

    def get(self, resource, record_id):
        self._resource(resource)
        with self.store.lock:
            return public(self.store.get(resource, record_id))

    def all(self, resource):
        self._resource(resource)
        with self.store.lock:
            return [public(r) for r in self.store.all(resource)]

    # -- API helpers (the contract's fields only) ----------------------------------------------
    def api_update(self, resource, record_id, body, if_match=None):
        """PATCH /{resource}/{id}."""
        return self._update(resource, record_id, body, if_match)

    def api_create(self, resource, body, key=None):
        """POST: (status, body, replayed); honours an Idempotency-Key."""
        if key is None:
            return 201, self._create(resource, body), False
        canonical = json.dumps([resource, body], sort_keys=True, separators=(",", ":"))
        fingerprint = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        with self.store.lock:
            seen = self.store.idempotent_result(key)
            if seen:
                if seen[0] != fingerprint:
                    raise conflict("this Idempotency-Key was used with another request body",
                                   "idempotency_key_reused")
                return seen[1], seen[2], True
            record = self._create(resource, body)
            self.store.remember(key, fingerprint, 201, record)
        return 201, record, False

    def list_page(self, resource, updated_after=None, limit=None, cursor=None):
        self._resource(resource)
        if limit is None:
            limit = DEFAULT_LIMIT
        else:
            if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= MAX_LIMIT:
                raise bad_request(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
            limit = int(limit)
        watermark = format_ts(parse_ts(updated_after, "updated_after")) if updated_after is not None else None
        after = self._decode_cursor(resource, cursor) if cursor else None
        with self.store.lock:
            rows = self.store.feed(resource, watermark, after, limit + 1)
        page = rows[:limit]
        next_cursor = self._encode_cursor(resource, page[-1]) if len(rows) > limit else None
        return {"data": [public(r) for r in page], "next_cursor": next_cursor}

    @staticmethod
    def _encode_cursor(resource, record):
        raw = json.dumps([resource, record["updated_at"], record["id"]], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")

    @staticmethod
    def _decode_cursor(resource, cursor):
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            kind, updated_at, record_id = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            if kind != resource or not isinstance(updated_at, str) or not isinstance(record_id, str):
                raise ValueError(kind)
            return updated_at, record_id
        except (ValueError, TypeError, binascii.Error, UnicodeError):
            raise bad_request("cursor is not a cursor this feed issued", code="bad_cursor") from None

    # -- webhooks ------------------------------------------------------------------------------
    @property
    def outbox(self):
        return [event for _, _, event in self.store.pending()]

    def take_outbox(self):
        """Remove and return the pending events as [(resource, event)], in order: the caller
        delivers them itself (lost, duplicated, reordered, as it likes)."""
        with self._deliver_lock:
            taken = self.store.pending()
            for seq, _, _ in taken:
                self.store.delivered(seq)
        return [(resource, event) for _, resource, event in taken]

    def set_webhook_urls(self, urls):
        self.webhook_urls = dict(urls or {})
        self._changed()

    def _changed(self):
        if self._auto:
            self._auto.poke()

    def deliver_webhooks(self):
        """POST each pending event (signed) to its resource's URL -> [(event, status)].

        ``status`` is the receiver's HTTP status, or None if it could not be reached. Only
        2xx answers remove an event; the rest stay pending (same delivery id on retry).
        Events for a resource without a URL are left pending and not reported.
        """
        results = []
        with self._deliver_lock:
            for seq, resource, event in self.store.pending():
                url = self.webhook_urls.get(resource)
                if not url:
                    continue
                status = post_event(url, self.webhook_secret, event)
                if status is not None and 200 <= status < 300:
                    self.store.delivered(seq)
                else:
                    self.store.attempted(seq, status)
                results.append((event, status))
        return results
