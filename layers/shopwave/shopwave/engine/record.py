"""One record being synced: what the engine knows of it (flow, record, canonical state, link,
what its page read ahead, its report and the run's context) and the decisions SYNC.md makes
for it: echo, adopt or create, update by three-way merge, replace, delete policy, save the link.

Every step asks the two sides (engine/sides.py) what they can do; none asks which system it is.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..clients.errors import Refused
from ..mapping import Basis, state_hash
from ..state import Link
from . import merge as merging
from ..mapping.context import MissingDependency, SyncContext
from .declarations import Flow, Record, WhenDeleted, without_actions
from .outcomes import Ambiguous, CounterpartMissing
from .report import Report

if TYPE_CHECKING:
    from .sync import Engine

logger = logging.getLogger("shopwave.engine")


@dataclass
class ReadAhead:
    """What a page read before handling its records: the counterparts of changed linked
    records (one aliased request) and the adoption look-ups of unlinked ones (the same), with
    when the look-ups were made, since a look-up only stands for a while (Engine.usable)."""
    counterparts: dict[str, Record] = field(default_factory=dict)
    lookups: dict[tuple[str, Any], list[Record]] | None = None
    taken_at: float = 0.0

    def without_lookups(self) -> "ReadAhead":
        return ReadAhead(self.counterparts, taken_at=self.taken_at)


def references(mapping, side: str, record: Record, ctx: SyncContext | None = None) -> list[tuple[str, str, str]]:
    """(entity, side, id) of the linked records a record points to; none for one too malformed
    to say (its canonical read parks it with the reason)."""
    try:
        return [ref for ref in mapping.refs(side, record, ctx) if ref[2]]
    except (KeyError, TypeError):
        return []


def basis_of(link: Link | None, side: str) -> Basis | None:
    """What `side`'s record of a linked pair is read against (see mapping.Basis)."""
    if link is None:
        return None
    intent = link.extra.get("intent") or {}
    return Basis(link.state, (link.extra.get("absorbed") or {}).get(side, {}),
                 pending=intent if intent.get("side") == side else None)


