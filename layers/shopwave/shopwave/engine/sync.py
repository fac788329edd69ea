"""The sync engine: reads a flow's source in pages, and for each record decides between
echo, create, adopt, update (three-way merge) and delete policy, writing only the target.

Rules from SYNC.md kept here once for every flow: links (1), adopt before create (2), no
echoes (3), three-way merge (4), dependencies first (5), watermarks that never skip (6),
parking (7), one writer per record (8), deletes by policy (9).
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Iterable

from ..clients.wave import WaveGraphQLError, WaveInputError, WaveTransportError
from ..clients.webshop import WebshopInputError, WebshopStale, WebshopTransportError
from ..mapping import SHOP, BadValue, state_hash
from ..state import Link, LinkRaced, StateStore
from . import merge as merging
from .catalog import UnknownTaxRate
from .context import MissingDependency, SyncContext
from .declarations import Flow, Record
from .report import Report
from .workers import Workers

logger = logging.getLogger("shopwave.engine")


class ClaimBusy(Exception):
    """Another writer held this record for longer than we wait."""


class Ambiguous(Exception):
    """Several counterparts could be adopted; an operator has to choose."""


class CounterpartMissing(Exception):
    """The linked record is gone from the target; an operator decides (SYNC.md rule 9)."""


# A record failing with these is parked and retried later; the rest of the page goes on.
PARKABLE = (BadValue, WaveInputError, WaveGraphQLError, WebshopInputError, WebshopStale, LinkRaced,
            ClaimBusy, Ambiguous, CounterpartMissing, MissingDependency, UnknownTaxRate)
# These mean a system is down: stop here, keep the watermark before this record.
TRANSPORT = (WaveTransportError, WebshopTransportError)
MAX_DEPENDENCIES = 25


@dataclass
class ReadAhead:
    """What a page read before handling its records: the counterparts of changed linked
    records (one aliased request) and the adoption look-ups of unlinked ones (the same), with
    when the look-ups were made, since a look-up only stands for a while (see _usable)."""
    counterparts: dict[str, Record] = field(default_factory=dict)
    lookups: dict[tuple[str, Any], list[Record]] | None = None
    taken_at: float = 0.0

    def without_lookups(self) -> "ReadAhead":
        return ReadAhead(self.counterparts)


class Engine:
    def __init__(self, store: StateStore, sides: dict[str, Any], *, flows: Callable[[str, str], Flow],
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
        for side in self.sides.values():
            side.new_run()
        return SyncContext(self.store, self.catalog, self.options)

    # entry points ------------------------------------------------------------------------
    def sweep(self, flow: Flow, *, time_left: Callable[[], float] | None = None,
              lease_for: timedelta | None = None) -> Report:
        """Retry what is parked and due, then everything changed since each watermark.

        One sweep per flow at a time (a lease in DynamoDB, beside the function's reserved
        concurrency); with `time_left` it stops taking new records `reserve_seconds` before
        the deadline, and the next run goes on from the saved watermark."""
        report, ctx = Report(flow.name), self._context()
        lease = f"sweep#{flow.name}"
        token = uuid.uuid4().hex
        if not self.store.claim(lease, token, lease_for or self.sweep_lease):
            report.busy = True
            return report
        try:
            self._sweep(flow, report, ctx, self._deadline(time_left))
        except Exception:
            self.store.release(lease, token)
            raise
        self.store.release(lease, token)
        return report

    def _deadline(self, time_left: Callable[[], float] | None) -> Callable[[], bool]:
        """True once the run should take no new work."""
        if time_left is None:
            return lambda: False
        return lambda: time_left() < self.reserve_seconds

    def _sweep(self, flow: Flow, report: Report, ctx: SyncContext, out_of_time: Callable[[], bool]) -> None:
        source = self.sides[flow.source]
        parked = {p.source_id for p in self.store.parked(flow.name)}
        due = [p.source_id for p in self.store.parked(flow.name, due_only=True)]
        if due:
            records = source.fetch_many(flow.entity, due)
            self._sync_page(flow, [records[i] for i in due if i in records], parked, report, ctx, out_of_time)
        for partition in source.partitions(flow.entity):
            if not self._sweep_partition(flow, partition, parked, report, ctx, out_of_time):
                break

    def _sweep_partition(self, flow, partition, parked, report, ctx, out_of_time) -> bool:
        source = self.sides[flow.source]
        bookmark = flow.name + (f"#{partition}" if partition else "")
        mark = self.store.watermark(bookmark)
        for page in self.workers.one_page_ahead(source.pages(flow.entity, partition, mark.ts, flow.page_size)):
            fresh = [r for r in page if not mark.passed(source.stamp(r), source.record_id(r))]
            handled = self._sync_page(flow, fresh, parked, report, ctx, out_of_time)
            for record in handled:
                mark.advance(source.stamp(record), source.record_id(record))
            if handled:
                self.store.save_watermark(bookmark, mark)  # saved only after the page is committed
                self.checkpoint("after_watermark")
            if len(handled) < len(fresh):
                return False  # a system went down, or time is up: the rest waits for the next run
            if out_of_time():
                report.stopped_early = True
                return False
        return True

    def sync_ids(self, flow: Flow, ids: Iterable[str], ctx: SyncContext | None = None) -> Report:
        """Sync named records now (a webhook, a dependency): fetched fresh, so a stale or
        repeated delivery writes nothing stale."""
        report, ctx = Report(flow.name), ctx or self._context()
        ids = list(ids)
        records = self.sides[flow.source].fetch_many(flow.entity, ids)
        parked = {p.source_id for p in self.store.parked(flow.name)}
        self._sync_page(flow, [records[i] for i in ids if i in records], parked, report, ctx)
        report.skipped += len([i for i in ids if i not in records])
        return report

    # one page ----------------------------------------------------------------------------
    def _sync_page(self, flow: Flow, records: list[Record], parked: set[str], report: Report, ctx: SyncContext,
                   out_of_time: Callable[[], bool] = lambda: False) -> list[Record]:
        """Handle records in order; returns those handled (synced, skipped or parked)."""
        source, mapping = self.sides[flow.source], flow.entity.mapping
        report.read += len(records)
        links = self.store.get_links(flow.entity.name, flow.source, [source.record_id(r) for r in records])
        ctx.prefetch([(entity, side, rid) for r in records for entity, side, rid in _refs(mapping, flow.source, r)])
        states = {source.record_id(r): self._canonical(flow.source, mapping, r, ctx) for r in records}
        changed = [links[i].id_on(flow.target) for i, s in states.items()
                   if i in links and isinstance(s, dict) and state_hash(s) != links[i].state_hash]
        unlinked = [s for r in records if source.record_id(r) not in links
                    and isinstance(s := states[source.record_id(r)], dict) and self._may_create(flow, r, s)]
        try:
            ahead = self._read_ahead(flow, changed, unlinked)
        except TRANSPORT as exc:
            report.failures.append(f"{flow.name}: reading the page's counterparts: {exc}")
            logger.warning("system unavailable; stopping this run", extra={"error": str(exc)})
            return []  # as if its first record had failed: nothing handled, the watermark stays
        ctx.prefetch([(entity, side, rid) for r in ahead.counterparts.values() for entity, side, rid in _refs(mapping, flow.target, r)])
        return self.workers.in_page_order(records, lambda r: self._handle(flow, r, states, links, ahead, parked, ctx),
                                          report, out_of_time)

    def _read_ahead(self, flow: Flow, changed: list[str], unlinked: list[Record]) -> ReadAhead:
        """A page's target reads in a few aliased requests instead of one or two per record."""
        target, ahead = self.sides[flow.target], ReadAhead()
        if changed:
            ahead.counterparts = target.fetch_many(flow.entity, changed)
        if unlinked:
            taken_at = time.monotonic()  # before the request: the look-up is at least this old
            ahead.lookups, ahead.taken_at = target.look_up_many(flow.entity, unlinked, self.workers.map), taken_at
        return ahead

    def _handle(self, flow, record, states, links, ahead, parked, ctx) -> tuple[bool, Report]:
        """One record, with its own report: (handled?, what it did)."""
        part = Report(flow.name)
        record_id = self.sides[flow.source].record_id(record)
        try:
            self._with_dependencies(flow, record, states[record_id], links.get(record_id), ahead, part, ctx)
            if record_id in parked:
                self.store.unpark(flow.name, record_id)
                parked.discard(record_id)
                part.unparked += 1
        except TRANSPORT as exc:
            part.failures.append(f"{flow.name} {record_id}: {exc}")
            logger.warning("system unavailable; stopping this run", extra={"record_id": record_id, "error": str(exc)})
            return False, part
        except PARKABLE as exc:
            self._park(flow, record_id, exc, part)
            parked.add(record_id)
        self.checkpoint("after_record")
        return True, part

    @staticmethod
    def _canonical(side: str, mapping, record: Record, ctx: SyncContext) -> Record | Exception:
        try:
            return mapping.canonical(side, record, ctx)
        except (BadValue, MissingDependency, UnknownTaxRate) as exc:
            return exc

    def _with_dependencies(self, flow, record, state, link, ahead, report, ctx) -> None:
        """SYNC.md rule 5: a record pointing at unlinked ones gets them synced first, then goes on."""
        for _ in range(MAX_DEPENDENCIES):
            try:
                if isinstance(state, Exception):
                    raise state
                return self._sync_record(flow, record, state, link, ahead, report, ctx)
            except MissingDependency as missing:
                dependency = self.flow_for(missing.entity, missing.side)
                logger.info("syncing a dependency first", extra={"entity": missing.entity, "record_id": missing.record_id})
                report.dependencies += 1
                self.sync_ids(dependency, [missing.record_id], ctx)
                if not ctx.linked(missing.entity, missing.side, missing.record_id):
                    raise  # the dependency could not be linked (parked, refused): this record waits
                state = self._canonical(flow.source, flow.entity.mapping, record, ctx)
                link = self.store.get_link(flow.entity.name, flow.source, self.sides[flow.source].record_id(record))
        raise MissingDependency(flow.entity.name, flow.source, self.sides[flow.source].record_id(record))

    def _park(self, flow: Flow, record_id: str, exc: Exception, report: Report) -> None:
        entry = self.store.park(flow.name, record_id, f"{type(exc).__name__}: {exc}", kind=type(exc).__name__)
        report.parked += 1
        logger.warning("record parked", extra={"record_id": record_id, "reason": entry.reason, "attempts": entry.attempts})

    # one record --------------------------------------------------------------------------
    def _may_create(self, flow: Flow, record: Record, state: Record) -> bool:
        entity = flow.entity
        return not (self.sides[flow.source].deleted(entity, record) or flow.target not in entity.creates_in
                    or entity.skip_create(state))

    def _sync_record(self, flow, record, state, link, ahead, report, ctx) -> None:
        source, entity = self.sides[flow.source], flow.entity
        deleted = source.deleted(entity, record)
        if link is not None and not deleted and state_hash(state) == link.state_hash:
            report.echoes += 1
            return
        if link is None and not self._may_create(flow, record, state):
            report.skipped += 1  # nothing to create a counterpart for, or not in this direction
            return
        if link is not None and link.status != "active" and not deleted:
            report.skipped += 1  # deleted at the source and reported: edits no longer travel
            return
        key = self._claim_key(flow, record, link)
        token, waited = self._claim(key)
        if not self._usable(ahead, waited):
            ahead = ahead.without_lookups()
        try:
            self._decide(flow, record, state, link, ahead, report, ctx)
        except Exception:
            self.store.release(key, token)
            raise
        self.store.release(key, token)  # a crash (not an Exception) leaves the lease to expire

    def _usable(self, ahead: ReadAhead, waited: bool) -> bool:
        """A look-up made before the claim still stands if no writer of this record can have
        created a counterpart since: one that did held the claim until it linked it, or, if it
        crashed, until the lease ran out. So: the claim came at once (no writer held it) and
        less than half a lease has passed since the look-up (no lease can have run out in
        between, with room for clock skew between functions)."""
        return (ahead.lookups is not None and not waited
                and time.monotonic() - ahead.taken_at < self.claim_lease.total_seconds() / 2)

    def _decide(self, flow, record, state, link, ahead, report, ctx) -> None:
        source, entity = self.sides[flow.source], flow.entity
        deleted = source.deleted(entity, record)
        fresh = self.store.get_link(entity.name, flow.source, source.record_id(record))
        if fresh is not None and (link is None or fresh.revision != link.revision):
            link, ahead = fresh, ReadAhead()  # another writer got here first: decide again
            if source.stamp(record) <= ((link.shop_seen if flow.source == SHOP else link.wave_seen) or ""):
                report.echoes += 1  # it already handled this version of the record, or a newer one
                return
        if deleted:
            self._on_deleted(flow, record, link, report)
        elif link is None:
            self._adopt_or_create(flow, record, state, report, ctx, ahead.lookups)
        elif state_hash(state) == link.state_hash:
            report.echoes += 1
        else:
            target_id = link.id_on(flow.target)
            current = ahead.counterparts.get(target_id) or self.sides[flow.target].fetch(entity, target_id)
            self._update(flow, record, state, link, current, report, ctx)

    def _claim_key(self, flow: Flow, record: Record, link: Link | None) -> str:
        if flow.source == SHOP:
            return f"{flow.entity.name}#shop#{record['id']}"
        if link is not None:
            return f"{flow.entity.name}#shop#{link.shop_id}"
        return f"{flow.entity.name}#wave#{record['id']}"

    def _claim(self, key: str) -> tuple[str, bool]:
        """A claim is this call's alone (threads of one process share the engine).
        Returns its token and whether another writer held it first."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.claim_wait
        waited = False
        while not self.store.claim(key, token, self.claim_lease):
            if time.monotonic() > deadline:
                raise ClaimBusy(f"{key} is being written by another run")
            waited = True
            time.sleep(0.1)
        return token, waited

    def _adopt_or_create(self, flow, record, state, report, ctx, lookups=None) -> None:
        source, target, entity = self.sides[flow.source], self.sides[flow.target], flow.entity
        record_id, mapping = source.record_id(record), entity.mapping
        candidates = target.candidates(entity, state, record_id, record, known=lookups)
        if candidates:
            taken = self.store.get_links(entity.name, flow.target, [target.record_id(c) for c in candidates])
            candidates = [c for c in candidates if target.record_id(c) not in taken]
        if len(candidates) > 1:
            ids = ", ".join(target.record_id(c) for c in candidates)
            self.store.record_conflict(entity.name, record_id, "@adopt", {"flow": flow.name, "candidates": ids})
            report.conflicts += 1
            raise Ambiguous(f"{len(candidates)} possible counterparts in {flow.target}: {ids}")
        if candidates:
            counterpart = candidates[0]
            report.adopted += 1
        else:
            counterpart = target.create(entity, mapping.payload(flow.target, state, ctx=ctx), record_id)
            report.created += 1
            self.checkpoint("after_remote_write")
        # The two records now agree field by field: the source's values win where it has one;
        # what only the target has (an adopted record's data, a default Wave filled in on
        # create) is written back to the source once, so later runs see no difference.
        theirs = mapping.canonical(flow.target, counterpart, ctx)
        agreed, to_target, to_source = merging.adopt(state, theirs, into_source=mapping.one_way_into(flow.source),
                                                     into_target=mapping.one_way_into(flow.target))
        if to_target:
            counterpart = target.update(entity, counterpart, mapping.payload(flow.target, agreed, to_target, counterpart, ctx))
        if to_source:
            record = source.update(entity, record, mapping.payload(flow.source, agreed, to_source, record, ctx))
            report.filled += 1
        self._verify(flow, record, counterpart, report)
        self._save_link(flow, record, counterpart, agreed, None)

    def _update(self, flow, record, state, link, current, report, ctx) -> None:
        source, target, entity = self.sides[flow.source], self.sides[flow.target], flow.entity
        if current is None:
            raise CounterpartMissing(f"counterpart {link.id_on(flow.target)} no longer exists in {flow.target}")
        if flow.target == SHOP and current.get("deleted"):
            report.skipped += 1  # a deleted webshop record takes no more writes; Wave keeps its history
            return
        if flow.target != SHOP and entity.wave.replace_when(current, state):
            return self._replace(flow, record, state, link, current, report, ctx)
        theirs = entity.mapping.canonical(flow.target, current, ctx)
        result = merging.merge(link.state, state, theirs, source_is_later=source.stamp(record) >= target.stamp(current),
                               ignore=entity.mapping.one_way_into(flow.source))
        for conflict in result.conflicts:
            self._conflict(flow, link.shop_id, conflict.field, report, agreed=conflict.agreed,
                           winner=flow.source if conflict.winner == "source" else flow.target,
                           **{flow.source: conflict.source, flow.target: conflict.target})
        if result.write:
            try:
                current = target.update(entity, current, entity.mapping.payload(flow.target, state, result.write, current, ctx))
            except (WaveInputError, WebshopInputError) as refused:
                # e.g. Wave will not change a paid invoice: an operator sees it; retries back off.
                self._conflict(flow, link.shop_id, "@write", report, reason=str(refused), fields=result.write)
                raise
            report.updated += 1
            self.checkpoint("after_remote_write")
            self._verify(flow, record, current, report)
        self._save_link(flow, record, current, result.agreed, link)

    def _replace(self, flow, record, state, link, current, report, ctx) -> None:
        """A new counterpart takes the place of one that cannot change back (see replace_when)."""
        target = self.sides[flow.target]
        replaced = target.record_id(current)
        counterpart = target.create(flow.entity, flow.entity.mapping.payload(flow.target, state, ctx=ctx),
                                    self.sides[flow.source].record_id(record))
        report.created += 1
        self.checkpoint("after_remote_write")
        link.wave_id = target.record_id(counterpart)
        self._save_link(flow, record, counterpart, state, link, replaces=replaced)
        logger.info("counterpart replaced", extra={"entity": flow.entity.name, "shop_id": link.shop_id,
                                                   "replaced": replaced, "wave_id": link.wave_id})

    def _on_deleted(self, flow, record, link, report) -> None:
        """SYNC.md rule 9. Customers are never deleted in Wave; cancelled orders delete only a
        draft or saved invoice; anything else is reported and its link marked."""
        if link is None or link.status in ("deleted", "kept"):
            report.skipped += 1
            return
        target = self.sides[flow.target]
        link.status = "kept"
        if flow.entity.on_shop_delete == "mark":
            report.kept += 1
        elif flow.entity.on_shop_delete == "delete_if_draft" and flow.source == SHOP:
            counterpart = target.fetch(flow.entity, link.wave_id)
            if counterpart is None:
                link.status = "deleted"  # gone already (a retry after the delete went through)
            elif flow.entity.wave.deletable(counterpart):
                target.delete(flow.entity, counterpart)
                self.checkpoint("after_remote_write")
                link.status = "deleted"
                report.deleted += 1
            else:
                report.kept += 1
                self._conflict(flow, link.shop_id, "@delete", report, reason="cancelled in the shop; the invoice "
                               f"is {counterpart.get('status')} in Wave and was left alone")
        self.store.save_link(link)
        logger.info("source record deleted", extra={"entity": flow.entity.name, "shop_id": link.shop_id,
                                                    "wave_id": link.wave_id, "link_status": link.status})

    def _verify(self, flow, record, counterpart, report) -> None:
        if flow.entity.verify is None:
            return
        shop, wave = (record, counterpart) if flow.source == SHOP else (counterpart, record)
        problem = flow.entity.verify(shop, wave)
        if problem:
            self._conflict(flow, shop["id"], "@verify", report, reason=problem)

    def _conflict(self, flow, shop_id: str, field: str, report: Report, **detail) -> None:
        self.store.record_conflict(flow.entity.name, shop_id, field, {"flow": flow.name, **detail})
        report.conflicts += 1
        logger.warning("conflict recorded", extra={"entity": flow.entity.name, "shop_id": shop_id, "field": field})

    def _save_link(self, flow, record, counterpart, agreed, link, replaces: str | None = None) -> None:
        source, target = self.sides[flow.source], self.sides[flow.target]
        ids = {flow.source: source.record_id(record), flow.target: target.record_id(counterpart)}
        stamps = {flow.source: source.stamp(record), flow.target: target.stamp(counterpart)}
        if link is None:
            link = Link(entity=flow.entity.name, shop_id=ids["shop"], wave_id=ids["wave"], state=agreed, state_hash="")
        link.state, link.state_hash = agreed, state_hash(agreed)
        link.shop_seen, link.wave_seen = stamps["shop"], stamps["wave"]
        if flow.entity.link_extra is not None:
            link.extra = {**link.extra, **flow.entity.link_extra(record if flow.source == SHOP else counterpart, SHOP)}
        self.store.save_link(link, replaces_wave_id=replaces)
        self.checkpoint("after_link_write")


def _refs(mapping, side: str, record: Record) -> list[tuple[str, str, str]]:
    try:
        return [(entity, side, rid) for entity, side, rid in mapping.refs(side, record)]
    except (KeyError, TypeError):
        return []
