"""Wave behind the engine's side interface (engine/ports.py): exact paging by the resource's
cursor (`modifiedAt`), aliased fetches and adoption look-ups, and writes through Wave's GraphQL
mutations. Each comes from one part of the entity's `WaveResource`: `read`, `write` (None: a
read-only resource, whose writes are refused) and `adopt`."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Iterator

from ..clients.errors import Refused
from ..engine import timestamps
from ..config import Options
from ..engine.declarations import Entity, Record, WaveWrite, ordered_actions, without_actions
from ..mapping import WAVE
from . import clears
from . import operations as ops
from .client import WaveClient
from .limits import WAVE_MAX_PAGE_SIZE
from .paging import WaveFilterPager


logger = logging.getLogger("shopwave.wave")


def _folded(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


class WaveSide:
    name = WAVE
    fetch_batch = 50
    look_up_batch = 25
    # How far before the watermark a sweep reads again (WAVE_SWEEP_OVERLAP_SECONDS): Wave documents
    # neither modifiedAt's precision nor whether modifiedAtAfter is inclusive, and a write may land
    # after a later one was read. Hash-skip makes what is read again free of writes.
    overlap = timedelta(seconds=300)

    def __init__(self, client: WaveClient, options: Options | None = None, overlap: timedelta | None = None):
        self.client = client
        self.options = options or Options()
        self.nulls_refused = False  # Wave refused a null in a patch: leave them out from now on (wave/clears.py)
        if overlap is not None:
            self.overlap = overlap

    @staticmethod
    def record_id(record: Record) -> str:
        return str(record["id"])

    @staticmethod
    def stamp(entity: Entity, record: Record) -> str:
        return timestamps.normalise(record.get(entity.wave.read.cursor.field))

    @staticmethod
    def deleted(entity: Entity, record: Record) -> bool:
        return entity.wave.read.deleted(record)

    @staticmethod
    def writable(entity: Entity) -> bool:
        return entity.wave.write is not None

    @staticmethod
    def takes_writes(entity: Entity, record: Record) -> bool:
        return entity.wave.write is not None

    @staticmethod
    def must_replace(entity: Entity, record: Record, state: Record) -> bool:
        write = entity.wave.write
        return write is not None and write.replace_when(record, state)

    @staticmethod
    def deletable(entity: Entity, record: Record) -> bool:
        write = entity.wave.write
        return write is not None and write.delete is not None and write.deletable(record)

    @staticmethod
    def status_of(entity: Entity, record: Record) -> str:
        return str(record.get("status") or ("archived" if record.get("isArchived") else "active"))

    def reread_window(self, entity: Entity) -> timedelta:
        return self.overlap

    def partitions(self, entity: Entity) -> list[str]:
        return list(entity.wave.read.partitions)

    def pages(self, entity: Entity, partition: str, since: str | None, page_size: int | None) -> Iterator[list[Record]]:
        return WaveFilterPager(self.client, entity.wave, page_size or self.client.page_size, partition).pages(since)

    def fetch(self, entity: Entity, record_id: str) -> Record | None:
        return self.fetch_many(entity, [record_id]).get(record_id)

    def fetch_many(self, entity: Entity, ids: list[str]) -> dict[str, Record]:
        """The records Wave has of `ids`, one aliased request per `fetch_batch`. An id Wave answers
        NOT_FOUND (deleted in Wave) is left out, as one answered null: a missing counterpart, for
        the entity's delete policy, while the rest of the batch is used."""
        found: dict[str, Record] = {}
        for start in range(0, len(ids), self.fetch_batch):
            chunk = ids[start:start + self.fetch_batch]
            data, _missing = self.client.query_partial(ops.get_many_document(entity.wave, len(chunk)),
                                                       {f"id{i}": record_id for i, record_id in enumerate(chunk)})
            business = data.get("business") or {}
            for i in range(len(chunk)):
                record = business.get(f"r{i}")
                if record:
                    found[record["id"]] = record
        return found

    def look_up_many(self, entity: Entity, states: list[Record], map_=None) -> dict[tuple[str, Any], list[Record]]:
        """The filtered adoption look-ups of many records at once: one request per
        `look_up_batch` values (aliases) instead of one per record, the requests run through
        `map_` (the engine's bounded pool). Keyed (field, value)."""
        chunks = []
        for lookup in entity.wave.adopt.lookups:
            if lookup.filter_arg is None:
                continue  # scanned once per run anyway
            values = list(dict.fromkeys(s[lookup.field] for s in states if s.get(lookup.field)))
            chunks += [(lookup, values[i:i + self.look_up_batch]) for i in range(0, len(values), self.look_up_batch)]

        def look_up(chunk) -> dict[tuple[str, Any], list[Record]]:
            lookup, values = chunk
            document = ops.find_many_document(entity.wave, lookup.filter_arg, lookup.graphql_type, len(values))
            business = self.client.query(document, {f"v{i}": v for i, v in enumerate(values)}).get("business") or {}
            return {(lookup.field, value): [edge["node"] for edge in (business.get(f"l{i}") or {}).get("edges", [])]
                    for i, value in enumerate(values)}

        found: dict[tuple[str, Any], list[Record]] = {}
        for part in (map_ or (lambda work, items: [work(item) for item in items]))(look_up, chunks):
            found.update(part)
        return found

    def candidates(self, entity: Entity, state: Record, source_id: str, source: Record,
                   known: dict[tuple[str, Any], list[Record]] | None = None, cache: dict | None = None) -> list[Record]:
        """Records in Wave this one could adopt; `known` holds look-ups already made (look_up_many),
        the rest are made now, the same way."""
        page_lookups, known = known, known or {}
        if any((lookup.field, state[lookup.field]) not in known
               for lookup in entity.wave.adopt.lookups if lookup.filter_arg and state.get(lookup.field)):
            known = {**known, **self.look_up_many(entity, [state])}
        found: dict[str, Record] = {}
        for lookup in entity.wave.adopt.lookups:
            value = state.get(lookup.field)
            if not value:
                continue
            if lookup.filter_arg is None:
                matches = self._scan(entity, lookup.field, {} if cache is None else cache).get(_folded(value), [])
            else:
                nodes = known[(lookup.field, value)]
                matches = [n for n in nodes if _folded(entity.mapping.value(WAVE, n, lookup.field)) == _folded(value)]
            found.update((m["id"], m) for m in matches)
        found.update((m["id"], m) for m in self.by_shop_id(entity, state, source_id, source, cache, page_lookups))
        # displayId holding the shop id is exact: it beats other matches.
        field = entity.wave.adopt.shop_id_field
        exact = [r for r in found.values() if field and r.get(field) == source_id]
        return exact or list(found.values())

    def by_shop_id(self, entity: Entity, state: Record, source_id: str, source: Record,
                   cache: dict | None = None, page_lookups: dict | None = None) -> list[Record]:
        """For a record no look-up can find (WaveAdopt.source_created): the Wave records carrying
        its shop id, among those modified since its shop record was created, less the margin,
        read in pages of Wave's maximum. One listing serves a page's records (`cache`) as long as
        the page's look-ups stand (`page_lookups`, the read-ahead's: None when a writer may have
        created a counterpart since, engine/record.py `usable`); otherwise it is read afresh."""
        adopt = entity.wave.adopt
        if (adopt.source_created is None or not adopt.shop_id_field
                or any(state.get(lookup.field) for lookup in adopt.lookups)):
            return []
        created = adopt.source_created(source)
        since = timestamps.minus(created, adopt.created_margin) if created else None
        key = ("wave by shop id", entity.name)
        scanned = (cache or {}).get(key)
        if (scanned is None or page_lookups is None or scanned[0] is not page_lookups
                or (scanned[1] is not None and (since is None or since < scanned[1]))):
            index: dict[str, list[Record]] = {}
            for page in self.pages(entity, entity.wave.read.partitions[0], since, WAVE_MAX_PAGE_SIZE):
                for record in page:
                    if record.get(adopt.shop_id_field):
                        index.setdefault(record[adopt.shop_id_field], []).append(record)
            scanned = (page_lookups, since, index)
            if cache is not None and page_lookups is not None:
                cache[key] = scanned
        return list({r["id"]: r for r in scanned[2].get(source_id, [])}.values())

    def _scan(self, entity: Entity, field: str, cache: dict) -> dict[Any, list[Record]]:
        """Every active record by one field's value: Wave cannot filter on it (product names)."""
        key = ("wave scan", entity.name, field)
        if key not in cache:
            index: dict[Any, list[Record]] = {}
            pager = WaveFilterPager(self.client, entity.wave, WAVE_MAX_PAGE_SIZE, entity.wave.read.partitions[0])
            for page in pager.pages(None):
                for record in page:
                    value = entity.mapping.value(WAVE, record, field)
                    index.setdefault(_folded(value), []).append(record)
            cache[key] = index
        return cache[key]

    @staticmethod
    def writes_of(entity: Entity) -> WaveWrite:
        """The resource's `write` part; a read-only resource refuses (the engine never asks it to write)."""
        if entity.wave.write is None:
            raise Refused(f"Wave {entity.wave.type_name} is read-only for the sync ({entity.name})")
        return entity.wave.write

    def create(self, entity: Entity, payload: Record, source_id: str) -> Record:
        write = self.writes_of(entity)
        fields, actions = without_actions(payload)
        extras = write.create_extras(source_id, self.options) if write.create_extras else {}
        input_ = {"businessId": self.client.business_id, **extras, **fields}
        document = ops.mutation_document(entity.wave, write.create, entity.wave.create_input)
        record = self.client.mutate(write.create, document, input_)[write.output]
        return self._run_actions(entity, record, actions)

    def update(self, entity: Entity, current: Record, payload: Record) -> Record:
        self.writes_of(entity)  # a read-only resource refuses
        fields, actions = without_actions(payload)
        record = current
        if fields:
            record = self._patch_clearing(entity, current, clears.spelled(entity.mapping, fields, current))
        return self._run_actions(entity, record, actions)

    def _patch_clearing(self, entity: Entity, current: Record, fields: Record) -> Record:
        """Clears as wave/clears.py says: a patch Wave refuses for its nulls goes again without
        them. A clear it did not take shows in the record answered (the engine reports it)."""
        if self.nulls_refused or not clears.has_nulls(fields):
            stripped = clears.without_nulls(fields)
            return self._patch(entity, current, stripped) if stripped else current
        try:
            return self._patch(entity, current, fields)
        except Refused as refused:
            stripped = clears.without_nulls(fields)
            logger.warning("Wave refused a patch with nulls; sending it without them",
                           extra={"entity": entity.name, "reason": str(refused)[:300]})
            record = self._patch(entity, current, stripped) if stripped else current
            self.nulls_refused = True  # the same patch without nulls went through: it was the nulls
            return record

    def _patch(self, entity: Entity, current: Record, fields: Record) -> Record:
        write = self.writes_of(entity)
        document = ops.mutation_document(entity.wave, write.patch, entity.wave.patch_input)
        return self.client.mutate(write.patch, document, {"id": current["id"], **fields})[write.output]

    def _run_actions(self, entity: Entity, record: Record, actions: dict[str, Any]) -> Record:
        write = self.writes_of(entity)
        for action, value in ordered_actions(write, actions):
            handler = write.actions[action]
            if isinstance(handler, str):
                record = self._action(entity, handler, record)
                continue
            for step in handler.operations(entity.wave, record, value):
                record = handler.applied(record, step, self._step(entity, step, record), write.output)
        return record

    def _action(self, entity: Entity, mutation: str, record: Record) -> Record:
        """One mutation on the record by id (productArchive, invoiceApprove); the record it answers."""
        write = self.writes_of(entity)
        result = self.client.mutate(mutation, ops.action_document(entity.wave, mutation), {write.id_input: record["id"]})
        return result.get(write.output) or record

    def _step(self, entity: Entity, step, record: Record) -> Record:
        """One mutation an action planned (wave/payments.Operation); Wave's answer."""
        return self.client.mutate(step.mutation, step.document, step.input)

    def delete(self, entity: Entity, record: Record) -> None:
        write = self.writes_of(entity)
        if write.delete is None:
            raise Refused(f"Wave {entity.wave.type_name} records are never deleted by the sync ({entity.name})")
        self.client.mutate(write.delete, ops.delete_document(entity.wave), {write.id_input: record["id"]})
