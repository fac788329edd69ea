"""Webshop webhook deliveries (CONTRACT.md): verify, parse, or refuse with a reason.

Nothing here touches state; a refused delivery changes nothing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

MAX_BODY_BYTES = 256 * 1024
TOLERANCE_SECONDS = 300
MAX_RECORD_ID = 200
SIGNATURE_HEADER = "webshop-signature"
MAX_SIGNATURE_HEADER = 4096  # a real header is about 80 characters
MAX_SIGNATURES = 8  # v1 values in one header (a sender mid-rotation sends two)
TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)


class Rejected(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    id: str
    type: str
    resource: str
    action: str
    record_id: str
    signed_with_previous_secret: bool = False


def event_noun(resource: str) -> str:
    """The noun of a resource's event types (CONTRACT.md): "customers" sends "customer.created",
    "customer.updated" and "customer.deleted" to /webhooks/customers."""
    return resource.removesuffix("s")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def verify(secrets: str | Iterable[str], header: str | None, body: bytes, *, now: float | None = None) -> int:
    """`t={unix seconds},v1={hex}`; constant-time compare; 5 minutes either way.

    `secrets`: the current secret, then optionally the previous one (rotation); taken lazily,
    so a delivery signed with the current secret never needs the previous one. Returns the
    index of the secret that signed the delivery. Anything malformed is a 401, never an error."""
    if not isinstance(header, str) or not header:
        raise Rejected(401, "missing Webshop-Signature header")
    if len(header) > MAX_SIGNATURE_HEADER:
        raise Rejected(401, "malformed Webshop-Signature header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise Rejected(401, "malformed Webshop-Signature header")
        parts.setdefault(key, []).append(value)
    stamps = parts.get("t", [])
    # Unix seconds as plain ASCII digits, once: int() alone would take signs, spaces, "1_000",
    # other scripts' digits, and numbers too large to compare with a float clock.
    if len(stamps) != 1 or not TIMESTAMP.fullmatch(stamps[0]):
        raise Rejected(401, "Webshop-Signature has no valid timestamp")
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        raise Rejected(401, "Webshop-Signature timestamp outside the 5-minute tolerance")
    candidates = [c.encode("utf-8", "replace") for c in parts.get("v1", [])]
    if not candidates or len(candidates) > MAX_SIGNATURES:
        raise Rejected(401, "Webshop-Signature has no usable v1 signature")
    for index, secret in enumerate([secrets] if isinstance(secrets, str) else secrets):
        if not secret:
            continue  # an empty secret would let anyone sign
        expected = signature(secret, timestamp, body).encode("ascii")
        matched = False
        for candidate in candidates:  # every candidate compared: no early exit
            matched |= hmac.compare_digest(expected, candidate)
        if matched:
            return index
    raise Rejected(401, "Webshop-Signature does not match")


def raw_body(event: APIGatewayProxyEvent) -> bytes:
    """The body's bytes exactly as sent (HMAC is over them): base64 strictly, never a lenient decode."""
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            raise Rejected(400, "body is not valid base64") from None
    return body.encode("utf-8")


def parse(event: APIGatewayProxyEvent, secrets: str | Iterable[str], resource: str, *,
          now: float | None = None) -> Delivery:
    """Check a delivery (an API Gateway REST request, parsed) in the order that leaks least:
    size, signature, then content. `secrets`: the current webhook secret, optionally followed by
    the previous one. Header names are case-insensitive (`event.headers`)."""
    body = raw_body(event)
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, f"body over {MAX_BODY_BYTES} bytes")
    signed_by = verify(secrets, event.headers.get(SIGNATURE_HEADER), body, now=now)
    content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json":
        raise Rejected(415, f"content type {content_type!r} is not application/json")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Rejected(400, "body is not valid UTF-8 JSON") from None
    if not isinstance(document, dict):
        raise Rejected(400, "body is not a JSON object")
    delivery_id, event_type, data = document.get("id"), document.get("type"), document.get("data")
    if not isinstance(delivery_id, str) or not delivery_id:
        raise Rejected(400, "delivery has no id")
    if not isinstance(event_type, str) or "." not in event_type:
        raise Rejected(400, "delivery has no valid type")
    noun, action = event_type.split(".", 1)
    if noun != event_noun(resource) or action not in ("created", "updated", "deleted"):
        raise Rejected(422, f"event type {event_type!r} does not belong on /webhooks/{resource}")
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        raise Rejected(400, "delivery data has no record id")
    if len(data["id"]) > MAX_RECORD_ID or data["id"] in (".", "..") or any(ord(c) < 32 or ord(c) == 127 for c in data["id"]):
        raise Rejected(400, "delivery data has no usable record id")
    return Delivery(delivery_id, event_type, resource, action, data["id"], signed_with_previous_secret=signed_by > 0)
