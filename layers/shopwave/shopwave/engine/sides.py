"""The two sides behind one interface, so the engine never asks which system it is talking to.

Each side reads pages of changed records (its own paging scheme), fetches records by id,
finds adoption candidates, and creates or updates records, for any declared entity.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterator

from ..clients import wave_operations as ops
from ..clients.wave import WaveClient
from ..clients.webshop import WebshopClient, idempotency_key
from ..mapping import SHOP, WAVE
from . import timestamps
from .declarations import Entity, Record
from .paging import WaveFilterPager


class ShopSide:
    name = SHOP
    overlap = timedelta(seconds=1)

    def __init__(self, client: WebshopClient):
        self.client = client

    @staticmethod
    def record_id(record: Record) -> str:
        return str(record["id"])

    @staticmethod
    def stamp(record: Record) -> str:
        return timestamps.normalise(record.get("updated_at"))

    @staticmethod
    def deleted(entity: Entity, record: Record) -> bool:
        return entity.shop.deleted(record)

    def pages(self, entity: Entity, since: str | None, page_size: int) -> Iterator[list[Record]]:
        # The keyset cursor is exact while records change; the overlap re-reads the boundary.
        after = timestamps.minus(since, self.overlap) if since else None
        yield from self.client.iter_changed(entity.shop.resource, after)

    def fetch(self, entity: Entity, record_id: str) -> Record | None:
        return self.client.get(entity.shop.resource, record_id)

    def fetch_many(self, entity: Entity, ids: list[str]) -> dict[str, Record]:
        found = (self.client.get(entity.shop.resource, i) for i in ids)
        return {r["id"]: r for r in found if r is not None}

    def candidates(self, entity: Entity, state: Record, source_id: str, source: Record) -> list[Record]:
        # A Wave record carrying a shop id in its displayId names its counterpart exactly.
        field = entity.wave.shop_id_field
        shop_id = source.get(field) if field else None
        if shop_id:
            record = self.client.get(entity.shop.resource, shop_id)
            if record is not None and not record.get("deleted"):
                return [record]
        return []

    def create(self, entity: Entity, payload: Record, source_id: str) -> Record:
        key = idempotency_key(entity.name, "from-wave", source_id)
        return self.client.create(entity.shop.resource, payload, idempotency_key=key)

    def update(self, entity: Entity, current: Record, payload: Record) -> Record:
        return self.client.patch(entity.shop.resource, current["id"], payload, if_match=current.get("version"))


class WaveSide:
    name = WAVE
    fetch_batch = 50

    def __init__(self, client: WaveClient):
        self.client = client

    @staticmethod
    def record_id(record: Record) -> str:
        return str(record["id"])

    @staticmethod
    def stamp(record: Record) -> str:
        return timestamps.normalise(record.get("modifiedAt"))

    @staticmethod
    def deleted(entity: Entity, record: Record) -> bool:
        return bool(record.get("isArchived"))

    def pages(self, entity: Entity, since: str | None, page_size: int) -> Iterator[list[Record]]:
        return WaveFilterPager(self.client, entity.wave, page_size).pages(since)

    def fetch(self, entity: Entity, record_id: str) -> Record | None:
        return self.fetch_many(entity, [record_id]).get(record_id)

    def fetch_many(self, entity: Entity, ids: list[str]) -> dict[str, Record]:
        found: dict[str, Record] = {}
        for start in range(0, len(ids), self.fetch_batch):
            chunk = ids[start:start + self.fetch_batch]
            data = self.client.query(ops.get_many_document(entity.wave, len(chunk)),
                                     {f"id{i}": record_id for i, record_id in enumerate(chunk)})
            business = data.get("business") or {}
            for i in range(len(chunk)):
                record = business.get(f"r{i}")
                if record:
                    found[record["id"]] = record
        return found

    def candidates(self, entity: Entity, state: Record, source_id: str, source: Record) -> list[Record]:
        found: dict[str, Record] = {}
        lookups = list(entity.wave.lookups)
        for lookup in lookups:
            value = source_id if lookup.field == "@source_id" else state.get(lookup.field)
            if not value:
                continue
            document = ops.list_document(entity.wave, with_filter=lookup.filter_arg, filter_type=lookup.graphql_type)
            data = self.client.query(document, {"page": 1, "pageSize": 20, lookup.filter_arg: value})
            for edge in data["business"][entity.wave.list_field]["edges"]:
                found[edge["node"]["id"]] = edge["node"]
        # displayId holding the shop id is exact; Wave cannot filter on it, so it is checked on
        # the records the other lookups found.
        field = entity.wave.shop_id_field
        exact = [r for r in found.values() if field and r.get(field) == source_id]
        return exact or list(found.values())

    def create(self, entity: Entity, payload: Record, source_id: str) -> Record:
        extras = entity.wave.create_extras(source_id) if entity.wave.create_extras else {}
        input_ = {"businessId": self.client.business_id, **extras, **payload}
        result = self.client.mutate(entity.wave.create, ops.mutation_document(entity.wave, entity.wave.create, entity.wave.create_input), input_)
        return result[entity.wave.output]

    def update(self, entity: Entity, current: Record, payload: Record) -> Record:
        input_: dict[str, Any] = {"id": current["id"], **payload}
        result = self.client.mutate(entity.wave.patch, ops.mutation_document(entity.wave, entity.wave.patch, entity.wave.patch_input), input_)
        return result[entity.wave.output]
