"""WaveSandbox: the in-memory Wave business served over HTTP as GraphQL, with fault injection."""
from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from graphql import GraphQLError, OperationDefinitionNode, execute, get_operation_ast, parse, validate

from .api import Api
from .schema import build_executable_schema
from .store import Store

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
                 currency: str = "CAD", max_page_size: int | None = None):
        self.token = token
        self.store = Store(business_id=business_id, currency=currency)
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
        "500", or "timeout" (the answer comes `delay` seconds late; a mutation is then
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
        """Fresh business data (same business id, token and URL); clears faults and counters."""
        self.store = Store(business_id=self.business_id,
                           currency=self.store.business["currency"]["code"])
        self.api = Api(self.store, max_page_size=self.api.max_page_size)
        with self._control:
            self._faults.clear()
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
        if headers.get("Authorization", "") != f"Bearer {self.token}":
            return 401, _errors("Invalid or missing access token.", "UNAUTHENTICATED"), None
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

    def record_payment(self, invoice_id: str, amount="0") -> dict:
        return self.store.record_payment(invoice_id, amount)

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
