"""Webshop webhook deliveries (CONTRACT.md): verify, parse, or refuse with a reason.

Nothing here touches state; a refused delivery changes nothing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

MAX_BODY_BYTES = 256 * 1024
TOLERANCE_SECONDS = 300
MAX_RECORD_ID = 200
SIGNATURE_HEADER = "webshop-signature"


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


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def verify(secret: str, header: str | None, body: bytes, *, now: float | None = None) -> None:
    """`t={unix seconds},v1={hex}`; constant-time compare; 5 minutes either way."""
    if not header:
        raise Rejected(401, "missing Webshop-Signature header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise Rejected(401, "malformed Webshop-Signature header")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise Rejected(401, "Webshop-Signature has no valid timestamp") from None
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        raise Rejected(401, "Webshop-Signature timestamp outside the 5-minute tolerance")
    expected = signature(secret, timestamp, body).encode("ascii")
    candidates = [c.encode("utf-8", "replace") for c in parts.get("v1", [])]
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise Rejected(401, "Webshop-Signature does not match")


def raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            raise Rejected(400, "body is not valid base64") from None
    return body.encode("utf-8")


def header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def parse(event: dict[str, Any], secret: str, resource: str, *, now: float | None = None) -> Delivery:
    """Check a delivery in the order that leaks least: size, signature, then content."""
    body = raw_body(event)
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, f"body over {MAX_BODY_BYTES} bytes")
    verify(secret, header(event, SIGNATURE_HEADER), body, now=now)
    content_type = (header(event, "content-type") or "").split(";")[0].strip().lower()
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
    if f"{noun}s" != resource or action not in ("created", "updated", "deleted"):
        raise Rejected(422, f"event type {event_type!r} does not belong on /webhooks/{resource}")
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        raise Rejected(400, "delivery data has no record id")
    if len(data["id"]) > MAX_RECORD_ID or data["id"] in (".", "..") or any(ord(c) < 32 or ord(c) == 127 for c in data["id"]):
        raise Rejected(400, "delivery data has no usable record id")
    return Delivery(delivery_id, event_type, resource, action, data["id"])
