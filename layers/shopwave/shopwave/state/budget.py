"""The deployment's Wave budget, shared by every function and container through the state table.

Wave answers 429 beyond about two concurrent requests per token, and six scheduled functions plus
the webhook deliveries share one token: a limit per process cannot hold it. So every Wave HTTP
attempt holds one of WAVE_MAX_CONCURRENCY slot items (`budget#wave` / `slot#<i>`), taken with a
conditional UpdateItem and given back after the answer; a slot carries a lease, so a container
that dies mid-request frees it when the lease ends. One more item, the gate (`budget#wave` /
`gate`), holds `next_at`: WAVE_MAX_RPS spaces the starts of requests by reserving the next start
there, and a 429 pushes it forward (a cool-down every caller respects).

Inside one process a semaphore of the same size queues the threads first, so only a process's
slot holders, never all its waiting threads, poll DynamoDB.
"""
from __future__ import annotations

import random
import threading
import time
import uuid
from typing import Callable

from pynamodb.exceptions import PynamoDBException, UpdateError, GetError

from ..clients.errors import Unavailable
from .models import BudgetItem

GATE = "gate"
COOL_DOWN_REFRESH = 0.5  # seconds a process trusts its last read of the gate when no rate is set
# Waiting for a slot: first pause and longest pause between polls. With n waiters polling at random
# phases a freed slot is seen within about POLL_MAX / n; longer pauses cost hand-off latency,
# shorter ones DynamoDB reads (BENCHMARKS.md section 9).
POLL_FIRST, POLL_MAX = 0.01, 0.1


class BudgetUnavailable(Unavailable):
    """The shared budget's table could not be reached: no Wave request may go out uncounted."""
    system = "DynamoDB"


