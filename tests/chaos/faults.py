"""Process crashes at the engine's checkpoints, and what a new process starts from."""
from __future__ import annotations

import random
import threading
from collections import Counter

from shopwave import idempotency, runtime

POINTS = ("after_remote_write", "after_link_write", "after_record", "after_watermark")


class SimulatedCrash(BaseException):
    """The process died here: no Exception handler runs, claims and leases stay behind."""


class Crasher:
    """The engine's checkpoint: when armed, crashes at the n-th visit of one chosen point."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.crashes: Counter = Counter()
        self._armed: list | None = None  # [point, visits left before the crash]
        self._lock = threading.Lock()

    def arm(self) -> None:
        self._armed = [self.rng.choice(POINTS), self.rng.randint(0, 3)]

    def disarm(self) -> None:
        self._armed = None

    def checkpoint(self, point: str) -> None:
        with self._lock:
            if self._armed is None or self._armed[0] != point:
                return
            if self._armed[1] > 0:
                self._armed[1] -= 1
                return
            self._armed = None
            self.crashes[point] += 1
        raise SimulatedCrash(point)

    def process(self) -> runtime.Runtime:
        """The current process's runtime, with this crasher as its checkpoint."""
        rt = runtime.current()
        rt.engine.checkpoint = self.checkpoint
        return rt


def new_process() -> None:
    """Forget everything the crashed process held in memory (as a fresh Lambda container).
    Records the crashed engine still had in flight on other threads finish first: Python
    cannot stop a thread, so the crash counts as having come just after them."""
    runtime.current().engine.workers.close()
    runtime.current.cache_clear()
    idempotency._handled_once.cache_clear()
