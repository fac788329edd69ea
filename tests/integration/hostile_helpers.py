"""Helpers for test_hostile_input.py: the three webhook routes, hostile deliveries, a log capture
that really sees the Powertools logger's output, and a snapshot of every DynamoDB table."""
from __future__ import annotations

import base64
import copy
import json
import logging
import sys
import time
from dataclasses import dataclass
from typing import Callable

import boto3

from shopwave.webhook import signature

from .conftest import SHOP_KEY, WAVE_TOKEN, WEBHOOK_SECRET
from .handlers import webhook_event

SECRETS = {"Wave token": WAVE_TOKEN, "webshop API key": SHOP_KEY, "webhook secret": WEBHOOK_SECRET}
OTHER_SECRET = "whsec_not_the_real_one_987654"


# --------------------------------------------------------------------------------- routes
@dataclass(frozen=True)
class Route:
    resource: str  # customers | products | orders
    function: str  # functions/<function>/app.py
    noun: str  # customer | product | order

    @property
    def updated(self) -> str:
        return f"{self.noun}.updated"


ROUTES = {
    "customers": Route("customers", "customer_to_wave", "customer"),
    "products": Route("products", "product_to_wave", "product"),
    "orders": Route("orders", "order_to_wave", "order"),
}


def seed(stack, resource: str, tag: str = "1") -> dict:
    """One valid webshop record for the route (an order brings its customer and product)."""
    if resource == "customers":
        return stack.shop.create("customers", {"email": f"ada{tag}@example.com", "first_name": "Ada", "last_name": "Lovelace"})
    if resource == "products":
        return stack.shop.create("products", {"sku": f"W-{tag}", "name": f"Widget {tag}", "price": "19.90", "currency": "CAD"})
    customer = stack.shop.create("customers", {"email": f"grace{tag}@example.com", "first_name": "Grace", "currency": "CAD"})
    product = stack.shop.create("products", {"sku": f"G-{tag}", "name": f"Gadget {tag}", "price": "5.00", "currency": "CAD"})
    return stack.shop.create("orders", {"customer_id": customer["id"], "currency": "CAD", "order_date": "2026-11-20",
                                        "lines": [{"product_id": product["id"], "quantity": "2", "unit_price": "5.00"}]})


# ------------------------------------------------------------------------------ deliveries
def delivery(route: Route, record_id: str, **kwargs) -> dict:
    """A correctly signed delivery on the route (events/webhook_<noun>.json, fresh signature)."""
    kwargs.setdefault("event_type", route.updated)
    return webhook_event(WEBHOOK_SECRET, record_id, resource=route.resource, **kwargs)


def document(route: Route, record_id: str, delivery_id: str = "dlv_hostile_1", **overrides) -> dict:
    doc = {"id": delivery_id, "type": route.updated, "occurred_at": "2026-11-25T12:00:00Z",
           "data": {"id": record_id, "updated_at": "2026-11-25T11:59:59.250Z"}}
    doc.update(overrides)
    return doc


def signed_body(route: Route, record_id: str, body: bytes, *, secret: str = WEBHOOK_SECRET,
                timestamp: int | None = None) -> dict:
    """A delivery carrying exactly `body`, signed with `secret` at `timestamp`."""
    event = delivery(route, record_id)
    t = int(time.time()) if timestamp is None else timestamp
    set_body(event, body)
    set_header(event, "Webshop-Signature", f"t={t},v1={signature(secret, t, body)}")
    return event


def set_body(event: dict, body: bytes) -> None:
    event["body"] = body.decode("utf-8", "replace")
    event["isBase64Encoded"] = False


def set_header(event: dict, name: str, value: str | None) -> None:
    headers = {k: v for k, v in event["headers"].items() if k.lower() != name.lower()}
    if value is not None:
        headers[name] = value
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}


def expected_digests(event: dict) -> list[str]:
    """Every v1 digest that would be a leak: those in the header and the true one for the body."""
    header = signature_header(event) or ""
    parts = [part.strip().partition("=") for part in header.split(",")]
    found = [value for key, _, value in parts if key == "v1" and len(value) >= 16]
    stamps = [int(value) for key, _, value in parts if key == "t" and value.isdigit() and len(value) < 20] \
        + [int(time.time())]
    raw = base64.b64decode(event["body"]) if event.get("isBase64Encoded") and _is_b64(event["body"]) \
        else (event.get("body") or "").encode("utf-8", "surrogatepass")
    return found + [signature(WEBHOOK_SECRET, t, raw) for t in stamps]


def _is_b64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
        return True
    except ValueError:
        return False


def _malformed_header(value: str):
    def build(route, record_id):
        event = delivery(route, record_id)
        set_header(event, "Webshop-Signature", value)
        return event
    return build