def _conflict(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class SharedBudget:
    """acquire() before each HTTP attempt, release() after its answer, pause(s) after a 429."""

    def __init__(self, name: str = "wave", *, max_concurrency: int = 2, max_rps: float = 0.0,
                 lease: float = 60.0, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self.pk = f"budget#{name}"
        self.max_concurrency = max_concurrency
        self.max_rps = max_rps
        self.lease = lease
        self.calls = 0  # DynamoDB requests made, for the benchmark's "calls per Wave request"
        self._clock, self._sleep = clock, sleep
        self._process = uuid.uuid4().hex[:12]
        self._local = threading.BoundedSemaphore(max_concurrency) if max_concurrency else None
        self._held = threading.local()
        self._lock = threading.Lock()
        self._cool_until = 0.0
        self._gate_read_at = float("-inf")
        self._queued = False  # which gate update to try first: the last one that worked
        self._freed: int | None = None  # the slot this process gave back last: likely still free

    # ------------------------------------------------------------------------------- public
    def acquire(self) -> None:
        """Wait until this thread may send one request: a slot is its own and the gate lets it start."""
        if self._local is not None:
            self._local.acquire()
            try:
                self._held.slot = self._take_slot()
            except BaseException:
                self._local.release()
                raise
        self._wait_for_gate()

    def release(self) -> None:
        """Give back this thread's slot (a no-op when it holds none)."""
        slot = getattr(self._held, "slot", None)
        if slot is None:
            return
        self._held.slot = None
        try:
            self._update(slot, [BudgetItem.owner.remove(), BudgetItem.lease_until.remove()],
                         BudgetItem.owner == self._owner())
            self._freed = slot  # the next thread of this process tries it first
        except UpdateError as exc:
            if not _conflict(exc):  # a conflict: the lease ran out and another caller holds it now
                raise BudgetUnavailable(f"Wave budget: {exc}") from None
        finally:
            self._local.release()

    def pause(self, seconds: float) -> None:
        """Every caller of the deployment waits `seconds` from now (Wave answered 429)."""
        until = self._clock() + seconds
        with self._lock:
            self._cool_until = max(self._cool_until, until)
        try:
            self._update(GATE, [BudgetItem.next_at.set(until)],
                         BudgetItem.next_at.does_not_exist() | (BudgetItem.next_at < until))
        except UpdateError as exc:
            if not _conflict(exc):  # a conflict: someone already set a later moment
                raise BudgetUnavailable(f"Wave budget: {exc}") from None

    # -------------------------------------------------------------------------------- slots
    def _owner(self) -> str:
        return f"{self._process}-{threading.get_ident()}"

    def _take_slot(self) -> int:
        """One conditional update when a slot is free; else poll with one Query of the slots
        (reads, not failing writes) and take one seen free or expired."""
        first = self._freed if self._freed is not None else random.randrange(self.max_concurrency)
        self._freed = None
        if self._try_slot(first):
            return first
        pause = POLL_FIRST
        while True:
            for slot in self._free_slots():
                if self._try_slot(slot):
                    return slot
            self._sleep(pause * (0.5 + random.random()))  # jitter: waiters don't poll in step
            pause = min(pause * 2, POLL_MAX)

    def _free_slots(self) -> list[int]:
        now = self._clock()
        self._count()
        try:
            held = {int(item.sk.split("#")[1]) for item in BudgetItem.query(
                        self.pk, BudgetItem.sk.startswith("slot#"), consistent_read=True)
                    if item.owner is not None and (item.lease_until or 0) >= now}
        except PynamoDBException as exc:
            raise BudgetUnavailable(f"Wave budget: {exc}") from None
        free = [slot for slot in range(self.max_concurrency) if slot not in held]
        random.shuffle(free)
        return free

    def _try_slot(self, slot: int) -> bool:
        now = self._clock()
        try:
            self._update(slot, [BudgetItem.owner.set(self._owner()), BudgetItem.lease_until.set(now + self.lease)],
                         BudgetItem.owner.does_not_exist() | (BudgetItem.lease_until < now))
            return True
        except UpdateError as exc:
            if _conflict(exc):
                return False
            raise BudgetUnavailable(f"Wave budget: {exc}") from None

    # --------------------------------------------------------------------------------- gate
    def _wait_for_gate(self) -> None:
        start = self._reserve_start() if self.max_rps else self._cool_down_end()
        wait = start - self._clock()
        if wait > 0:
            self._sleep(wait)

    def _reserve_start(self) -> float:
        """This request's start under WAVE_MAX_RPS: the gate's next_at, moved one gap on."""
        gap = 1.0 / self.max_rps
        while True:
            now = self._clock()
            queued = (BudgetItem.next_at.set(BudgetItem.next_at + gap), BudgetItem.next_at >= now)
            idle = (BudgetItem.next_at.set(now + gap), BudgetItem.next_at.does_not_exist() | (BudgetItem.next_at < now))
            attempts = [(True, queued), (False, idle)] if self._queued else [(False, idle), (True, queued)]
            for is_queued, (action, condition) in attempts:
                try:
                    item = self._update(GATE, [action], condition)
                except UpdateError as exc:
                    if not _conflict(exc):
                        raise BudgetUnavailable(f"Wave budget: {exc}") from None
                    continue
                self._queued = is_queued
                return float(item.next_at) - gap

    def _cool_down_end(self) -> float:
        """When the last 429's cool-down ends, read from the gate at most every COOL_DOWN_REFRESH."""
        now = self._clock()
        with self._lock:
            fresh = now - self._gate_read_at < COOL_DOWN_REFRESH
            self._gate_read_at = now if not fresh else self._gate_read_at
        if not fresh:
            self._count()
            try:
                gate = BudgetItem.get(self.pk, GATE, consistent_read=True)
                with self._lock:
                    self._cool_until = max(self._cool_until, float(gate.next_at or 0))
            except BudgetItem.DoesNotExist:
                pass
            except GetError as exc:
                raise BudgetUnavailable(f"Wave budget: {exc}") from None
        return self._cool_until

    def _count(self) -> None:
        with self._lock:
            self.calls += 1

    def _update(self, key: int | str, actions, condition) -> BudgetItem:
        self._count()
        item = BudgetItem(self.pk, key if isinstance(key, str) else f"slot#{key}")
        item.update(actions=actions, condition=condition)
        return item