class RecordSync:
    def __init__(self, engine: "Engine", flow: Flow, record: Record, state: Record | Exception, link: Link | None,
                 ahead: ReadAhead, report: Report, ctx: SyncContext):
        self.engine, self.flow, self.record, self.state, self.link = engine, flow, record, state, link
        self.ahead, self.report, self.ctx = ahead, report, ctx
        self.entity, self.mapping = flow.entity, flow.entity.mapping
        self.source, self.target = engine.sides[flow.source], engine.sides[flow.target]
        self.record_id = self.source.record_id(record)
        self.store = engine.store

    # -- dependencies, then the record --------------------------------------------------------
    def run(self) -> None:
        """SYNC.md rule 5: the linked records this one points to (the mapping's declared
        references) are synced first; one that cannot be linked makes this record wait, parked.
        A record that cannot be read for itself (a bad value) is parked before anything is synced for it.
        Towards a read-only resource nothing travels: the record is skipped, not parked."""
        if not self.target.writable(self.entity):
            self.report.skipped += 1  # not in this direction: the target's resource is read-only
            return
        if isinstance(self.state, Exception) and not isinstance(self.state, MissingDependency):
            raise self.state
        if self.sync_dependencies():
            self.link = self.store.get_link(self.entity.name, self.flow.source, self.record_id)
            self.state = self.engine.canonical(self.flow.source, self.mapping, self.record, self.ctx, self.link)
        if isinstance(self.state, Exception):
            raise self.state
        self.sync()

    def sync_dependencies(self) -> bool:
        """Sync each unlinked reference through its own flow; whether any was synced."""
        unlinked = [ref for ref in dict.fromkeys(references(self.mapping, self.flow.source, self.record, self.ctx))
                    if not self.ctx.linked(*ref, cached=True)]
        for entity, side, record_id in unlinked:
            logger.info("syncing a dependency first", extra={"entity": entity, "record_id": record_id})
            self.report.dependencies += 1
            self.engine.sync_ids(self.engine.flow_for(entity, side), [record_id], self.ctx, raise_outage=True)
            if not self.ctx.linked(entity, side, record_id):
                raise MissingDependency(entity, side, record_id)  # parked or refused: this record waits
        return bool(unlinked)

    def sync(self) -> None:
        deleted = (self.source.deleted(self.entity, self.record)
                   and self.entity.when_deleted_in(self.flow.source) is not WhenDeleted.KEEP_SYNCING)
        if self.stale(self.link):
            return
        if self.link is not None and not deleted and state_hash(self.state) == self.link.state_hash:
            self.report.echoes += 1
            return
        if self.link is None and not self.engine.may_create(self.flow, self.record, self.state):
            self.report.skipped += 1  # nothing to create a counterpart for, or not in this direction
            return
        if self.link is not None and self.link.status != "active" and not deleted and not self.still_travels():
            self.report.skipped += 1  # deleted at the source and reported: edits no longer travel
            return
        with self.engine.claimed(self.claim_key()) as waited:
            if not self.engine.still_current(self.ahead, waited):
                self.ahead = ReadAhead()  # a writer may have held the pair since: its reads are stale
            elif not self.engine.usable(self.ahead, waited):
                self.ahead = self.ahead.without_lookups()
            self.decide(deleted)

    def stale(self, link: Link | None) -> bool:
        """This read of the record is older than one its link has seen (a list re-read from a late
        replica, a page read ahead while the other flow wrote it): writing it would undo a newer
        version, so nothing is written. The same stamp is not older (coarse stamps are shared)."""
        if link is None or self.source.stamp(self.entity, self.record) >= (link.seen_on(self.flow.source) or ""):
            return False
        self.report.stale += 1
        return True

    def claim_key(self) -> str:
        """Both flows of a linked pair claim the same key (its anchor); an unlinked record its own."""
        side, record_id = self.link.anchor() if self.link is not None else (self.flow.source, self.record_id)
        return f"{self.entity.name}#{side}#{record_id}"

    # -- under the claim ------------------------------------------------------------------------
    def decide(self, deleted: bool) -> None:
        fresh = self.store.get_link(self.entity.name, self.flow.source, self.record_id)
        if fresh is not None and (self.link is None or fresh.revision != self.link.revision):
            self.link, self.ahead = fresh, ReadAhead()  # another writer got here first: decide again
            if self.source.stamp(self.entity, self.record) <= (fresh.seen_on(self.flow.source) or ""):
                self.report.echoes += 1  # it already handled this version of the record, or a newer one
                return
            self.state = self.mapping.canonical(self.flow.source, self.record, self.ctx, basis_of(fresh, self.flow.source))
        elif self.stale(fresh):
            return
        if deleted:
            self.on_deleted()
        elif self.link is not None and self.link.status != "active":
            self.update_kept()
        elif self.link is None:
            self.adopt_or_create()
        elif state_hash(self.state) == self.link.state_hash:
            self.report.echoes += 1
        else:
            target_id = self.link.id_on(self.flow.target)
            current = self.ahead.counterparts.get(target_id) or self.target.fetch(self.entity, target_id)
            self.update(current)

    def adopt_or_create(self) -> None:
        """SYNC.md rule 2: adopt the one counterpart the target already has, else create it; then
        the two agree field by field and the link is saved."""
        candidates = self.candidates()
        if candidates:
            counterpart, created = candidates[0], False
            self.report.adopted += 1
        else:
            counterpart, created = self.create(), True
        self.agree(counterpart, created)

    def candidates(self) -> list[Record]:
        """The target's records this one could adopt, less those linked to another; several are a conflict."""
        target = self.target
        found = target.candidates(self.entity, self.state, self.record_id, self.record, known=self.ahead.lookups,
                                  cache=self.ctx.run_cache)
        if found:
            taken = self.store.get_links(self.entity.name, self.flow.target, [target.record_id(c) for c in found])
            found = [c for c in found if target.record_id(c) not in taken]
        if len(found) > 1:
            ids = ", ".join(target.record_id(c) for c in found)
            self.store.record_conflict(self.entity.name, self.record_id, "@adopt", {"flow": self.flow.name, "candidates": ids})
            self.report.conflicts += 1
            raise Ambiguous(f"{len(found)} possible counterparts in {self.flow.target}: {ids}")
        return found

    def create(self) -> Record:
        counterpart = self.target.create(self.entity, self.mapping.payload(self.flow.target, self.state, ctx=self.ctx),
                                         self.record_id)
        self.report.created += 1
        self.report.change("created", self.record_id, self.target.record_id(counterpart),
                           [n for n, v in self.state.items() if v is not None])
        self.engine.checkpoint("after_remote_write")
        return counterpart

    def agree(self, counterpart: Record, created: bool) -> None:
        """Two records met for the first time: each is read against the other (a field may count
        only where the other side uses it); the source's values win where it has one. What the
        target filled in by default on a record the sync created is absorbed into the agreed state
        (a created record costs one write); an adopted record's own data completes the source once."""
        flow, mapping, report, target = self.flow, self.mapping, self.report, self.target
        theirs = mapping.canonical(flow.target, counterpart, self.ctx, Basis(self.state, linked=False))
        state = mapping.canonical(flow.source, self.record, self.ctx, Basis(theirs, linked=False))
        absorbed = self._defaults(state, theirs) if created else {}
        theirs = {**theirs, **dict.fromkeys(absorbed)}
        if self.source.writable(self.entity):
            into_source, into_target = mapping.one_way_into(flow.source), mapping.one_way_into(flow.target)
        else:  # a read-only source is filled with nothing: its record is what both agree on
            into_source, into_target = frozenset(), frozenset(state)
        agreed, to_target, to_source = merging.adopt(state, theirs, into_source=into_source, into_target=into_target)
        payload = mapping.payload(flow.target, agreed, to_target, counterpart, self.ctx) if to_target else {}
        if payload:
            counterpart = target.update(self.entity, counterpart, payload)
        if not created:
            report.change("adopted", self.record_id, target.record_id(counterpart), to_target)
        record = self.record
        payload = mapping.payload(flow.source, agreed, to_source, record, self.ctx) if to_source else {}
        if payload:
            record = self.source.update(self.entity, record, payload)
            report.filled += 1
            report.change("filled", self.record_id, target.record_id(counterpart), to_source)
        self.verify(record, counterpart)
        self.save_link(record, counterpart, agreed, absorbed={flow.target: absorbed})

    def _defaults(self, state: Record, theirs: Record) -> Record:
        """Values the target holds where the source has none: what it filled in on create."""
        one_way = self.mapping.one_way_into(self.flow.source) | self.mapping.one_way_into(self.flow.target)
        return {name: value for name, value in theirs.items()
                if value is not None and state.get(name) is None and name not in one_way}

    def update(self, current: Record | None, only: frozenset[str] | None = None) -> None:
        """Three-way merge and write; `only`: the fields that may travel (the rest stay as agreed)."""
        flow, link, report = self.flow, self.link, self.report
        if current is None:
            raise CounterpartMissing(f"counterpart {link.id_on(flow.target)} no longer exists in {flow.target}")
        if not self.target.takes_writes(self.entity, current):
            report.skipped += 1  # e.g. a deleted webshop record takes no more writes; Wave keeps its history
            return
        if self.target.must_replace(self.entity, current, self.state):
            return self.replace(current)
        theirs = self.mapping.canonical(flow.target, current, self.ctx, basis_of(link, flow.target))
        result = merging.merge(link.state, self.state, theirs,
                               source_is_later=(self.source.stamp(self.entity, self.record)
                                                >= self.target.stamp(self.entity, current)),
                               ignore=self.mapping.one_way_into(flow.source)
                               | (frozenset(self.mapping.names) - only if only is not None else frozenset()))
        for conflict in result.conflicts:
            self.conflict(conflict.field, agreed=conflict.agreed,
                          winner=flow.source if conflict.winner == "source" else flow.target,
                          **{flow.source: conflict.source, flow.target: conflict.target})
        if result.write:
            current = self.write_target(current, result)
        if result.write or result.ignored:
            # written, or a one-way field changed where it does not travel from: say if the pair's totals part
            self.verify(self.record, current)
        self.save_link(self.record, current, result.agreed)

    def write_target(self, current: Record, result: "merging.Merge") -> Record:
        """The merge's fields written to the target; the record as it then stands."""
        flow, link, report = self.flow, self.link, self.report
        payload = self.mapping.payload(flow.target, self.state, result.write, current, self.ctx, basis_of(link, flow.target))
        if not payload:
            return current  # a field that travels nowhere (Wave's own discount) changes the pair, not the target
        announced = self.mapping.announced(flow.target, result.write)
        if announced:
            self.announce(flow.target, payload, result.agreed)
        try:
            current = self.target.update(self.entity, current, payload)
        except Refused as refused:
            # e.g. Wave will not change a paid invoice: an operator sees it; retries back off.
            self.conflict("@write", reason=str(refused), fields=result.write)
            raise
        except Exception:
            if announced:  # it may have landed (a timeout): whoever read the pair before this reads it again
                self.store.save_link(self.link)
            raise
        report.updated += 1
        report.change("updated", link.id_on(flow.source), link.id_on(flow.target), result.write)
        self.engine.checkpoint("after_remote_write")
        self.clears_not_taken(current, result)
        return current

    def clears_not_taken(self, current: Record, result: "merging.Merge") -> None:
        """A field cleared at the source that the target still holds after the write (Wave may
        refuse a null: wave/clears.py). The pair agrees on the target's value, so the reverse flow
        carries nothing back and the clear is not retried until the source changes the field
        again; the source keeps its clear and the difference is a conflict for an operator."""
        cleared = [name for name in result.write if self.state.get(name) is None]
        if not cleared:
            return
        theirs = self.mapping.canonical(self.flow.target, current, self.ctx, basis_of(self.link, self.flow.target))
        for name in cleared:
            if theirs.get(name) is not None:
                result.agreed[name] = theirs[name]
                self.conflict(name, reason=f"{self.flow.target} kept its value: the clear was not taken",
                              agreed=theirs[name], winner=self.flow.target,
                              **{self.flow.source: None, self.flow.target: theirs[name]})

    def replace(self, current: Record) -> None:
        """A new counterpart takes the place of one that cannot change back (an archived product)."""
        replaced = (self.flow.target, self.target.record_id(current))
        counterpart = self.target.create(self.entity, self.mapping.payload(self.flow.target, self.state, ctx=self.ctx),
                                         self.record_id)
        self.report.created += 1
        self.report.change("replaced", self.record_id, self.target.record_id(counterpart),
                           [n for n, v in self.state.items() if v is not None])
        self.engine.checkpoint("after_remote_write")
        self.link.set_id(self.flow.target, self.target.record_id(counterpart))
        self.save_link(self.record, counterpart, self.state, replaces=replaced, absorbed={})
        logger.info("counterpart replaced", extra={"entity": self.entity.name, "source_id": self.record_id,
                                                   "replaced": replaced[1], "counterpart": self.target.record_id(counterpart)})

    def on_deleted(self) -> None:
        """SYNC.md rule 9, by the entity's policy for deletes at this source: stop syncing the pair
        (reported; the counterpart is kept), or delete a counterpart the target allows deleting
        (a draft invoice) and report one it does not."""
        link, report, flow = self.link, self.report, self.flow
        if link is None or link.status == "deleted":
            report.skipped += 1
            return
        if link.status == "kept":
            return self.update_kept()
        link.status = "kept"
        if self.entity.when_deleted_in(flow.source) is WhenDeleted.DELETE_DRAFT_COUNTERPART:
            target_id = link.id_on(flow.target)
            counterpart = self.target.fetch(self.entity, target_id)
            if counterpart is None:
                link.status = "deleted"  # gone already (a retry after the delete went through)
            elif self.target.deletable(self.entity, counterpart):
                self.target.delete(self.entity, counterpart)
                self.engine.checkpoint("after_remote_write")
                link.status = "deleted"
                report.deleted += 1
                report.change("deleted", self.record_id, target_id)
            else:
                report.kept += 1
                self.conflict("@delete", reason=f"deleted or cancelled in {flow.source}; the counterpart is "
                              f"{self.target.status_of(self.entity, counterpart)} in {flow.target} and was left alone")
        else:
            report.kept += 1
        self.store.save_link(link)
        logger.info("source record deleted", extra={"entity": self.entity.name, "source_id": self.record_id,
                                                    "link_status": link.status})
        if link.status == "kept":
            self.update_kept()

    def still_travels(self) -> bool:
        """A pair kept after a delete still carries some fields (Entity.still_travels)."""
        return self.link is not None and self.link.status == "kept" and bool(self.entity.still_travels)

    def update_kept(self) -> None:
        """What still travels, both ways, between a deleted or cancelled record and the counterpart
        kept for it (Entity.still_travels: money)."""
        travels = self.entity.still_travels
        if not self.still_travels() or all(self.state.get(n) == self.link.state.get(n) for n in travels):
            self.report.skipped += 1
            return
        current = self.target.fetch(self.entity, self.link.id_on(self.flow.target))
        self.update(current, only=travels)

    # -- what every decision ends with -------------------------------------------------------------
    def verify(self, record: Record, counterpart: Record) -> None:
        if self.entity.verify is None:
            return
        problem = self.entity.verify({self.flow.source: record, self.flow.target: counterpart})
        if problem:
            self.conflict("@verify", reason=problem)

    def conflict(self, field_name: str, **detail) -> None:
        anchor = self.link.anchor()[1] if self.link is not None else self.record_id
        self.store.record_conflict(self.entity.name, anchor, field_name, {"flow": self.flow.name, **detail})
        self.report.conflicts += 1
        logger.warning("conflict recorded", extra={"entity": self.entity.name, "record_id": anchor, "field": field_name})

    def announce(self, side: str, payload: Record, agreed: Record) -> None:
        """A write not safe to repeat blindly is noted in the link before it is made (a new
        revision). A writer holding what it read of the pair before then reads it again
        (`decide` compares revisions), and if this writer dies before saving the link, the next
        reader sees whether a write against the side's basis landed (mapping.Basis.pending)."""
        fields, _ = without_actions(payload)  # an action's value is no record's field
        self.link.extra = {**self.link.extra, "intent": {"side": side, "written": fields, "agreed": agreed}}
        self.store.save_link(self.link)

    def save_link(self, record: Record, counterpart: Record, agreed: Record, *, replaces: tuple[str, str] | None = None,
                  absorbed: dict[str, Record] | None = None) -> None:
        flow = self.flow
        records = {flow.source: record, flow.target: counterpart}
        link = self.link or Link.between(self.entity.name, {side: self.engine.sides[side].record_id(r)
                                                            for side, r in records.items()})
        link.state, link.state_hash = agreed, state_hash(agreed)
        for side, r in records.items():
            link.set_seen(side, self.engine.sides[side].stamp(self.entity, r))
        if absorbed is not None:  # a new counterpart: its defaults replace the last one's
            kept = {side: fields for side, fields in absorbed.items() if fields}
            link.extra = {**{k: v for k, v in link.extra.items() if k != "absorbed"}, **({"absorbed": kept} if kept else {})}
        link.extra = {k: v for k, v in link.extra.items() if k != "intent"}  # the write landed, and is agreed
        if self.entity.link_extra is not None:
            link.extra = {**link.extra, **self.entity.link_extra(records)}
        self.store.save_link(link, replaces=replaces)
        self.link = link
        self.engine.checkpoint("after_link_write")


def still_current(ahead: ReadAhead, waited: bool, claim_lease_seconds: float) -> bool:
    """What a page read of the target before this record's claim still stands for it if no writer
    can have written the pair since (the rule of `usable`). Otherwise a writer that wrote and
    crashed before linking (a payment recorded, the link not saved) is not seen, and what it
    wrote would be written again."""
    return not waited and time.monotonic() - ahead.taken_at < claim_lease_seconds / 2


def usable(ahead: ReadAhead, waited: bool, claim_lease_seconds: float) -> bool:
    """A look-up made before the claim still stands if no writer of this record can have
    created a counterpart since: one that did held the claim until it linked it, or, if it
    crashed, until the lease ran out. So: the claim came at once (no writer held it) and
    less than half a lease has passed since the look-up (no lease can have run out in
    between, with room for clock skew between functions)."""
    return ahead.lookups is not None and still_current(ahead, waited, claim_lease_seconds)
