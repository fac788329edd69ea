"""The sync engine: sweep -> partition -> page -> record.

A sweep retries what is parked and due, then reads each partition of the flow's source in
pages since its watermark; a page looks its links up at once, reads its counterparts and
adoption candidates ahead, and hands each record to a RecordSync (engine/record.py), which
keeps SYNC.md's rules for it. The rules about a run are kept here once for every flow:
watermarks that never skip (6), parking (7) and one writer per record (8).
"""
from __future__ import annotations

import logging
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Callable, Iterable, Iterator

from ..clients.errors import AuthenticationFailed, Unavailable
from ..mapping import state_hash
from ..mapping.context import SyncContext
from ..state import Link
from .declarations import Flow, Record
from .outcomes import PARKS_THE_RECORD, STOPS_THE_RUN, UNREADABLE, ClaimBusy
from .ports import Side, Store
from .record import ReadAhead, RecordSync, basis_of, references, usable
from .report import Report
from .workers import Workers

logger = logging.getLogger("shopwave.engine")


class Run:
    """One flow's run: its report and context, the ids it has parked, when to stop taking work,
    and the outage that stopped it, if one did."""

    def __init__(self, flow: Flow, ctx: SyncContext, parked: set[str], out_of_time: Callable[[], bool] = lambda: False):
        self.flow, self.ctx, self.parked, self.out_of_time = flow, ctx, parked, out_of_time
        self.report = Report(flow.name)
        self.outage: Unavailable | None = None

    def stopped_by(self, exc: Unavailable, report: Report, what: str) -> None:
        """A system is unavailable (down, or refusing the sync's credentials): said once in the
        report; nothing is parked for it."""
        self.outage = self.outage or exc
        report.failures.append(f"{what}: {exc}")
        report.unavailable.append(exc.system)
        if isinstance(exc, AuthenticationFailed):
            report.credentials_refused.append(exc.system)


