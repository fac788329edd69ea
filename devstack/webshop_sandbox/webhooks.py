"""Webhook signing and delivery of the outbox (stdlib only)."""

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request

SIGNATURE_HEADER = "Webshop-Signature"


def event_body(event):
    """The exact bytes POSTed: compact JSON, keys in contract order."""
    ordered = {"id": event["id"], "type": event["type"], "occurred_at": event["occurred_at"],
               "data": {"id": event["data"]["id"], "updated_at": event["data"]["updated_at"]}}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_webhook(secret, body_bytes, timestamp):
    """Header value ``t={unix seconds},v1={hex HMAC-SHA256(secret, "{t}.{raw body}")}``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    body = body_bytes.encode("utf-8") if isinstance(body_bytes, str) else body_bytes
    t = int(timestamp)
    digest = hmac.new(key, f"{t}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def post_event(url, secret, event, timeout=5.0):
    """POST one signed event; the HTTP status, or None when the receiver was unreachable."""
    body = event_body(event)
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign_webhook(secret, body, time.time()),
        "User-Agent": "webshop-sandbox/1",
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


class AutoDeliverer:
    """Background thread: delivers soon after a change, retries failures every ``interval``."""

    def __init__(self, deliver, interval=1.0):
        self._deliver = deliver
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webshop-sandbox-webhooks", daemon=True)
        self._thread.start()

    def poke(self):
        self._wake.set()

    def _run(self):
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self._deliver()
            except Exception:  # a sandbox must keep going; failed events stay pending
                pass

    def stop(self):
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