def _edited(edit: Callable[[dict], None]):
    def build(route, record_id):
        event = delivery(route, record_id)
        edit(event)
        return event
    return build


def _tampered(route, record_id):
    """Signed correctly, then the body is changed in transit (another record id)."""
    event = delivery(route, record_id)
    set_body(event, event["body"].replace(record_id, record_id + "0").encode())
    return event


def _base64_not_utf8(route, record_id):
    raw = b'{"id":"dlv_b64","type":"' + route.updated.encode() + b'","data":{"id":"\xff\xfe"}}'
    event = signed_body(route, record_id, raw)
    event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    return event


def _base64_invalid(route, record_id):
    event = delivery(route, record_id)
    event["body"], event["isBase64Encoded"] = "***not base64***", True
    return event


def _json(route, record_id, **overrides):
    return signed_body(route, record_id, json.dumps(document(route, record_id, **overrides)).encode())


# name -> (build(route, record_id) -> API Gateway event, expected status)
BAD_DELIVERIES: dict[str, tuple[Callable[[Route, str], dict], int]] = {
    "missing signature": (_edited(lambda e: set_header(e, "Webshop-Signature", None)), 401),
    "empty signature": (_malformed_header(""), 401),
    "signature without t=": (_malformed_header("garbage"), 401),
    "signature with a non-numeric timestamp": (_malformed_header("t=soon,v1=" + "0" * 64), 401),
    "signature without v1": (lambda r, i: _with_valid_t_only(r, i), 401),
    "signature v1 with non-ascii characters": (lambda r, i: _non_ascii_v1(r, i), 401),
    # malformed numbers: each once raised (OverflowError) or was taken loosely by int()
    "timestamp 1 followed by 400 zeros": (lambda r, i: _signed_with_t(r, i, "1" + "0" * 400), 401),
    "timestamp of 5000 digits": (lambda r, i: _signed_with_t(r, i, "9" * 5000), 401),
    "negative timestamp": (lambda r, i: _signed_with_t(r, i, f"-{int(time.time())}"), 401),
    "timestamp with a plus sign": (lambda r, i: _signed_with_t(r, i, f"+{int(time.time())}"), 401),
    "timestamp with underscores": (lambda r, i: _signed_with_t(r, i, f"{int(time.time()):_}"), 401),
    "timestamp in arabic-indic digits": (lambda r, i: _signed_with_t(r, i, str(int(time.time())).translate(ARABIC_INDIC)), 401),
    "timestamp padded with spaces": (lambda r, i: _signed_with_t(r, i, f" {int(time.time())} "), 401),
    "timestamp as a float": (lambda r, i: _signed_with_t(r, i, f"{time.time():.3f}"), 401),
    "timestamp as an exponent": (lambda r, i: _signed_with_t(r, i, "1.7e9"), 401),
    "timestamp infinity": (lambda r, i: _signed_with_t(r, i, "inf"), 401),
    "timestamp NaN": (lambda r, i: _signed_with_t(r, i, "NaN"), 401),
    "timestamp given twice": (lambda r, i: _signed_with_t(r, i, f"{int(time.time())},t={int(time.time())}"), 401),
    "a thousand v1 values": (lambda r, i: _many_v1(r, i), 401),
    "signature made with another secret": (lambda r, i: signed_body(r, i, json.dumps(document(r, i)).encode(), secret=OTHER_SECRET), 401),
    "signature of another body (tampered)": (_tampered, 401),
    "signature all zeros": (_edited(lambda e: set_header(e, "Webshop-Signature", f"t={int(time.time())},v1={'0' * 64}")), 401),
    "timestamp 6 minutes in the past": (lambda r, i: signed_body(r, i, json.dumps(document(r, i)).encode(), timestamp=int(time.time()) - 360), 401),
    "timestamp 6 minutes in the future": (lambda r, i: signed_body(r, i, json.dumps(document(r, i)).encode(), timestamp=int(time.time()) + 360), 401),
    "body over 256 KiB": (lambda r, i: signed_body(r, i, json.dumps(document(r, i, pad="x" * (256 * 1024))).encode()), 413),
    "malformed json": (lambda r, i: signed_body(r, i, b'{"id": "dlv_1", "type":'), 400),
    "empty body": (lambda r, i: signed_body(r, i, b""), 400),
    "json that is not an object": (lambda r, i: signed_body(r, i, b'["' + i.encode() + b'"]'), 400),
    "body not valid base64": (_base64_invalid, 400),
    "base64 body that is not utf-8": (_base64_not_utf8, 400),
    "content type text/plain": (_edited(lambda e: set_header(e, "Content-Type", "text/plain")), 415),
    "content type form-encoded": (_edited(lambda e: set_header(e, "Content-Type", "application/x-www-form-urlencoded")), 415),
    "no delivery id": (lambda r, i: _json(r, i, id=None), 400),
    "no event type": (lambda r, i: _json(r, i, type=None), 400),
    "event type not a string": (lambda r, i: _json(r, i, type=["customer.updated"]), 400),
    "unknown action": (lambda r, i: _json(r, i, type=f"{r.noun}.exploded"), 422),
    "unknown resource": (lambda r, i: _json(r, i, type="invoice.updated"), 422),
    "event for another route": (lambda r, i: _json(r, i, type="customer.updated" if r.noun != "customer" else "product.updated"), 422),
    "no data": (lambda r, i: _json(r, i, data=None), 400),
    "record id not a string": (lambda r, i: _json(r, i, data={"id": 1001}), 400),
    "empty record id": (lambda r, i: _json(r, i, data={"id": ""}), 400),
}


