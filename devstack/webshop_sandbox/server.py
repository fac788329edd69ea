"""HTTP front of the sandbox: routing, auth, content negotiation, error bodies."""

import hmac
import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import ApiError, bad_request

MAX_BODY = 1024 * 1024
JSON_TYPES = ("application/json", "application/merge-patch+json")
FEED_PARAMETERS = ("updated_after", "limit", "cursor")


def _first(query, name):
    values = query.get(name)
    return values[0] if values else None


def _check_query(query, allowed):
    """400 for a query parameter the operation does not have: a misspelt ``updated_after``
    would otherwise answer the whole feed."""
    for name in parse_qs(query, keep_blank_values=True):
        if name not in allowed:
            raise bad_request(f"{name} is not a query parameter of this operation", code="unknown_parameter")


def make_handler(sandbox):
    base = sandbox.base_path

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall
        protocol_version = "HTTP/1.1"
        server_version = "WebshopSandbox/1"

        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def do_PATCH(self):
            self._handle("PATCH")

        def do_DELETE(self):
            self._handle("DELETE")

        def do_PUT(self):
            self._handle("PUT")

        def __getattr__(self, name):
            """Any other method (HEAD, OPTIONS, TRACE, QUERY, ...): 405 with Allow, in contract
            form, rather than http.server's bare 501."""
            if name.startswith("do_"):
                return lambda: self._handle(name[3:])
            raise AttributeError(name)

        # -- plumbing ---------------------------------------------------------------------
        def _send(self, status, body, headers=None):
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _read_body(self):
            if self.headers.get("Transfer-Encoding"):
                self.close_connection = True
                raise bad_request("send the body with a Content-Length")
            length_header = (self.headers.get("Content-Length") or "0").strip()
            if not length_header.isascii() or not length_header.isdigit():
                self.close_connection = True
                raise bad_request(f"Content-Length must be a byte count, got {length_header!r}")
            length = int(length_header)
            if length > MAX_BODY:
                self.close_connection = True
                raise bad_request(f"the body is larger than {MAX_BODY} bytes", code="body_too_large")
            return self.rfile.read(length) if length else b""

        def _json_body(self, raw):
            content_type = self.headers.get("Content-Type") or ""
            media, _, params = content_type.partition(";")
            charset = params.strip().lower().replace('"', "")
            if media.strip().lower() not in JSON_TYPES or charset not in ("", "charset=utf-8"):
                raise ApiError(415, "unsupported_media_type",
                               f"send Content-Type: application/json (UTF-8), not {content_type!r}")
            if not raw:
                raise bad_request("the request body is empty")
            try:
                body = json.loads(raw.decode("utf-8"))
                # a lone surrogate (\ud800) is valid JSON syntax but no Unicode text
                json.dumps(body, ensure_ascii=False).encode("utf-8")
            except UnicodeDecodeError:
                raise bad_request("the body is not UTF-8") from None
            except UnicodeEncodeError:
                raise bad_request("the body holds a string that is not Unicode text", code="malformed_json") from None
            except (ValueError, RecursionError) as error:
                raise bad_request(f"the body is not valid JSON: {error}", code="malformed_json") from None
            return body

        def _authorized(self):
            scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
            return scheme.lower() == "bearer" and not sandbox.key_revoked and hmac.compare_digest(
                token.strip().encode("utf-8"), sandbox.api_key.encode("utf-8"))

        # -- the request --------------------------------------------------------------------
        def _handle(self, method):
            url = urlsplit(self.path)
            try:
                raw = self._read_body()
            except ApiError as error:
                return self._send(error.status, error.body(), error.headers)
            if not url.path.startswith(base + "/"):
                return self._send(404, ApiError(404, "not_found", "no such path").body())
            if not self._authorized():
                sandbox.refused_keys += 1
                error = ApiError(401, "unauthorized", "missing or wrong bearer API key")
                return self._send(401, error.body(), {"WWW-Authenticate": 'Bearer realm="webshop"'})
            try:
                fault = sandbox.take_fault()
                if fault:
                    raise fault
                status, body, headers = self._route(method, url, raw)
            except ApiError as error:
                status, body, headers = error.status, error.body(), error.headers
            except Exception as error:  # noqa: BLE001 - answer 500 in contract form
                status, body, headers = 500, {"error": {"code": "internal_error", "message": repr(error)}}, {}
            sandbox.record_request(method, url.path, status)
            self._send(status, body, headers)

        def _route(self, method, url, raw):
            parts = [unquote(part) for part in url.path[len(base) + 1:].rstrip("/").split("/")]
            if len(parts) == 1 and parts[0]:
                _check_query(url.query, FEED_PARAMETERS if method == "GET" else ())
                return self._collection(method, parts[0], url, raw)
            if len(parts) == 2 and all(parts):
                _check_query(url.query, ())
                return self._item(method, parts[0], parts[1], raw)
            raise ApiError(404, "not_found", "no such path")

        def _collection(self, method, resource, url, raw):
            if method == "GET":
                query = parse_qs(url.query, keep_blank_values=True)
                page = sandbox.list_page(resource, _first(query, "updated_after"),
                                         _first(query, "limit"), _first(query, "cursor"))
                return 200, page, {}
            if method == "POST":
                body = self._json_body(raw)
                key = self.headers.get("Idempotency-Key")
                if key is not None and not 1 <= len(key) <= 255:
                    raise bad_request("Idempotency-Key must be 1 to 255 characters")
                status, record, replayed = sandbox.api_create(resource, body, key)
                headers = {"Location": f"{base}/{resource}/{record['id']}", "ETag": f'"{record["version"]}"'}
                if replayed:
                    headers["Idempotent-Replayed"] = "true"
                return status, record, headers
            raise ApiError(405, "method_not_allowed", f"{method} is not allowed on /{resource}",
                           {"Allow": "GET, POST"})

        def _item(self, method, resource, record_id, raw):
            if_match = self.headers.get("If-Match")
            if method == "GET":
                record = sandbox.get(resource, record_id)
                if record is None:
                    raise ApiError(404, "not_found", f"{resource} {record_id!r} does not exist")
            elif method == "PATCH":
                record = sandbox.api_update(resource, record_id, self._json_body(raw), if_match)
            elif method == "DELETE":
                record = sandbox.delete(resource, record_id, if_match)
            else:
                raise ApiError(405, "method_not_allowed", f"{method} is not allowed on /{resource}/{{id}}",
                               {"Allow": "GET, PATCH, DELETE"})
            return 200, record, {"ETag": f'"{record["version"]}"'}

    return Handler
