"""Failures a test arms on an in-memory side: the next calls of an operation raise what the
real client would (Unavailable: the system is down; Refused: it refused this record)."""
from __future__ import annotations

import threading
from collections import Counter

from shopwave.clients.errors import Refused, Unavailable

OPERATIONS = ("pages", "fetch", "look_up", "create", "update", "action", "delete")
WRITES = ("create", "update", "action", "delete")


class Faults:
    def __init__(self, system: str):
        self.system = system
        self._armed: dict[str, list[Exception]] = {}
        self._lost: dict[str, int] = {}  # operation -> answers still to lose after the write
        self._down = False
        self._lock = threading.Lock()
        self.calls: Counter = Counter()  # operation -> requests sent (refused and failed ones too)

    def fail(self, operation: str, error: Exception | None = None, times: int = 1) -> None:
        """The next `times` calls of `operation` raise `error` (default: the system is down)."""
        assert operation in OPERATIONS, operation
        with self._lock:
            self._armed.setdefault(operation, []).extend(
                [error or Unavailable(f"{self.system} is unavailable (test)")] * times)

    def refuse(self, operation: str, reason: str = "refused (test)", times: int = 1) -> None:
        self.fail(operation, Refused(f"{self.system} {operation}: {reason}"), times)

    def lose_answer(self, operation: str, times: int = 1) -> None:
        """The next `times` calls of `operation` take effect, but their answer never arrives (a
        timeout after the write happened): the caller sees the system as unavailable."""
        assert operation in WRITES, operation
        with self._lock:
            self._lost[operation] = self._lost.get(operation, 0) + times

    def answer(self, operation: str) -> None:
        """Called once the operation took effect: raise if its answer is to be lost."""
        with self._lock:
            if self._lost.get(operation):
                self._lost[operation] -= 1
                raise Unavailable(f"{self.system} timed out after the {operation} happened (test)")

    def down(self, is_down: bool = True) -> None:
        """Every call fails as unavailable until `down(False)`."""
        self._down = is_down

    def check(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1
            if self._down:
                raise Unavailable(f"{self.system} is unavailable (test)")
            armed = self._armed.get(operation)
            if armed:
                raise armed.pop(0)

    @property
    def writes(self) -> int:
        """Write requests sent, as the integration tests count the sandboxes' POST/PATCH/mutations."""
        return sum(self.calls[op] for op in WRITES)

    def reset_counters(self) -> None:
        with self._lock:
            self.calls.clear()