def _with_valid_t_only(route, record_id):
    event = delivery(route, record_id)
    set_header(event, "Webshop-Signature", f"t={int(time.time())}")
    return event


def _non_ascii_v1(route, record_id):
    event = delivery(route, record_id)
    set_header(event, "Webshop-Signature", f"t={int(time.time())},v1=\u00e9" + "0" * 63)
    return event


ARABIC_INDIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")


def _signed_with_t(route, record_id, t: str):
    """A correct v1 for the body at the current time, but `t` written as given."""
    event = delivery(route, record_id)
    now, raw = int(time.time()), event["body"].encode()
    set_header(event, "Webshop-Signature", f"t={t},v1={signature(WEBHOOK_SECRET, now, raw)}")
    return event


def _many_v1(route, record_id):
    event = delivery(route, record_id)
    valid = signature_header(event)
    set_header(event, "Webshop-Signature", valid + ",v1=" + ",v1=".join(["0" * 64] * 1000))
    return event


# record ids the webshop does not have (for the route), each must answer 404 and change nothing
MISSING_IDS = {
    "unknown id": "x_nope",
    "id of another resource": None,  # filled in by the test: a real id of a record on another route
    "path traversal": "../customers",
    "query string": "x_1?limit=1",
    "url-encoded dot": "%2e",
    "unicode": "c_\u202e\U0001f4a5",
    "single dot": ".",
    "100 000 characters": "x" * 100_000,
}


# ------------------------------------------------------------------------------- state
def dynamo_snapshot(tables: dict[str, str]) -> dict[str, list[str]]:
    """Every item of every table (inside the moto mock), as sorted JSON strings."""
    client = boto3.client("dynamodb")
    snapshot = {}
    for name in sorted(set(tables.values())):
        items, kwargs = [], {"TableName": name, "ConsistentRead": True}
        while True:
            page = client.scan(**kwargs)
            items += [json.dumps(item, sort_keys=True) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        snapshot[name] = sorted(items)
    return snapshot


def idempotency_items(stack) -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=stack.tables["IDEMPOTENCY_TABLE"], ConsistentRead=True)["Items"]


def wave_mutations(stack) -> list[str]:
    return [field for r in stack.wave.requests if r["kind"] == "mutation" for field in r["fields"]]


def shop_writes(stack) -> list[dict]:
    return [r for r in stack.shop.requests if r["method"] in ("POST", "PATCH", "PUT", "DELETE")]


# --------------------------------------------------------------------------------- logs
class Logs:
    """What a function run printed or logged: stdout/stderr (Powertools Logger and Metrics
    write there) and every log record at DEBUG and above (caplog)."""

    def __init__(self, capsys, caplog):
        self.capsys, self.caplog = capsys, caplog
        self._seen: list[str] = []

    def text(self) -> str:
        out = self.capsys.readouterr()
        self._seen += [out.out, out.err]
        return "".join(self._seen) + "\n" + self.caplog.text

    def assert_no_secrets(self, *extra: str) -> str:
        text = self.text()
        for what, value in {**SECRETS, **{f"signature value {v[:12]}...": v for v in extra if v}}.items():
            assert value not in text, f"the {what} appears in the captured logs"
        return text


def capture_logs(capsys, caplog, monkeypatch) -> Logs:
    """Point the Powertools logger's handler at this test's captured stdout (it keeps the stream
    it was built with, which is a previous test's, otherwise) and record everything at DEBUG."""
    import shopwave.lambda_entry  # noqa: F401  (builds the Powertools Logger)

    caplog.set_level(logging.DEBUG)
    for name in ("shopwave", "shopwave.engine"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                monkeypatch.setattr(handler, "stream", sys.stdout)
    return Logs(capsys, caplog)


def signature_header(event: dict) -> str | None:
    return next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "webshop-signature"), None)


def deep(value):
    return copy.deepcopy(value)
