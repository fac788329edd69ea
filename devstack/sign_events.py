"""Re-sign webhook event files: `python3 dev.py sign-events [FILE|FOLDER ...] [--secret S]`.

The receiver refuses a `Webshop-Signature` whose timestamp is more than 5 minutes from its
clock, so a saved event (events/webhook_*.json, the ones `python3 dev.py sam-env` writes) only
works for `sam local invoke` right after signing. This rewrites, in place, the signature header
(in `headers` and `multiValueHeaders`) of every API Gateway event in the given files or folders
(default: events/) with the current time and the secret (default whsec_local_test, the one the
files in events/ and the sam-env webshop sandbox use); the body is left as it is. Files that are
not webhook events (schedule.json, env files) are skipped.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from devstack.gateway import sign
from devstack.template import ROOT

DEFAULT_SECRET = "whsec_local_test"
HEADER = "Webshop-Signature"


def is_webhook_event(event) -> bool:
    return isinstance(event, dict) and event.get("httpMethod") == "POST" and isinstance(event.get("body"), str)


def sign_event(event: dict, secret: str, timestamp: int | None = None) -> dict:
    """A copy of the event whose signature header is the body's, signed at `timestamp` (default now)."""
    event = copy.deepcopy(event)
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    value = sign(secret, event["body"], timestamp)
    for section, wrap in (("headers", lambda v: v), ("multiValueHeaders", lambda v: [v])):
        headers = event.get(section) or {}
        names = [name for name in headers if name.lower() == HEADER.lower()] or [HEADER]
        for name in names:
            headers[name] = wrap(value)
        event[section] = headers
    when = datetime.fromtimestamp(timestamp, timezone.utc)
    context = event.setdefault("requestContext", {})
    context["requestTimeEpoch"] = timestamp * 1000
    context["requestTime"] = when.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return event


def retarget(event: dict, record_id: str, delivery_id: str | None = None) -> dict:
    """A copy whose body names another record, as a new delivery (unsigned: sign it next)."""
    event = copy.deepcopy(event)
    body = json.loads(event["body"])
    body["id"] = delivery_id or f"dlv_{uuid.uuid4().hex[:16]}"
    body["data"]["id"] = record_id
    body["occurred_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    event["body"] = json.dumps(body, separators=(",", ":"))
    return event


def event_files(targets: list[str]) -> list[Path]:
    files: list[Path] = []
    for target in targets or [str(ROOT / "events")]:
        path = Path(target)
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    return files


def resign_files(targets: list[str], secret: str = DEFAULT_SECRET, timestamp: int | None = None) -> list[Path]:
    """Re-sign every webhook event among the files; returns the files rewritten."""
    done = []
    for path in event_files(targets):
        event = json.loads(path.read_text(encoding="utf-8"))
        if not is_webhook_event(event):
            continue
        path.write_text(json.dumps(sign_event(event, secret, timestamp), indent=2) + "\n", encoding="utf-8")
        done.append(path)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 dev.py sign-events", description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="event files or folders (default: events/)")
    parser.add_argument("--secret", default=DEFAULT_SECRET,
                        help=f"signing secret (default {DEFAULT_SECRET}); the function must hold the same one")
    parser.add_argument("--timestamp", type=int, help="unix seconds (default: now)")
    args = parser.parse_args(argv)
    done = resign_files(args.targets, args.secret, args.timestamp)
    for path in done:
        print(f"signed {path}")
    if not done:
        print("no webhook events found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
