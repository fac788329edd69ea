"""Counting without touching the layer: wrappers set on one StateStore instance."""
from __future__ import annotations

import math
import threading

METHODS = ("get_links", "save_link", "watermark", "save_watermark", "park", "unpark", "parked_one", "parked",
           "record_conflict", "claim", "release")


class StoreCounter:
    """Calls per StateStore method, with the DynamoDB requests each made (exact at concurrency 1:
    the deltas of the store's own counters), and a check that get_links makes one BatchGetItem
    per 100 ids."""

    def __init__(self, store):
        self.store = store
        self._local = threading.local()
        self._lock = threading.Lock()
        self.start_reads, self.start_writes = store.reads, store.writes
        self.stats: dict[str, dict] = {}
        for name in METHODS:
            self._wrap(name)

    def _wrap(self, name: str) -> None:
        original = getattr(self.store, name)

        def wrapper(*args, **kwargs):
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            r0, w0 = self.store.reads, self.store.writes
            try:
                return original(*args, **kwargs)
            finally:
                self._local.depth = depth
                if depth == 0:
                    dr, dw = self.store.reads - r0, self.store.writes - w0
                    with self._lock:
                        entry = self.stats.setdefault(name, {"calls": 0, "reads": 0, "writes": 0, "ok": True})
                        entry["calls"] += 1
                        entry["reads"] += dr
                        entry["writes"] += dw
                        if name == "get_links":
                            ids = args[2] if len(args) > 2 else kwargs.get("ids", ())
                            if isinstance(ids, (list, set, tuple, frozenset)):
                                n = len(set(ids))
                                entry["ok"] &= dr <= math.ceil(n / 100)
                                entry["max_ids"] = max(entry.get("max_ids", 0), n)

        setattr(self.store, name, wrapper)

    def reset(self) -> None:
        with self._lock:
            self.stats.clear()
            self.start_reads, self.start_writes = self.store.reads, self.store.writes

    def reads(self) -> int:
        return self.store.reads - self.start_reads

    def writes(self) -> int:
        return self.store.writes - self.start_writes

    def by_method(self) -> dict[str, dict]:
        return dict(sorted(self.stats.items()))
