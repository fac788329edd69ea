"""The webshop behind the engine's side interface (engine/ports.py): keyset-paged reads of
changed records in the resource's cursor order (`updated_at`, re-reading its overlap), fetches by
id, and writes through the contract (docs/CONTRACT.md) to a resource that takes them."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterator

from ..clients.errors import Refused
from ..engine import timestamps
from ..engine.declarations import Entity, Record, without_actions
from ..mapping import SHOP
from .client import WebshopClient, idempotency_key


class ShopSide:
    name = SHOP

    def __init__(self, client: WebshopClient):
        self.client = client

    @staticmethod
    def record_id(record: Record) -> str:
        return str(record["id"])

    @staticmethod
    def stamp(entity: Entity, record: Record) -> str:
        return timestamps.normalise(record.get(entity.shop.cursor.field))

    @staticmethod
    def deleted(entity: Entity, record: Record) -> bool:
        return entity.shop.deleted(record)

    @staticmethod
    def writable(entity: Entity) -> bool:
        return entity.shop.writable

    @staticmethod
    def takes_writes(entity: Entity, record: Record) -> bool:
        return entity.shop.writable and not record.get("deleted")  # a soft-deleted webshop record is 409 to a PATCH

    @staticmethod
    def must_replace(entity: Entity, record: Record, state: Record) -> bool:
        return False

    @staticmethod
    def deletable(entity: Entity, record: Record) -> bool:
        return False  # Wave-side deletes never delete webshop records (SYNC.md rule 9)

    @staticmethod
    def status_of(entity: Entity, record: Record) -> str:
        return str(record.get("status") or ("deleted" if record.get("deleted") else "active"))

    @staticmethod
    def reread_window(entity: Entity) -> timedelta:
        return timedelta(0)  # the contract's keyset feed is exact: nothing before the watermark is read again

    def partitions(self, entity: Entity) -> list[str]:
        return [""]

    def pages(self, entity: Entity, partition: str, since: str | None, page_size: int | None) -> Iterator[list[Record]]:
        # The keyset cursor is exact while records change; the overlap re-reads the boundary.
        after = timestamps.minus(since, entity.shop.cursor.overlap) if since else None
        yield from self.client.iter_changed(entity.shop.resource, after, page_size)

    def fetch(self, entity: Entity, record_id: str) -> Record | None:
        return self.fetch_many(entity, [record_id]).get(record_id)

    def fetch_many(self, entity: Entity, ids: list[str]) -> dict[str, Record]:
        found = {}
        for record_id in ids:
            record = self.client.get(entity.shop.resource, record_id)
            if isinstance(record, dict) and record.get("id") == record_id:  # exactly the record asked for
                found[record_id] = record
        return found

    def look_up_many(self, entity: Entity, states: list[Record], map_=None) -> dict[tuple[str, Any], list[Record]]:
        return {}  # the shop's candidates are found by id (one GET), nothing to gather

    def candidates(self, entity: Entity, state: Record, source_id: str, source: Record,
                   known: dict[tuple[str, Any], list[Record]] | None = None, cache: dict | None = None) -> list[Record]:
        # A Wave record carrying a shop id in its displayId names its counterpart exactly.
        field = entity.wave.adopt.shop_id_field
        shop_id = source.get(field) if field else None
        if shop_id:
            record = self.client.get(entity.shop.resource, shop_id)
            if record is not None and not record.get("deleted"):
                return [record]
        return []

    @staticmethod
    def check_writable(entity: Entity) -> None:
        """A read-only resource refuses (the engine never asks it to write)."""
        if not entity.shop.writable:
            raise Refused(f"webshop {entity.shop.resource} is read-only for the sync ({entity.name})")

    def create(self, entity: Entity, payload: Record, source_id: str) -> Record:
        self.check_writable(entity)
        key = idempotency_key(entity.name, "from-wave", source_id)
        return self.client.create(entity.shop.resource, without_actions(payload)[0], idempotency_key=key)

    def update(self, entity: Entity, current: Record, payload: Record) -> Record:
        self.check_writable(entity)
        return self.client.patch(entity.shop.resource, current["id"], without_actions(payload)[0], if_match=current.get("version"))
