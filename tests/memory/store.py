"""The state store in dictionaries, with state/store.py's semantics (ports.OperatedStore):

- links stored under both ids, written together and only if every key still holds the revision
  read and names this link's shop record (a new link's keys must not exist yet), else LinkRaced;
  a replaced counterpart's key is removed in the same write;
- watermarks; parked records with attempts, exponential backoff up to a ceiling and, at the last
  attempt, no automatic retry (GAVE_UP) until an operator retries;
- conflicts, newest last; claims taken only if free or expired, with DynamoDB's TTL attribute's
  whole seconds, released only by their owner.

Everything read is a copy, so the engine changes nothing here except through a write.
"""
from __future__ import annotations

import copy
import json
import threading
from datetime import datetime, timedelta
from typing import Any, Iterable

from shopwave.state import Link, LinkRaced, Parked, Watermark
from shopwave.state.store import GAVE_UP, link_key

from .clock import WallClock


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp() // 1)  # a TTL attribute holds whole seconds


class MemoryStore:
    def __init__(self, *, clock: WallClock | None = None, park_backoff: timedelta = timedelta(minutes=1),
                 park_backoff_max: timedelta = timedelta(hours=6), park_max_attempts: int = 10):
        self.clock = clock or WallClock()
        self.park_backoff, self.park_backoff_max, self.park_max_attempts = park_backoff, park_backoff_max, park_max_attempts
        self.reads = self.writes = 0
        self._lock = threading.RLock()
        self._links: dict[str, Link] = {}
        self._watermarks: dict[str, dict] = {}
        self._parked: dict[str, dict[str, Parked]] = {}
        self._conflicts: dict[str, dict[str, dict[str, Any]]] = {}  # entity -> sort key -> detail
        self._claims: dict[str, tuple[str, int]] = {}  # key -> (owner, expires at, epoch seconds)

    # links -------------------------------------------------------------------------------
    def get_links(self, entity: str, side: str, ids: Iterable[str]) -> dict[str, Link]:
        with self._lock:
            self.reads += 1
            found = {}
            for record_id in set(ids):
                link = self._links.get(link_key(entity, side, record_id))
                if link is not None:
                    found[record_id] = copy.deepcopy(link)
            return found

    def get_link(self, entity: str, side: str, record_id: str) -> Link | None:
        return self.get_links(entity, side, [record_id]).get(record_id)

    def save_link(self, link: Link, *, replaces: tuple[str, str] | None = None) -> None:
        expected = link.revision
        with self._lock:
            self.writes += 1
            keys = {side: link_key(link.entity, side, link.id_on(side)) for side in ("shop", "wave")}
            for side, key in keys.items():
                stored = self._links.get(key)
                if expected == 0 or (replaces is not None and side == replaces[0]):
                    if stored is not None:
                        raise LinkRaced(f"link {link.entity}/{link.shop_id} changed underneath")
                elif stored is None or stored.revision != expected or stored.shop_id != link.shop_id:
                    raise LinkRaced(f"link {link.entity}/{link.shop_id} changed underneath")
            old = link_key(link.entity, *replaces) if replaces is not None else None
            if old is not None and old in self._links and self._links[old].shop_id != link.shop_id:
                raise LinkRaced(f"link {link.entity}/{link.shop_id} changed underneath")
            saved = copy.deepcopy(link)
            saved.revision = expected + 1
            for key in keys.values():
                self._links[key] = copy.deepcopy(saved)
            if old is not None:
                self._links.pop(old, None)
        link.revision = expected + 1

    def all_links(self, entity: str | None = None) -> Iterable[Link]:
        with self._lock:
            return [copy.deepcopy(link) for key, link in self._links.items()
                    if "#shop#" in key and (entity is None or link.entity == entity)]

    # watermarks --------------------------------------------------------------------------
    def watermark(self, flow: str) -> Watermark:
        with self._lock:
            self.reads += 1
            return Watermark(**copy.deepcopy(self._watermarks.get(flow, {})))

    def save_watermark(self, flow: str, mark: Watermark) -> None:
        with self._lock:
            self.writes += 1
            self._watermarks[flow] = {"ts": mark.ts, "ids": list(mark.ids), "read_at": mark.read_at}

    # parked records ----------------------------------------------------------------------
    def park(self, flow: str, source_id: str, reason: str, *, kind: str = "error") -> Parked:
        with self._lock:
            previous = self.parked_one(flow, source_id)
            attempts = (previous.attempts if previous else 0) + 1
            delay = min(self.park_backoff * (2 ** (attempts - 1)), self.park_backoff_max)
            due = _iso(self.clock.now() + delay) if attempts < self.park_max_attempts else GAVE_UP
            parked = Parked(flow, source_id, reason, attempts, due, kind)
            self.writes += 1
            self._parked.setdefault(flow, {})[source_id] = parked
            return copy.copy(parked)

    def unpark(self, flow: str, source_id: str) -> None:
        with self._lock:
            self.writes += 1
            self._parked.get(flow, {}).pop(source_id, None)

    def parked_one(self, flow: str, source_id: str) -> Parked | None:
        with self._lock:
            self.reads += 1
            found = self._parked.get(flow, {}).get(source_id)
            return copy.copy(found) if found else None

    def parked(self, flow: str, *, due_only: bool = False) -> list[Parked]:
        with self._lock:
            self.reads += 1
            now = _iso(self.clock.now())
            return [copy.copy(p) for _, p in sorted(self._parked.get(flow, {}).items())
                    if not due_only or p.due_at <= now]

    # conflicts ---------------------------------------------------------------------------
    def record_conflict(self, entity: str, shop_id: str, field_name: str, detail: dict[str, Any]) -> None:
        with self._lock:
            self.writes += 1
            at = _iso(self.clock.now())  # kept CONFLICT_RETENTION in DynamoDB; here for the test's life
            data = json.loads(json.dumps({"shop_id": shop_id, "field": field_name, **detail}, default=str))
            self._conflicts.setdefault(entity, {})[f"{at}#{shop_id}#{field_name}"] = data

    def conflicts(self, entity: str) -> list[dict[str, Any]]:
        """Oldest first, as the table's sort key orders them."""
        with self._lock:
            self.reads += 1
            return [{"at": key.split("#")[0], **copy.deepcopy(data)}
                    for key, data in sorted(self._conflicts.get(entity, {}).items())]

    # claims ------------------------------------------------------------------------------
    def claim(self, key: str, owner: str, lease: timedelta) -> bool:
        with self._lock:
            self.writes += 1
            now = self.clock.now()
            held = self._claims.get(key)
            if held is not None and not held[1] < _epoch(now):
                return False
            self._claims[key] = (owner, _epoch(now + lease))
            return True

    def release(self, key: str, owner: str) -> None:
        with self._lock:
            self.writes += 1
            held = self._claims.get(key)
            if held is not None and held[0] == owner:
                del self._claims[key]  # else the lease expired and another writer holds it now

    def holder(self, key: str) -> str | None:
        """Who holds `key` now (tests: a claim left behind by a crash)."""
        with self._lock:
            held = self._claims.get(key)
            return held[0] if held is not None and not held[1] < _epoch(self.clock.now()) else None