class Engine:
    def __init__(self, store: Store, sides: dict[str, Side], *, flows: Callable[[str, str], Flow],
                 catalog: Any = None, options: dict[str, Any] | None = None,
                 claim_lease: timedelta = timedelta(seconds=60), claim_wait: float = 10.0, reserve_seconds: float = 10.0,
                 sweep_lease: timedelta = timedelta(minutes=15), checkpoint: Callable[[str], None] | None = None,
                 concurrency: int = 1):
        self.store = store
        self.sides = sides
        self.flow_for = flows  # (entity, source side) -> the flow that syncs a dependency on demand
        self.catalog = catalog
        self.options = options or {}
        self.claim_lease = claim_lease
        self.claim_wait = claim_wait
        self.reserve_seconds = reserve_seconds
        self.sweep_lease = sweep_lease
        self.workers = Workers(concurrency)
        # Called at every point where a crash would leave a partial effect; the chaos suite
        # makes it crash there. In production it does nothing.
        self.checkpoint = checkpoint or (lambda point: None)

    def _context(self) -> SyncContext:
        return SyncContext(self.store, self.catalog, self.options)

    # sweep ---------------------------------------------------------------------------------
    def sweep(self, flow: Flow, *, time_left: Callable[[], float] | None = None,
              lease_for: timedelta | None = None) -> Report:
        """Retry what is parked and due, then everything changed since each watermark.

        One sweep per flow at a time (a lease in DynamoDB, beside the function's reserved
        concurrency, held for the configured sweep lease or `lease_for` if that is shorter: a
        Lambda's remaining time, so a run killed by its timeout blocks the next only until
        then); with `time_left` it stops taking new records `reserve_seconds` before the
        deadline, and the next run goes on from the saved watermark."""
        lease = min(lease_for, self.sweep_lease) if lease_for is not None else self.sweep_lease
        with self.leased(f"sweep#{flow.name}", lease) as held:
            if not held:
                report = Report(flow.name)
                report.busy = True
                return report
            run = Run(flow, self._context(), {p.source_id for p in self.store.parked(flow.name)}, self._deadline(time_left))
            source = self.sides[flow.source]
            due = [p.source_id for p in self.store.parked(flow.name, due_only=True)]
            if due:
                records = source.fetch_many(flow.entity, due)
                self._sync_page(run, [records[i] for i in due if i in records])
            for partition in source.partitions(flow.entity):
                if not self._sweep_partition(run, partition):
                    break
            return run.report

    def _deadline(self, time_left: Callable[[], float] | None) -> Callable[[], bool]:
        """True once the run should take no new work."""
        if time_left is None:
            return lambda: False
        return lambda: time_left() < self.reserve_seconds

    def _sweep_partition(self, run: Run, partition: str) -> bool:
        """One partition's pages since its watermark; False when the run stops here."""
        flow, source = run.flow, self.sides[run.flow.source]
        bookmark = flow.name + (f"#{partition}" if partition else "")
        mark = self.store.watermark(bookmark)
        for page in self.workers.one_page_ahead(source.pages(flow.entity, partition, mark.ts, flow.page_size)):
            fresh = [r for r in page if not mark.passed(source.stamp(flow.entity, r), source.record_id(r))]
            handled = self._sync_page(run, fresh)
            for record in handled:
                mark.advance(source.stamp(flow.entity, record), source.record_id(record))
            if handled:
                self.store.save_watermark(bookmark, mark)  # saved only after the page is committed
                self.checkpoint("after_watermark")
            if len(handled) < len(fresh):
                return False  # a system went down, or time is up: the rest waits for the next run
            if run.out_of_time():
                run.report.stopped_early = True
                return False
        return True

    def sync_ids(self, flow: Flow, ids: Iterable[str], ctx: SyncContext | None = None, *,
                 raise_outage: bool = False) -> Report:
        """Sync named records now (a webhook, a dependency): fetched fresh, so a stale or
        repeated delivery writes nothing stale. With `raise_outage`, a system that stopped the
        run raises (a dependency's outage stops its dependent's run too, rather than parking it)."""
        run = Run(flow, ctx or self._context(), {p.source_id for p in self.store.parked(flow.name)})
        ids = list(ids)
        records = self.sides[flow.source].fetch_many(flow.entity, ids)
        self._sync_page(run, [records[i] for i in ids if i in records])
        run.report.skipped += len([i for i in ids if i not in records])
        if raise_outage and run.outage is not None:
            raise run.outage
        return run.report

    # page ----------------------------------------------------------------------------------
    def _sync_page(self, run: Run, records: list[Record]) -> list[Record]:
        """Handle records in order; returns those handled (synced, skipped or parked)."""
        flow, ctx = run.flow, run.ctx
        source, mapping = self.sides[flow.source], flow.entity.mapping
        run.report.read += len(records)
        links = self.store.get_links(flow.entity.name, flow.source, [source.record_id(r) for r in records])
        ctx.prefetch([ref for r in records for ref in references(mapping, flow.source, r, ctx)])
        states = {(i := source.record_id(r)): self.canonical(flow.source, mapping, r, ctx, links.get(i)) for r in records}
        changed = [links[i].id_on(flow.target) for i, s in states.items()
                   if i in links and isinstance(s, dict) and state_hash(s) != links[i].state_hash]
        unlinked = [s for r in records if source.record_id(r) not in links
                    and isinstance(s := states[source.record_id(r)], dict) and self.may_create(flow, r, s)]
        try:
            ahead = self._read_ahead(flow, changed, unlinked)
        except STOPS_THE_RUN as exc:
            run.stopped_by(exc, run.report, f"{flow.name}: reading the page's counterparts")
            logger.warning("system unavailable; stopping this run", extra={"error": str(exc)})
            return []  # as if its first record had failed: nothing handled, the watermark stays
        ctx.prefetch([ref for r in ahead.counterparts.values() for ref in references(mapping, flow.target, r, ctx)])

        def handle(record: Record) -> tuple[bool, Report]:
            record_id = source.record_id(record)
            return self._handle(run, RecordSync(self, flow, record, states[record_id], links.get(record_id), ahead,
                                                Report(flow.name), ctx))
        return self.workers.in_page_order(records, handle, run.report, run.out_of_time)

    def _read_ahead(self, flow: Flow, changed: list[str], unlinked: list[Record]) -> ReadAhead:
        """A page's target reads in a few aliased requests instead of one or two per record."""
        target, ahead = self.sides[flow.target], ReadAhead()
        if not target.writable(flow.entity):
            return ahead  # a read-only target: nothing in this page travels there
        if changed:
            ahead.counterparts = target.fetch_many(flow.entity, changed)
        if unlinked:
            taken_at = time.monotonic()  # before the request: the look-up is at least this old
            ahead.lookups, ahead.taken_at = target.look_up_many(flow.entity, unlinked, self.workers.map), taken_at
        return ahead

    # record --------------------------------------------------------------------------------
    def _handle(self, run: Run, record: RecordSync) -> tuple[bool, Report]:
        """One record, with its own report: (handled?, what it did). What a failure means is
        decided here once (engine/outcomes.py)."""
        part, flow = record.report, run.flow
        try:
            record.run()
            if record.record_id in run.parked:
                self.store.unpark(flow.name, record.record_id)
                run.parked.discard(record.record_id)
                part.unparked += 1
        except STOPS_THE_RUN as exc:
            run.stopped_by(exc, part, f"{flow.name} {record.record_id}")
            logger.warning("system unavailable; stopping this run", extra={"record_id": record.record_id, "error": str(exc)})
            return False, part
        except PARKS_THE_RECORD as exc:
            entry = self.store.park(flow.name, record.record_id, f"{type(exc).__name__}: {exc}", kind=type(exc).__name__)
            part.parked += 1
            logger.warning("record parked", extra={"record_id": record.record_id, "reason": entry.reason,
                                                   "attempts": entry.attempts})
            run.parked.add(record.record_id)
        self.checkpoint("after_record")
        return True, part

    @staticmethod
    def canonical(side: str, mapping, record: Record, ctx: SyncContext, link: Link | None = None) -> Record | Exception:
        """A record's canonical state, read against its link; what keeps it from being read yet."""
        try:
            return mapping.canonical(side, record, ctx, basis_of(link, side))
        except UNREADABLE as exc:
            return exc

    def may_create(self, flow: Flow, record: Record, state: Record) -> bool:
        entity = flow.entity
        return not (self.sides[flow.source].deleted(entity, record) or flow.target not in entity.creates_in
                    or not self.sides[flow.target].writable(entity) or entity.skip_create(state))

    def usable(self, ahead: ReadAhead, waited: bool) -> bool:
        return usable(ahead, waited, self.claim_lease.total_seconds())

    # claims --------------------------------------------------------------------------------
    @contextmanager
    def leased(self, key: str, lease: timedelta) -> Iterator[bool]:
        """Hold `key` if no one does (yields whether it was taken), released when done. A crash
        (not an Exception) leaves the lease to expire, as a dead process would."""
        token = uuid.uuid4().hex
        if not self.store.claim(key, token, lease):
            yield False
            return
        try:
            yield True
        except Exception:
            self.store.release(key, token)
            raise
        self.store.release(key, token)

    @contextmanager
    def claimed(self, key: str) -> Iterator[bool]:
        """One writer per record (threads of one process share the engine): waits up to
        `claim_wait` for another writer, then raises ClaimBusy. Yields whether it had to wait."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.claim_wait
        waited = False
        while not self.store.claim(key, token, self.claim_lease):
            if time.monotonic() > deadline:
                raise ClaimBusy(f"{key} is being written by another run")
            waited = True
            time.sleep(0.1)
        try:
            yield waited
        except Exception:
            self.store.release(key, token)
            raise
        self.store.release(key, token)  # a crash (not an Exception) leaves the lease to expire

