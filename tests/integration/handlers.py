"""Load a function's handler the way Lambda does: its folder's app.py, by path."""
from __future__ import annotations

import copy
import importlib.util
import json
import time
from pathlib import Path

from shopwave.webhook import event_noun, signature

ROOT = Path(__file__).resolve().parents[2]


def load_handler(function_dir: str):
    spec = importlib.util.spec_from_file_location(f"fn_{function_dir}", ROOT / "functions" / function_dir / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def sample_event(name: str) -> dict:
    """An event from events/, the same files `sam local invoke -e` takes."""
    return json.loads((ROOT / "events" / name).read_text())


def webhook_event(secret: str, record_id: str, *, delivery_id: str = "dlv_test_1", event_type: str = "customer.updated",
                  resource: str = "customers", timestamp: int | None = None, body: bytes | None = None) -> dict:
    """events/webhook_<resource>.json with its body pointed at a record and signed afresh."""
    event = copy.deepcopy(sample_event(f"webhook_{event_noun(resource)}.json"))
    document = json.loads(event["body"])
    document.update({"id": delivery_id, "type": event_type})
    document["data"]["id"] = record_id
    raw = body if body is not None else json.dumps(document, separators=(",", ":")).encode()
    t = int(time.time()) if timestamp is None else timestamp
    event["body"] = raw.decode("utf-8", "replace")
    headers = {k: v for k, v in event["headers"].items() if k.lower() != "webshop-signature"}
    headers["Webshop-Signature"] = f"t={t},v1={signature(secret, t, raw)}"
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    return event


class Context:
    function_name = "CustomerToWaveFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:CustomerToWaveFunction"
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self):
        return 60_000
