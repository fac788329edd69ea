"""The local gateway: template.yaml's functions behind a loopback HTTP server and timers.

    gw = LocalGateway(load_template(), env={"LINKS_TABLE": ..., "AWS_ENDPOINT_URL_DYNAMODB": ...})
    url = gw.start()                    # every Api route of the template, REST proxy events (v1.0)
    gw.start_schedules(speedup=60)      # every Schedule event, at its rate / speedup
    gw.invoke("CustomerToWaveFunction", event); gw.fire_schedule("CustomerToWebshopFunction")
    gw.stop()

Handlers run in this process (threads), like one warm Lambda sandbox per function: their
modules import once per gateway, with the function's environment put into os.environ first.

CLI: `python -m devstack.gateway sign-event --secret whsec_local_test` prints a freshly signed
webhook event (see events/README.md).
"""
from __future__ import annotations

import argparse
import base64
import importlib.util
import itertools
import json
import logging
import os
import re
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qsl, urlsplit

from devstack import environ, schedule
from shopwave.webhook import signature

from devstack.lambda_context import LambdaContext
from devstack.template import (DEFAULT_TABLE_PREFIX, LOCAL_PSEUDO_PARAMETERS, ROOT, FunctionSpec,
                               functions, load_template)

log = logging.getLogger("devstack.gateway")

REGION = LOCAL_PSEUDO_PARAMETERS["AWS::Region"]
ACCOUNT = LOCAL_PSEUDO_PARAMETERS["AWS::AccountId"]
STAGE = "local"
# What the local process needs that Lambda would provide or that has no local counterpart.
LOCAL_ENV_DEFAULTS = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": REGION}
_module_counter = itertools.count()


# ------------------------------------------------------------------------------------ events
def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled_event(rule_name: str, time_iso: str | None = None) -> dict:
    """An EventBridge "Scheduled Event", the shape of events/schedule.json."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": time_iso or now_iso(),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


def rest_api_event(method: str, path: str, resource: str, headers: list[tuple[str, str]],
                   body: bytes | None, query: str = "", path_parameters: dict | None = None,
                   source_ip: str = "127.0.0.1", domain: str = "localhost") -> dict:
    """An API Gateway REST proxy event (payload version 1.0)."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    query_single: dict[str, str] = {}
    query_multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        query_single[name] = value
        query_multi.setdefault(name, []).append(value)
    text, is_base64 = None, False
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode("ascii"), True
    request_time = datetime.now(timezone.utc)
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": query_single or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainName": domain,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": request_time.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(request_time.timestamp() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": single.get("User-Agent")},
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


def sign(secret: str, body: str, timestamp: int) -> str:
    """The contract's `Webshop-Signature` header value for a raw body (the layer's own signer)."""
    return f"t={timestamp},v1={signature(secret, timestamp, body.encode('utf-8'))}"


def build_webhook_event(secret: str, body: str | dict, timestamp: int | None = None,
                        path: str = "/webhooks/customers") -> dict:
    """A REST proxy event for a signed webhook delivery (timestamp defaults to now)."""
    raw = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    headers = [("Content-Type", "application/json"), ("User-Agent", "Customwebshop-Webhooks/1.0"),
               ("Webshop-Signature", sign(secret, raw, timestamp))]
    event = rest_api_event("POST", path, path, headers, raw.encode("utf-8"),
                           domain="abcdef1234.execute-api.us-east-1.amazonaws.com")
    event["requestContext"]["stage"] = "live"
    event["requestContext"]["path"] = f"/live{path}"
    return event


# ----------------------------------------------------------------------------------- routing
def _route_pattern(path: str) -> re.Pattern:
    regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(path))
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
    return re.compile(f"^{regex}$")


def _http_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """A proxy integration result as (status, headers, body); malformed results are a 502."""
    if not isinstance(result, dict) or not isinstance(result.get("body", ""), (str, type(None))):
        log.error("malformed Lambda proxy response: %r", result)
        return _json_response(502, {"message": "Internal server error"})
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(name, str(v)) for v in values]
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return int(result.get("statusCode", 200)), headers, raw


def _json_response(status: int, payload: dict) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps(payload).encode()


