"""Process crashes at the engine's checkpoints, what a new process starts from, and secrets that
stop working for a while (a revoked Wave token or webshop key, restored or rotated later)."""
from __future__ import annotations

import os
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


class Credentials:
    """Revokes the Wave token or the webshop key for a few ops, then restores it, or rotates it (a
    new secret in the system and where the sync reads it, as an operator would): every request
    is refused meanwhile, which must stop runs without parking anything."""

    def __init__(self, stack, rng: random.Random):
        self.stack, self.rng = stack, rng
        self.revoked: list = []  # [system, ops left]
        self.rotations = 0

    def revoke(self) -> None:
        if self.revoked:
            return
        system = self.rng.choice(["wave", "shop"])
        (self.stack.wave.revoke_token(self.rng.choice([401, 403, 200])) if system == "wave" else self.stack.shop.revoke_key())
        self.revoked = [system, self.rng.randint(2, 12)]

    def tick(self) -> None:
        """One op has passed: a revocation ends after its ops, by a restore or a rotation."""
        if self.revoked:
            self.revoked[1] -= 1
            if self.revoked[1] <= 0:
                self.restore(rotate=self.rng.random() < 0.5)

    def restore(self, rotate: bool = False) -> None:
        if not self.revoked:
            return
        system = self.revoked[0]
        self.revoked = []
        if not rotate:
            (self.stack.wave.restore_token() if system == "wave" else self.stack.shop.restore_key())
            return
        self.rotations += 1
        new = f"rotated-{system}-{self.rotations}-0123456789"
        if system == "wave":
            self.stack.wave.rotate_token(new)
            os.environ["WAVE_TOKEN"] = new  # undone by the stack fixture's monkeypatch at teardown
        else:
            self.stack.shop.rotate_key(new)
            os.environ["WEBSHOP_API_KEY"] = new
