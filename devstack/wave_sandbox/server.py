"""WaveSandbox: the in-memory Wave business served over HTTP as GraphQL, with fault injection."""
from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from graphql import GraphQLError, OperationDefinitionNode, execute, get_operation_ast, parse, validate

from .api import MAX_PAGE_SIZE, Api
from .schema import build_executable_schema
from .store import Store
from .undocumented import PRECISIONS

PATH = "/graphql/public"
_EXEC_SCHEMA = None
_EXEC_SCHEMA_LOCK = threading.Lock()


def _exec_schema():
    global _EXEC_SCHEMA
    with _EXEC_SCHEMA_LOCK:
        if _EXEC_SCHEMA is None:
            _EXEC_SCHEMA = build_executable_schema()
        return _EXEC_SCHEMA


def _errors(message: str, code: str) -> dict:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall
    protocol_version = "HTTP/1.1"
    sandbox: "WaveSandbox"

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):  # noqa: N802
        self._send(405, _errors("Use POST.", "METHOD_NOT_ALLOWED"), {"Allow": "POST"})

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, payload, headers = self.sandbox._handle(self.path, self.headers, body)
        self._send(status, payload, headers)


class WaveSandbox:
    def __init__(self, token: str = "wave-sandbox-token", business_id: str | None = None,
                 currency: str = "CAD", max_page_size: int | None = MAX_PAGE_SIZE):
        self.token = token
        self.store = Store(business_id=business_id, currency=currency)
        self._max_page_size = max_page_size  # what reset() restores
        self.api = Api(self.store, max_page_size=max_page_size)
        self.requests: list[dict] = []
        self.url: str | None = None
        self._faults: deque = deque()
        self._latency = 0.0
        self._rate: float | None = None
        self._tokens = 0.0
        self._refilled = time.monotonic()
        self._control = threading.Lock()
        self._fault_rate = 0.0
        self._fault_rng: random.Random | None = None
        self._fault_kinds: tuple[str, ...] = ()
        self._fault_delay = 1.0
        self._cap: int | None = None  # requests Wave serves at once; one more answers 429
        self._cap_retry_after: float | None = None
        self._in_flight = 0
        self.over_cap_answers = 0  # 429s the cap gave
        self.peak_in_flight = 0  # most requests served at once (admitted ones)
        self.served_seconds = 0.0  # summed time admitted requests spent being served
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._token_refusal: int | None = None  # revoke_token(): how the token is refused, while it is
        self._graphql_errors: deque = deque()  # inject_graphql_error(): codes answered inside an HTTP 200
        self.refused_tokens = 0  # requests refused for their token (not in `requests`: refused before anything)

    @property
    def business_id(self) -> str:
        return self.store.business["id"]

    # ----- lifecycle --------------------------------------------------------------------
    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        _exec_schema()
        handler = type("WaveSandboxHandler", (_Handler,), {"sandbox": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="wave-sandbox")
        self._thread.start()
        self.url = f"http://{host}:{self._server.server_address[1]}{PATH}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # ----- fault injection --------------------------------------------------------------
    def inject_fault(self, status: int | None = None, count: int = 1,
                     retry_after: float | None = None, delay: float | None = None) -> None:
        with self._control:
            for _ in range(count):
                self._faults.append({"status": status, "retry_after": retry_after,
                                     "delay": delay})

    def set_fault_rate(self, rate: float, rng: random.Random | None = None,
                       kinds=("429", "500", "timeout"), delay: float = 1.0) -> None:
        """Fail a random share of requests (rate 0 turns it off): "429" (Retry-After: 0),
        "500", "error_200" (INTERNAL_SERVER_ERROR inside an HTTP 200, nothing executed),
        or "timeout" (the answer comes `delay` seconds late; a mutation is then
        executed before or after the wait, chosen at random: the write may have happened
        although the client saw a timeout)."""
        with self._control:
            self._fault_rate = float(rate or 0)
            self._fault_rng = rng or random.Random()
            self._fault_kinds = tuple(kinds)
            self._fault_delay = float(delay)

    def _random_fault(self, operation) -> tuple[str | None, bool]:
        """(kind, after) for this request: kind None when it goes through."""
        with self._control:
            if not self._fault_rate or not self._fault_kinds or self._fault_rng.random() >= self._fault_rate:
                return None, False
            kind = self._fault_rng.choice(self._fault_kinds)
            after = kind == "timeout" and self._fault_rng.random() < 0.5
        return kind, after and operation is not None and operation.operation.value == "mutation"

    # ----- switches for what the live API does (../shared/wave/README.md, "The live API in 2026")
    def set_page_size_limit(self, maximum: int | None = MAX_PAGE_SIZE, over: str = "refuse") -> None:
        """Switch: the largest `pageSize` a list answers (None: any), and what a larger request
        gets: "refuse" (a BAD_USER_INPUT error) or "clamp" (a page of `maximum`). Wave's reported
        maximum is 200; which of the two it does beyond it is unconfirmed."""
        assert over in ("refuse", "clamp"), over
        self.api.max_page_size, self.api.over_max = maximum, over

    def null_in_patch(self, mode: str = "clears") -> None:
        """Switch: what an explicit null in a patch input does (undocumented in Wave): "clears"
        the field (default), "input_error" (didSucceed: false, code BAD_USER_INPUT) or
        "graphql_error" (an `errors` entry with extensions.code BAD_USER_INPUT). Reset restores "clears"."""
        assert mode in ("clears", "input_error", "graphql_error"), mode
        self.store.null_in_patch = mode

    def set_missing_by_id(self, mode: str) -> None:
        """"not_found" (default, as Wave): a look-up by id of a record the business does not have
        answers a NOT_FOUND error with the alias's path and null there, the other aliases still
        answer; "null": null alone."""
        self.api = Api(self.store, max_page_size=self.api.max_page_size, over_max=self.api.over_max, missing_by_id=mode)

    def revoke_token(self, status: int = 401) -> None:
        """The token stops working (revoked or expired): every request is answered `status` (401 or
        403) with UNAUTHENTICATED, or with 200 the same error inside `{"data": null}`."""
        if status not in (200, 401, 403):
            raise ValueError("status must be 401, 403 or 200")
        self._token_refusal = status

    def restore_token(self) -> None:
        self._token_refusal = None

    def rotate_token(self, new_token: str) -> None:
        """A new token replaces the old one, which is refused from now on (and the revocation ends)."""
        self.token = new_token
        self._token_refusal = None

    def inject_graphql_error(self, code: str = "INTERNAL_SERVER_ERROR", count: int = 1) -> None:
        """The next `count` requests answer HTTP 200 with `{"data": null, "errors": [{..., code}]}`."""
        with self._control:
            self._graphql_errors.extend([code] * count)

    def play_undocumented(self, *, precision: str | None = None, after_inclusive: bool | None = None,
                          payments_bump_modified_at: bool | None = None) -> None:
        """Play one answer of each fact Wave does not document (undocumented.py); None keeps the
        current one. `reset()` goes back to milliseconds, exclusive `after`, payments that bump."""
        played = self.store.undocumented
        if precision is not None:
            if precision not in PRECISIONS:
                raise ValueError(f"precision must be one of {PRECISIONS}")
            played.precision = precision
        if after_inclusive is not None:
            played.after_inclusive = after_inclusive
        if payments_bump_modified_at is not None:
            played.payments_bump_modified_at = payments_bump_modified_at

    def advance_clock(self, seconds: float) -> None:
        """Wave's clock moves on `seconds` (stamps of later writes); negative sets it back (records
        seeded as if last changed a while ago)."""
        self.store.clock.advance(seconds)

    def hold_clock(self, held: bool = True) -> None:
        """Wave's clock stops (every write shares one instant) until `hold_clock(False)`."""
        self.store.clock.hold(held)

    def set_latency(self, seconds: float) -> None:
        self._latency = float(seconds or 0)

    def set_rate_limit(self, per_second: float | None = None) -> None:
        with self._control:
            self._rate = per_second
            self._tokens = float(per_second or 0)
            self._refilled = time.monotonic()

    def set_concurrency_cap(self, cap: int | None, retry_after: float | None = None) -> None:
        """Serve at most `cap` requests at once (None: no cap); one beyond answers 429 at once,
        with `Retry-After: <retry_after>` or, when None, without the header (Wave documents none).
        urllib3 honours only whole seconds: a fractional value is sent as written, to test that."""
        with self._control:
            self._cap = cap
            self._cap_retry_after = retry_after

    @property
    def in_flight(self) -> int:
        """Requests being served now (a client that gave up waiting may leave one behind)."""
        return self._in_flight

    def _enter(self) -> float | None:
        """The moment an admitted request came in; None when the cap refuses it."""
        with self._control:
            if self._cap is not None and self._in_flight >= self._cap:
                self.over_cap_answers += 1
                return None
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            return time.monotonic()

    def _leave(self, entered: float) -> None:
        with self._control:
            self._in_flight -= 1
            self.served_seconds += time.monotonic() - entered

    def reset(self) -> None:
        """Fresh business data (same business id, token and URL); clears faults, switches and counters."""
        self.store = Store(business_id=self.business_id,
                           currency=self.store.business["currency"]["code"])
        self.api = Api(self.store, max_page_size=self._max_page_size, missing_by_id=self.api.missing_by_id)
        with self._control:
            self._faults.clear()
            self._graphql_errors.clear()
            self._token_refusal, self.refused_tokens = None, 0
        self.set_rate_limit(None)
        self.set_concurrency_cap(None)
        self.set_latency(0)
        self.reset_counters()

    def reset_counters(self) -> None:
        with self._control:
            self.requests.clear()
            self.over_cap_answers = 0
            self.served_seconds = 0.0
            self.peak_in_flight = self._in_flight

    def _take_token(self) -> bool:
        with self._control:
            if not self._rate:
                return True
            now = time.monotonic()
            self._tokens = min(self._rate, self._tokens + (now - self._refilled) * self._rate)
            self._refilled = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False

    # ----- request handling -------------------------------------------------------------
    def _handle(self, path: str, headers, body: bytes):
        entered = self._enter()
        if entered is None:
            extra = {} if self._cap_retry_after is None else {"Retry-After": f"{self._cap_retry_after:g}"}
            return self._log(None, 429, _errors("Too many concurrent requests.", "RATE_LIMITED"), extra)
        try:  # counted out before the answer is written: the client may send its next one at once
            return self._serve(path, headers, body)
        finally:
            self._leave(entered)

    def _serve(self, path: str, headers, body: bytes):
        if self._latency:
            time.sleep(self._latency)
        if path.split("?")[0] != PATH:
            return 404, _errors("Not found.", "NOT_FOUND"), None
        refusal = self._token_refusal
        if headers.get("Authorization", "") != f"Bearer {self.token}" or refusal is not None:
            with self._control:
                self.refused_tokens += 1
            body = _errors("Invalid or missing access token.", "UNAUTHENTICATED")
            return (200, {"data": None, **body}, None) if refusal == 200 else (refusal or 401, body, None)
        try:
            request = json.loads(body or b"null")
            if not isinstance(request, dict) or not isinstance(request.get("query"), str):
                raise ValueError("body must be a JSON object with a 'query' string")
        except ValueError as exc:
            return self._log(None, 400, _errors(f"Bad request: {exc}", "BAD_REQUEST"))
        try:
            document = parse(request["query"])
        except GraphQLError as exc:
            return self._log(None, 400, {"errors": [exc.formatted]})
        operation = get_operation_ast(document, request.get("operationName"))
        with self._control:
            fault = self._faults.popleft() if self._faults else None
            graphql_error = self._graphql_errors.popleft() if self._graphql_errors and not fault else None
        if graphql_error:
            return self._log(operation, 200, {"data": None, **_errors(f"Injected {graphql_error}.", graphql_error)})
        if fault:
            if fault["delay"]:
                time.sleep(fault["delay"])
            if fault["status"]:
                extra = {}
                if fault["retry_after"] is not None:
                    extra["Retry-After"] = str(fault["retry_after"])
                code = "RATE_LIMITED" if fault["status"] == 429 else "INTERNAL_SERVER_ERROR"
                return self._log(operation, fault["status"],
                                 _errors(f"Injected fault {fault['status']}.", code), extra)
        kind, after = self._random_fault(operation)
        if kind in ("429", "500"):
            status = int(kind)
            code = "RATE_LIMITED" if status == 429 else "INTERNAL_SERVER_ERROR"
            return self._log(operation, status, _errors(f"Injected fault {status}.", code),
                             {"Retry-After": "0"} if status == 429 else None)
        if kind == "error_200":
            return self._log(operation, 200, {"data": None, **_errors("Injected fault.", "INTERNAL_SERVER_ERROR")})
        if kind == "timeout" and not after:
            time.sleep(self._fault_delay)
            return self._log(operation, 504, _errors("Injected timeout.", "GATEWAY_TIMEOUT"))
        if not self._take_token():
            return self._log(operation, 429, _errors("Too many requests.", "RATE_LIMITED"),
                             {"Retry-After": "1"})
        schema = _exec_schema()
        errors = validate(schema, document)
        if errors:
            return self._log(operation, 400, {"errors": [e.formatted for e in errors]})
        with self.store.lock:  # one request at a time: every request is atomic
            result = execute(schema, document, root_value=self.api.build_root(),
                             variable_values=request.get("variables") or {},
                             operation_name=request.get("operationName"))
        payload = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        if kind == "timeout":
            time.sleep(self._fault_delay)  # executed, but the client has given up waiting
        return self._log(operation, 200, payload)

    def _log(self, operation: OperationDefinitionNode | None, status: int, payload: dict,
             headers: dict | None = None):
        fields = []
        if operation is not None:
            fields = [sel.name.value for sel in operation.selection_set.selections
                      if hasattr(sel, "name")]
        entry = {"kind": operation.operation.value if operation else None, "fields": fields,
                 "status": status,
                 "operationName": operation.name.value if operation and operation.name else None}
        with self._control:
            self.requests.append(entry)
        return status, payload, headers

    # ----- direct data access (bypasses HTTP, not counted) ------------------------------
    def create_customer(self, **fields) -> dict:
        return self.store.customer_create(fields)

    def update_customer(self, id: str, **fields) -> dict:  # noqa: A002
        return self.store.customer_patch({**fields, "id": id})

    def archive_customer(self, id: str) -> dict:  # noqa: A002
        return self.store.customer_archive(id)

    def delete_customer(self, id: str) -> None:  # noqa: A002
        self.store.customer_delete(id)

    def get_customer(self, id: str) -> dict | None:  # noqa: A002
        with self.store.lock:
            record = self.store.customers_by_id.get(id)
            return self.store.copy(record) if record else None

    def customers(self) -> list[dict]:
        return self._all(self.store.customers_by_id)

    def create_product(self, **fields) -> dict:
        return self.store.product_create(fields)

    def update_product(self, id: str, **fields) -> dict:  # noqa: A002
        return self.store.product_patch({**fields, "id": id})

    def archive_product(self, id: str) -> dict:  # noqa: A002
        return self.store.product_archive(id)

    def products(self) -> list[dict]:
        return self._all(self.store.products_by_id)

    def create_invoice(self, **fields) -> dict:
        return self.store.invoice_create(fields)

    def update_invoice(self, id: str, **fields) -> dict:  # noqa: A002
        return self.store.invoice_patch({**fields, "id": id})

    def get_invoice(self, id: str) -> dict | None:  # noqa: A002
        with self.store.lock:
            record = self.store.invoices_by_id.get(id)
            return self.store.copy(record) if record else None

    def invoices(self) -> list[dict]:
        return self._all(self.store.invoices_by_id)

    def record_payment(self, invoice_id: str, amount="0", **how) -> dict:
        """The merchant records a payment in Wave's screens (`how`: method, payment_date, account_id, memo)."""
        return self.store.record_payment(invoice_id, amount, **how)

    def approve_invoice(self, id: str) -> dict:  # noqa: A002
        return self.store.invoice_approve(id)

    def mark_invoice_sent(self, id: str, send_method: str = "MARKED_SENT") -> dict:  # noqa: A002
        return self.store.invoice_mark_sent(id, send_method)

    def delete_invoice(self, id: str) -> None:  # noqa: A002
        self.store.invoice_delete(id)

    def sales_taxes(self) -> list[dict]:
        return self._all(self.store.taxes_by_id)

    def accounts(self) -> list[dict]:
        return self._all(self.store.accounts_by_id)

    def _all(self, table: dict) -> list[dict]:
        with self.store.lock:
            return [self.store.copy(r) for r in table.values()]
