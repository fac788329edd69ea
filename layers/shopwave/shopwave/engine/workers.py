"""How the engine's work runs: a page's records in a bounded sliding window, independent reads
at once, and the next page read while this one is handled. One Workers per engine."""
from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterator

from .report import Report

POOL_PREFIX = "sync-pool"


class Workers:
    def __init__(self, concurrency: int = 1):
        self.concurrency = max(1, concurrency)
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix=POOL_PREFIX) if self.concurrency > 1 else None
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="sync-pages")

    def close(self) -> None:
        """Let the records and page reads in flight finish, then stop the threads."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._reader.shutdown(wait=True)

    def in_page_order(self, records: list[Any], handle: Callable[[Any], tuple[bool, Report]],
                      report: Report, out_of_time: Callable[[], bool]) -> list[Any]:
        """At most `concurrency` records in flight, a new one starting as soon as one ends (no
        waiting for the slowest of a batch); outcomes are taken in page order, so the records
        returned as handled are always a prefix of the page, which is all the watermark may pass.
        After a failure nothing new starts; records already in flight finish and are reported,
        but only the prefix before the failure counts (the rest are re-read next run as echoes)."""
        handled: list[Any] = []
        in_flight: deque[tuple[Any, Future]] = deque()
        position, failed, out_of_work = 0, False, False
        while True:
            while not (failed or out_of_work) and position < len(records) and len(in_flight) < self.concurrency:
                if position and out_of_time():
                    report.stopped_early = out_of_work = True  # no new work; what is in flight finishes and counts
                    break
                in_flight.append((records[position], self.start(handle, records[position])))
                position += 1
            if not in_flight:
                return handled
            record, outcome = in_flight.popleft()
            done, part = outcome.result()
            report.merge(part)
            if done and not failed:
                handled.append(record)
            else:
                failed = True  # a system is down: nothing after this record counts as handled

    def map(self, work: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """Independent reads at once (bounded by the pool); results keep their order."""
        if len(items) == 1:
            return [work(items[0])]
        return [future.result() for future in [self.start(work, item) for item in items]]

    def start(self, work: Callable[[Any], Any], item: Any) -> Future:
        """On the pool; inline without one, or on a pool thread already (a dependency synced
        from inside a record must not wait for a pool its own record may be holding)."""
        if self._pool is None or threading.current_thread().name.startswith(POOL_PREFIX):
            done: Future = Future()
            done.set_result(work(item))
            return done
        return self._pool.submit(work, item)

    def one_page_ahead(self, pages: Iterator[list[Any]]) -> Iterator[list[Any]]:
        """The next page is read while this one is handled: a page read is a round trip the
        records need not wait for. Pagers depend only on the pages they read, not on what the
        engine wrote meanwhile; a run that stops early has read at most one page for nothing."""
        upcoming = self._reader.submit(next, pages, None)
        try:
            while (page := upcoming.result()) is not None:
                upcoming = self._reader.submit(next, pages, None)
                yield page
        finally:
            upcoming.cancel()
