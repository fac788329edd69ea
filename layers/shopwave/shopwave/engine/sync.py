"""The sync engine: reads a flow's source in pages, and for each record decides between
echo, create, adopt, update (three-way merge) and delete policy, writing only the target.

Rules from SYNC.md kept here once for every flow: links (1), adopt before create (2), no
echoes (3), three-way merge (4), watermarks that never skip (6), parking (7), one writer per
record (8), deletes by policy (9).
"""
from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from typing import Any, Callable, Iterable

from ..clients.wave import WaveGraphQLError, WaveInputError, WaveTransportError
from ..clients.webshop import WebshopInputError, WebshopStale, WebshopTransportError
from ..mapping import SHOP, BadValue, state_hash
from ..state import Link, LinkRaced, StateStore, Watermark
from . import merge as merging
from .declarations import Flow, Record
from .report import Report

logger = logging.getLogger("shopwave.engine")

# A record failing with these is parked and retried later; the rest of the page goes on.
PARKABLE = (BadValue, WaveInputError, WaveGraphQLError, WebshopInputError, WebshopStale, LinkRaced)
# These mean a system is down: stop here, keep the watermark before this record.
TRANSPORT = (WaveTransportError, WebshopTransportError)


class ClaimBusy(Exception):
    """Another writer held this record for longer than we wait."""


class Ambiguous(Exception):
    """Several counterparts could be adopted; an operator has to choose."""


class CounterpartMissing(Exception):
    """The linked record is gone from the target; an operator decides (SYNC.md rule 9)."""


PARKABLE = PARKABLE + (ClaimBusy, Ambiguous, CounterpartMissing)


