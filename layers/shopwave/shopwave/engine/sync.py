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
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Callable, Iterable, Iterator

from ..clients.errors import AuthenticationFailed, Unavailable
from ..mapping import state_hash
from ..mapping.context import SyncContext
from ..state import Link, Watermark
from . import timestamps
from .declarations import Flow, Record
from .outcomes import PARKS_THE_RECORD, STOPS_THE_RUN, UNREADABLE, ClaimBusy
from .ports import Side, Store
from .record import ReadAhead, RecordSync, basis_of, references, still_current, usable
from .report import Report
from .workers import Workers

logger = logging.getLogger("shopwave.engine")


class SweepMode(Enum):
    """What a sweep reads. INCREMENTAL: what changed since the watermark (the schedule every few
    minutes). RECONCILE: everything the incremental sweeps have passed, to catch what they missed
    (a payment that left `modifiedAt` alone), with its own lease and progress (SYNC.md rule 6)."""
    INCREMENTAL = "incremental"
    RECONCILE = "reconcile"


class Run:
    """One flow's run: its report and context, the ids it has parked, when to stop taking work,
    and the outage that stopped it, if one did."""

    def __init__(self, flow: Flow, ctx: SyncContext, parked: set[str], out_of_time: Callable[[], bool] = lambda: False,
                 mode: SweepMode = SweepMode.INCREMENTAL):
        self.flow, self.ctx, self.parked, self.out_of_time, self.mode = flow, ctx, parked, out_of_time, mode
        self.report = Report(flow.name, mode=mode.value)
        self.seen: dict[str, str] = {}  # record id -> the newest stamp handled in this run
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
                 concurrency: int = 1, reconcile_page_size: int = 200,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
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
        self.reconcile_page_size = reconcile_page_size
        self.now = now  # our clock: when a read began (Watermark.read_at)
        # Called at every point where a crash would leave a partial effect; the chaos suite
        # makes it crash there. In production it does nothing.
        self.checkpoint = checkpoint or (lambda point: None)

    def _context(self) -> SyncContext:
        return SyncContext(self.store, self.catalog, self.options)

    # sweep ---------------------------------------------------------------------------------
    def sweep(self, flow: Flow, *, mode: SweepMode = SweepMode.INCREMENTAL, time_left: Callable[[], float] | None = None,
              lease_for: timedelta | None = None) -> Report:
        """Retry what is parked and due, then everything changed since each watermark.

        One sweep per flow at a time (a lease in DynamoDB, beside the function's reserved
        concurrency, held for the configured sweep lease or `lease_for` if that is shorter: a
        Lambda's remaining time, so a run killed by its timeout blocks the next only until
        then); with `time_left` it stops taking new records `reserve_seconds` before the
        deadline, and the next run goes on from the saved watermark."""
        lease = min(lease_for, self.sweep_lease) if lease_for is not None else self.sweep_lease
        if mode is SweepMode.RECONCILE:
            return self._reconcile(flow, lease, time_left)
        with self.leased(f"sweep#{flow.name}", lease) as held:
            if not held:
                return Report.of_busy(flow.name, mode.value)
            run = Run(flow, self._context(), {p.source_id for p in self.store.parked(flow.name)}, self._deadline(time_left))
            self._resolve_needs(run)
            source = self.sides[flow.source]
            due = [p.source_id for p in self.store.parked(flow.name, due_only=True)]
            if due:
                records = source.fetch_many(flow.entity, due)
                self._sync_page(run, [records[i] for i in due if i in records])
            for partition in source.partitions(flow.entity):
                if not self._sweep_partition(run, partition):
                    break
            return run.report

    @staticmethod
    def _resolve_needs(run: Run) -> None:
        """What the flow's target needs resolved before any write (a setting naming a record in it)."""
        need = run.flow.entity.needs.get(run.flow.target)
        if need is not None:
            need(run.ctx)

    def _deadline(self, time_left: Callable[[], float] | None) -> Callable[[], bool]:
        """True once the run should take no new work."""
        if time_left is None:
            return lambda: False
        return lambda: time_left() < self.reserve_seconds

    def _sweep_partition(self, run: Run, partition: str) -> bool:
        """One partition's pages since its watermark (less the side's re-read window); False when
        the run stops here."""
        flow, source = run.flow, self.sides[run.flow.source]
        bookmark = watermark_name(flow, partition)
        mark = self.store.watermark(bookmark)
        window = source.reread_window(flow.entity)
        since, began = reread_from(mark, window), timestamps.format_moment(self.now())
        for page in self.workers.one_page_ahead(source.pages(flow.entity, partition, since, flow.page_size)):
            fresh = [r for r in page if self._unhandled(run, mark, source, r, rereads=bool(window))]
            before = (mark.ts, len(mark.ids))
            handled = self._sync_page(run, fresh)
            for record in handled:
                stamp, record_id = source.stamp(flow.entity, record), source.record_id(record)
                mark.advance(stamp, record_id)
                run.seen[record_id] = max(stamp, run.seen.get(record_id, ""))
            if (mark.ts, len(mark.ids)) != before:  # re-reads alone move nothing: nothing to save
                mark.read_at = began
                self.store.save_watermark(bookmark, mark)  # saved only after the page is committed
                self.checkpoint("after_watermark")
            if len(handled) < len(fresh):
                return False  # a system went down, or time is up: the rest waits for the next run
            if run.out_of_time():
                run.report.stopped_early = True
                return False
        if window and mark.ts is not None and since is not None and since < mark.ts <= timestamps.minus(began, window):
            # The window was read again to its end, long enough after the watermark's last record
            # that nothing before it can still land: the next sweeps start at the watermark itself.
            mark.read_at = began
            self.store.save_watermark(bookmark, mark)
        return True

    @staticmethod
    def _unhandled(run: Run, mark, source: Side, record: Record, *, rereads: bool) -> bool:
        """A record of the page this run should handle. A side with an exact cursor: one the watermark
        has not passed. A side whose stamps may come late or coarse (rereads): any record not
        handled in this run at this stamp or later (hash-skip makes a re-read write nothing),
        except a parked one the watermark has passed, which waits for its backoff."""
        stamp, record_id = source.stamp(run.flow.entity, record), source.record_id(record)
        passed = mark.passed(stamp, record_id)
        if not rereads:
            return not passed
        return run.seen.get(record_id, "") < stamp and not (passed and record_id in run.parked)

    # reconciliation ------------------------------------------------------------------------
    def _reconcile(self, flow: Flow, lease: timedelta, time_left: Callable[[], float] | None) -> Report:
        """Every record the incremental sweeps have passed, read again in the largest pages, each
        compared with its link (hash-skip): only what differs is written, and counted in
        `reconciled`. Its own lease and progress: an incremental sweep runs beside it, and a pass
        cut short goes on where it stopped next time."""
        with self.leased(f"reconcile#{flow.name}", lease) as held:
            if not held:
                return Report.of_busy(flow.name, SweepMode.RECONCILE.value)
            run = Run(flow, self._context(), {p.source_id for p in self.store.parked(flow.name)},
                      self._deadline(time_left), SweepMode.RECONCILE)
            for partition in self.sides[flow.source].partitions(flow.entity):
                if not self._reconcile_partition(run, partition):
                    break
            if run.report.reconciled:
                logger.info("reconciliation wrote what the incremental sweeps missed",
                            extra={"flow": flow.name, "reconciled": run.report.reconciled})
            return run.report

    def _reconcile_partition(self, run: Run, partition: str) -> bool:
        flow, source = run.flow, self.sides[run.flow.source]
        bookmark = watermark_name(flow, partition)
        progress_key = f"reconcile#{bookmark}"
        horizon = self.store.watermark(bookmark).ts  # newer records are the incremental sweep's
        if horizon is None:
            return True  # never swept: the incremental sweep reads everything anyway
        progress = self.store.watermark(progress_key)  # where a pass cut short stopped
        pages = source.pages(flow.entity, partition, progress.ts, self.reconcile_page_size)
        for page in self.workers.one_page_ahead(pages):
            stamps = {source.record_id(r): source.stamp(flow.entity, r) for r in page}
            mine = [r for r in page if stamps[(i := source.record_id(r))] <= horizon
                    and not progress.passed(stamps[i], i) and i not in run.parked]
            handled = self._sync_page(run, mine)
            for record in handled:
                progress.advance(stamps[source.record_id(record)], source.record_id(record))
            if handled:
                self.store.save_watermark(progress_key, progress)
            if len(handled) < len(mine):
                return False
            if any(stamp > horizon for stamp in stamps.values()):
                break  # oldest first: the rest is newer than the watermark
            if run.out_of_time():
                run.report.stopped_early = True
                return False
        self.store.save_watermark(progress_key, Watermark())  # done: the next pass starts from the beginning
        return True

    def sync_ids(self, flow: Flow, ids: Iterable[str], ctx: SyncContext | None = None, *,
                 raise_outage: bool = False) -> Report:
        """Sync named records now (a webhook, a dependency): fetched fresh, so a stale or
        repeated delivery writes nothing stale. With `raise_outage`, a system that stopped the
        run raises (a dependency's outage stops its dependent's run too, rather than parking it)."""
        run = Run(flow, ctx or self._context(), {p.source_id for p in self.store.parked(flow.name)})
        ids = list(ids)
        records = self.sides[flow.source].fetch_many(flow.entity, ids)
        if ctx is None and records:
            self._resolve_needs(run)
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
        # taken before the requests: what they answer is at least this old
        target, ahead = self.sides[flow.target], ReadAhead(taken_at=time.monotonic())
        if not target.writable(flow.entity):
            return ahead  # a read-only target: nothing in this page travels there
        if changed:
            ahead.counterparts = target.fetch_many(flow.entity, changed)
        if unlinked:
            ahead.lookups = target.look_up_many(flow.entity, unlinked, self.workers.map)
        return ahead

    # record --------------------------------------------------------------------------------
    def _handle(self, run: Run, record: RecordSync) -> tuple[bool, Report]:
        """One record, with its own report: (handled?, what it did). What a failure means is
        decided here once (engine/outcomes.py)."""
        part, flow = record.report, run.flow
        try:
            record.run()
            if run.mode is SweepMode.RECONCILE and part.writes:
                part.reconciled += 1  # it differed from its link: a change the incremental sweeps missed
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
            if run.mode is SweepMode.RECONCILE:
                part.reconciled += 1
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

    def still_current(self, ahead: ReadAhead, waited: bool) -> bool:
        return still_current(ahead, waited, self.claim_lease.total_seconds())

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



def watermark_name(flow: Flow, partition: str) -> str:
    """One bookmark per flow and partition (a reconciliation pass keeps its progress beside it)."""
    return flow.name + (f"#{partition}" if partition else "")


def reread_from(mark: Watermark, window: timedelta) -> str | None:
    """Where a sweep starts reading: the watermark, or up to `window` before it for a side whose
    stamps may come late (a commit that lands after a later one was read) or coarse. Only what
    can still have been unseen is read again: records stamped after the last read began, less
    the window (read_at); a watermark from before read_at was kept re-reads the whole window."""
    if not window or mark.ts is None:
        return mark.ts
    start = timestamps.minus(mark.ts, window)
    if mark.read_at:
        start = max(start, timestamps.minus(mark.read_at, window))
    return min(start, mark.ts)