# ----------------------------------------------------------------------------------- gateway
class LocalGateway:
    def __init__(self, template: dict | str | Path, env: dict[str, str] | None = None,
                 schedule_overrides: dict[str, str | float] | None = None, *,
                 base_dir: str | Path | None = None, parameter_overrides: dict | None = None,
                 table_prefix: str = DEFAULT_TABLE_PREFIX):
        """`template`: a loaded template or its path (then code dirs are relative to its folder).
        `env`: laid over each function's template environment (table names, endpoints...).
        `schedule_overrides`: {logical id: "rate(...)" or seconds} for start_schedules."""
        if isinstance(template, (str, Path)):
            base_dir = base_dir or Path(template).parent
            template = load_template(template)
        self.specs: dict[str, FunctionSpec] = {
            spec.logical_id: spec
            for spec in functions(template, parameter_overrides, table_prefix, base_dir or ROOT)}
        self.env = dict(env or {})
        self.schedule_overrides = dict(schedule_overrides or {})
        self.url: str | None = None
        self._handlers: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._saved_environ: dict[str, str | None] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: ThreadingHTTPServer | None = None
        self._routes = [(method, path, _route_pattern(path), spec.logical_id)
                        for spec in self.specs.values() for method, path in spec.routes]
        # Called after every invocation that returned, as on_result(logical_id, event, result):
        # `serve` prints each synced record from it. Its errors never reach the caller.
        self.on_result: Callable[[str, dict, Any], None] | None = None

    # ---------------------------------------------------------------- invoking
    def function_env(self, logical_id: str) -> dict[str, str]:
        return {**self.specs[logical_id].env, **LOCAL_ENV_DEFAULTS, **self.env}

    def _apply_env(self, logical_id: str) -> None:
        for key, value in self.function_env(logical_id).items():
            self._saved_environ.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _load_handler(self, logical_id: str):
        spec = self.specs[logical_id]
        module_path, _, attribute = spec.handler.rpartition(".")
        module_file = spec.code_dir / (module_path.replace(".", "/") + ".py")
        name = f"_shopwave_lambda_{logical_id}_{next(_module_counter)}"
        before = set(sys.modules)
        sys.path.insert(0, str(spec.code_dir))
        try:
            module_spec = importlib.util.spec_from_file_location(name, module_file)
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(spec.code_dir))
            # The function's own helper modules must not shadow another function's namesakes.
            for added in set(sys.modules) - before - {name}:
                origin = getattr(sys.modules[added], "__file__", None) or ""
                if origin.startswith(str(spec.code_dir)):
                    del sys.modules[added]
        return getattr(module, attribute)

    def handler(self, logical_id: str):
        with self._lock:
            if logical_id not in self._handlers:
                self._apply_env(logical_id)
                self._handlers[logical_id] = self._load_handler(logical_id)
            return self._handlers[logical_id]

    def invoke(self, logical_id: str, event: dict, context: LambdaContext | None = None) -> Any:
        spec = self.specs[logical_id]
        handler = self.handler(logical_id)
        with self._lock:
            self._apply_env(logical_id)
        context = context or LambdaContext(f"{DEFAULT_TABLE_PREFIX}{logical_id}",
                                           timeout_seconds=spec.timeout,
                                           memory_limit_in_mb=spec.memory_size)
        result = handler(event, context)
        if self.on_result is not None:
            try:
                self.on_result(logical_id, event, result)
            except Exception:  # noqa: BLE001 - an observer must not turn a result into a failure
                log.error("on_result failed:\n%s", traceback.format_exc())
        return result

    def fire_schedule(self, logical_id: str, index: int | str = 0) -> Any:
        """Fire one of the function's schedules (its index, or its event's name: "Reconcile"). A rule
        with an Input sends that text as the event, as EventBridge does; otherwise a Scheduled Event."""
        spec = self.specs[logical_id]
        if isinstance(index, str):
            index = spec.schedule_rules.index(logical_id + index)
        given = spec.schedule_inputs[index] if index < len(spec.schedule_inputs) else None
        rule = spec.schedule_rules[index]
        return self.invoke(logical_id, json.loads(given) if given else scheduled_event(f"{DEFAULT_TABLE_PREFIX}{rule}"))

    # ---------------------------------------------------------------- HTTP
    def handle_http(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes,
                    source_ip: str = "127.0.0.1", domain: str = "localhost"):
        """One HTTP request through the routes: (status, headers, body bytes)."""
        parts = urlsplit(target)
        for route_method, resource, pattern, logical_id in self._routes:
            match = pattern.match(parts.path)
            if match and route_method in (method, "ANY"):
                event = rest_api_event(method, parts.path, resource, headers, body, parts.query,
                                       match.groupdict(), source_ip, domain)
                try:
                    return _http_response(self.invoke(logical_id, event))
                except Exception:  # API Gateway answers a failed invocation with 502
                    log.error("%s failed:\n%s", logical_id, traceback.format_exc())
                    return _json_response(502, {"message": "Internal server error"})
        return _json_response(404, {"message": "Not Found", "path": parts.path, "method": method})

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        self._server = ThreadingHTTPServer((host, port), _make_request_handler(self))
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="gateway-http", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self.url

    def webhook_url(self, resource: str) -> str:
        return f"{self.url}/webhooks/{resource}"

    # ---------------------------------------------------------------- schedules
    def schedule_interval(self, logical_id: str, index: int = 0) -> float:
        """Seconds between runs (a cron expression's: between its next two runs)."""
        override = self.schedule_overrides.get(logical_id)
        if isinstance(override, (int, float)):
            return float(override)
        return schedule.period(override or self.specs[logical_id].schedules[index])

    def schedule_waits(self, logical_id: str, index: int = 0, speedup: float = 1.0) -> Iterator[float]:
        """Seconds to wait before each run: a rate's interval, or until a cron expression's next
        minute (on a clock `speedup` times faster), as EventBridge would fire it."""
        override = self.schedule_overrides.get(logical_id)
        if isinstance(override, (int, float)):
            return itertools.repeat(float(override) / speedup)
        return schedule.waits(override or self.specs[logical_id].schedules[index], speedup)

    def start_schedules(self, speedup: float = 1.0) -> None:
        """A thread per schedule; the first run comes one interval after the start (for cron, at
        its next matching minute), like EventBridge."""
        for spec in self.specs.values():
            for index in range(len(spec.schedules)):
                waits = self.schedule_waits(spec.logical_id, index, speedup)
                thread = threading.Thread(target=self._run_schedule, args=(spec.logical_id, index, waits),
                                          name=f"schedule-{spec.logical_id}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _run_schedule(self, logical_id: str, index: int, waits: Iterator[float]) -> None:
        for wait in waits:
            if self._stop.wait(wait):
                return
            try:
                self.fire_schedule(logical_id, index)
            except Exception:  # an async invocation's failure does not stop the schedule
                log.error("scheduled %s failed:\n%s", logical_id, traceback.format_exc())

    def stop(self) -> None:
        """Stop the server and the schedules; put back the os.environ values the gateway changed."""
        self._stop.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        self._threads.clear()
        with self._lock:
            environ.restore(self._saved_environ)


def _make_request_handler(gateway: LocalGateway):
    class RequestHandler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = gateway.handle_http(
                self.command, self.path, list(self.headers.items()), body,
                source_ip=self.client_address[0], domain=self.headers.get("Host", "localhost"))
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        def log_message(self, format: str, *args) -> None:
            log.debug("%s - %s", self.address_string(), format % args)

    return RequestHandler


# --------------------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    sign_cmd = commands.add_parser("sign-event", help="print a webhook event signed now")
    sign_cmd.add_argument("--secret", default="whsec_local_test")
    sign_cmd.add_argument("--body", help="raw JSON body (default: the body of --from)")
    sign_cmd.add_argument("--from", dest="source", default=str(ROOT / "events/webhook_customer.json"),
                          help="an event file whose body and path to re-sign")
    sign_cmd.add_argument("--timestamp", type=int, help="unix seconds (default: now)")
    sign_cmd.add_argument("--path", help="route to sign for (default: the path of --from)")
    sign_cmd.add_argument("--out", help="write here instead of stdout")
    args = parser.parse_args(argv)

    source = json.loads(Path(args.source).read_text(encoding="utf-8"))
    body = args.body if args.body is not None else source["body"]
    event = build_webhook_event(args.secret, body, args.timestamp, path=args.path or source.get("path", "/webhooks/customers"))
    text = json.dumps(event, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