class Engine:
    def __init__(self, store: StateStore, sides: dict[str, Any], *, claim_lease: timedelta = timedelta(seconds=60),
                 claim_wait: float = 10.0, reserve_seconds: float = 10.0):
        self.store = store
        self.sides = sides
        self.claim_lease = claim_lease
        self.claim_wait = claim_wait
        self.reserve_seconds = reserve_seconds

    # entry points ------------------------------------------------------------------------
    def sweep(self, flow: Flow, *, time_left: Callable[[], float] | None = None) -> Report:
        """Retry what is parked and due, then everything changed since the watermark."""
        report = Report(flow.name)
        source = self.sides[flow.source]
        parked = {p.source_id for p in self.store.parked(flow.name)}
        due = [p.source_id for p in self.store.parked(flow.name, due_only=True)]
        if due:
            records = source.fetch_many(flow.entity, due)
            self._sync_page(flow, [records[i] for i in due if i in records], parked, report)
        mark = self.store.watermark(flow.name)
        for page in source.pages(flow.entity, mark.ts, flow.page_size):
            fresh = [r for r in page if not mark.passed(source.stamp(r), source.record_id(r))]
            handled = self._sync_page(flow, fresh, parked, report)
            for record in handled:
                mark.advance(source.stamp(record), source.record_id(record))
            if handled:
                self.store.save_watermark(flow.name, mark)  # saved only after the page is committed
            if len(handled) < len(fresh):
                break  # a system went down mid-page: the rest waits for the next run
            if time_left is not None and time_left() < self.reserve_seconds:
                report.stopped_early = True
                break
        return report

    def sync_ids(self, flow: Flow, ids: Iterable[str]) -> Report:
        """Sync named records now (a webhook): fetched fresh, so stale deliveries write nothing stale."""
        report = Report(flow.name)
        ids = list(ids)
        records = self.sides[flow.source].fetch_many(flow.entity, ids)
        parked = {p.source_id for p in self.store.parked(flow.name)}
        self._sync_page(flow, [records[i] for i in ids if i in records], parked, report)
        report.skipped += len([i for i in ids if i not in records])
        return report

    # one page ----------------------------------------------------------------------------
    def _sync_page(self, flow: Flow, records: list[Record], parked: set[str], report: Report) -> list[Record]:
        """Handle records in order; returns those handled (synced, skipped or parked)."""
        source, target = self.sides[flow.source], self.sides[flow.target]
        report.read += len(records)
        links = self.store.get_links(flow.entity.name, flow.source, [source.record_id(r) for r in records])
        states: dict[str, Record | BadValue] = {}
        for record in records:
            try:
                states[source.record_id(record)] = flow.entity.mapping.canonical(flow.source, record)
            except BadValue as exc:
                states[source.record_id(record)] = exc
        changed = [links[i].id_on(flow.target) for i, s in states.items()
                   if i in links and not isinstance(s, BadValue) and state_hash(s) != links[i].state_hash]
        counterparts = target.fetch_many(flow.entity, changed) if changed else {}
        handled: list[Record] = []
        for record in records:
            record_id = source.record_id(record)
            try:
                state = states[record_id]
                if isinstance(state, BadValue):
                    raise state
                self._sync_record(flow, record, state, links.get(record_id), counterparts, report)
                if record_id in parked:
                    self.store.unpark(flow.name, record_id)
                    parked.discard(record_id)
                    report.unparked += 1
            except TRANSPORT as exc:
                report.failures.append(f"{flow.name} {record_id}: {exc}")
                logger.warning("system unavailable; stopping this run", extra={"record_id": record_id, "error": str(exc)})
                return handled
            except PARKABLE as exc:
                self._park(flow, record_id, exc, report)
                parked.add(record_id)
            handled.append(record)
        return handled

    def _park(self, flow: Flow, record_id: str, exc: Exception, report: Report) -> None:
        entry = self.store.park(flow.name, record_id, f"{type(exc).__name__}: {exc}", kind=type(exc).__name__)
        report.parked += 1
        logger.warning("record parked", extra={"record_id": record_id, "reason": entry.reason, "attempts": entry.attempts})

    # one record --------------------------------------------------------------------------
    def _sync_record(self, flow: Flow, record: Record, state: Record, link: Link | None,
                     counterparts: dict[str, Record], report: Report) -> None:
        source = self.sides[flow.source]
        if link is not None and state_hash(state) == link.state_hash and not source.deleted(flow.entity, record):
            report.echoes += 1
            return
        key = self._claim_key(flow, record, link)
        token = self._claim(key)
        try:
            fresh = self.store.get_link(flow.entity.name, flow.source, source.record_id(record))
            if fresh is not None and (link is None or fresh.revision != link.revision):
                link, counterparts = fresh, {}  # another writer got here first: decide again
                if source.stamp(record) <= ((link.shop_seen if flow.source == SHOP else link.wave_seen) or ""):
                    report.echoes += 1  # it already handled this version of the record, or a newer one
                    return
            if source.deleted(flow.entity, record):
                self._on_deleted(flow, record, link, report)
            elif link is None:
                self._adopt_or_create(flow, record, state, report)
            elif state_hash(state) == link.state_hash:
                report.echoes += 1
            else:
                target_id = link.id_on(flow.target)
                current = counterparts.get(target_id) or self.sides[flow.target].fetch(flow.entity, target_id)
                self._update(flow, record, state, link, current, report)
        finally:
            self.store.release(key, token)

    def _claim_key(self, flow: Flow, record: Record, link: Link | None) -> str:
        if flow.source == SHOP:
            return f"{flow.entity.name}#shop#{record['id']}"
        if link is not None:
            return f"{flow.entity.name}#shop#{link.shop_id}"
        return f"{flow.entity.name}#wave#{record['id']}"

    def _claim(self, key: str) -> str:
        """A claim is this call's alone (threads of one process share the engine)."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.claim_wait
        while not self.store.claim(key, token, self.claim_lease):
            if time.monotonic() > deadline:
                raise ClaimBusy(f"{key} is being written by another run")
            time.sleep(0.1)
        return token

    def _adopt_or_create(self, flow: Flow, record: Record, state: Record, report: Report) -> None:
        source, target = self.sides[flow.source], self.sides[flow.target]
        entity, record_id = flow.entity, source.record_id(record)
        candidates = target.candidates(entity, state, record_id, record)
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
        elif flow.target in entity.creates_in:
            counterpart = target.create(entity, entity.mapping.payload(flow.target, state), record_id)
            report.created += 1
        else:
            report.skipped += 1
            return
        # The two records now agree field by field: the source's values win where it has one;
        # what only the target has (an adopted record's data, a default Wave filled in on
        # create) is written back to the source once, so later runs see no difference.
        agreed, to_target, to_source = merging.adopt(state, entity.mapping.canonical(flow.target, counterpart))
        if to_target:
            counterpart = target.update(entity, counterpart, entity.mapping.payload(flow.target, agreed, to_target, counterpart))
        if to_source:
            record = source.update(entity, record, entity.mapping.payload(flow.source, agreed, to_source, record))
            report.filled += 1
        self._save_link(flow, record, counterpart, agreed, None)

    def _update(self, flow: Flow, record: Record, state: Record, link: Link, current: Record | None, report: Report) -> None:
        source, target, entity = self.sides[flow.source], self.sides[flow.target], flow.entity
        if current is None:
            raise CounterpartMissing(f"counterpart {link.id_on(flow.target)} no longer exists in {flow.target}")
        theirs = entity.mapping.canonical(flow.target, current)
        result = merging.merge(link.state, state, theirs, source_is_later=source.stamp(record) >= target.stamp(current))
        for conflict in result.conflicts:
            self.store.record_conflict(entity.name, link.shop_id, conflict.field, {
                "flow": flow.name, "agreed": conflict.agreed, "winner": flow.source if conflict.winner == "source" else flow.target,
                flow.source: conflict.source, flow.target: conflict.target})
            report.conflicts += 1
        if result.write:
            current = target.update(entity, current, entity.mapping.payload(flow.target, state, result.write, current))
            report.updated += 1
        self._save_link(flow, record, current, result.agreed, link)

    def _on_deleted(self, flow: Flow, record: Record, link: Link | None, report: Report) -> None:
        """SYNC.md rule 9: customers are never deleted in Wave; the link is marked and reported."""
        if link is None or link.status == "deleted":
            report.skipped += 1
            return
        link.status = "deleted"
        self.store.save_link(link)
        report.deleted += 1
        logger.info("source record deleted; counterpart kept", extra={"entity": flow.entity.name, "shop_id": link.shop_id,
                                                                     "wave_id": link.wave_id, "policy": flow.entity.on_shop_delete})

    def _save_link(self, flow: Flow, record: Record, counterpart: Record, agreed: Record, link: Link | None) -> None:
        source, target = self.sides[flow.source], self.sides[flow.target]
        ids = {flow.source: source.record_id(record), flow.target: target.record_id(counterpart)}
        stamps = {flow.source: source.stamp(record), flow.target: target.stamp(counterpart)}
        if link is None:
            link = Link(entity=flow.entity.name, shop_id=ids["shop"], wave_id=ids["wave"], state=agreed, state_hash=state_hash(agreed))
        link.state, link.state_hash = agreed, state_hash(agreed)
        link.shop_seen, link.wave_seen = stamps["shop"], stamps["wave"]
        self.store.save_link(link)
