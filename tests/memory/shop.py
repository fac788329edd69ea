"""The webshop as a Side (ports.Side), in memory: the webshop sandbox's own store and rules
(devstack/webshop_sandbox: contract-strict fields, soft deletes, versions and If-Match,
Idempotency-Key, keyset feed in `updated_at` order, order totals), called directly instead of
over HTTP. What the sandbox answers with an HTTP error is raised as the client would raise it."""
from __future__ import annotations

from typing import Any, Iterator

from devstack.webshop_sandbox import ApiError, WebshopSandbox
from shopwave.clients.errors import Refused, Stale, Unavailable
from shopwave.webshop.client import idempotency_key
from shopwave.config import SyncSettings
from shopwave.engine import timestamps
from shopwave.engine.declarations import Entity, Record
from shopwave.webshop.side import ShopSide

from .faults import Faults

MAX_LIMIT = 200  # the contract's largest page


def _fields(payload: Record) -> Record:
    return {k: v for k, v in payload.items() if not k.startswith("@")}  # `@actions` are Wave mutations


def _raised(error: ApiError) -> Exception:
    """An HTTP answer as the webshop client raises it (clients/webshop.py)."""
    if error.status == 412:
        return Stale(str(error))
    if error.status == 429 or error.status >= 500:
        return Unavailable(str(error))
    return Refused(str(error))


class MemoryShopSide(ShopSide):
    """What a record says is the deployed side's own; reads and writes go to the sandbox directly."""

    def __init__(self, sandbox: WebshopSandbox):
        self.sandbox = sandbox
        self.faults = Faults("webshop")

    # -- reading (partitions are ShopSide's; the boundary's overlap is the resource's cursor) -----
    def pages(self, entity: Entity, partition: str, since: str | None, page_size: int | None) -> Iterator[list[Record]]:
        page_size = page_size or SyncSettings().page_size  # the flow's own, else the deployment's
        after = timestamps.minus(since, entity.shop.cursor.overlap) if since else None
        cursor = None
        while True:
            self.faults.check("pages")
            page = self._call(lambda: self.sandbox.list_page(entity.shop.resource, updated_after=None if cursor else after,
                                                             limit=str(min(page_size, MAX_LIMIT)), cursor=cursor))
            yield page["data"]
            cursor = page["next_cursor"]
            if not cursor:
                return

    def fetch(self, entity: Entity, record_id: str) -> Record | None:
        return self.fetch_many(entity, [record_id]).get(record_id)

    def fetch_many(self, entity: Entity, ids: list[str]) -> dict[str, Record]:
        found = {}
        for record_id in ids:
            self.faults.check("fetch")
            record = self._call(lambda: self.sandbox.get(entity.shop.resource, record_id), missing_ok=True)
            if record is not None:
                found[record_id] = record
        return found

    def look_up_many(self, entity: Entity, states: list[Record], map_=None) -> dict[tuple[str, Any], list[Record]]:
        return {}  # candidates here are named by id

    def candidates(self, entity: Entity, state: Record, source_id: str, source: Record,
                   known: dict[tuple[str, Any], list[Record]] | None = None, cache: dict | None = None) -> list[Record]:
        # a Wave record carrying a shop id (displayId) names its counterpart exactly
        field = entity.wave.adopt.shop_id_field
        shop_id = source.get(field) if field else None
        if shop_id:
            self.faults.check("look_up")
            record = self._call(lambda: self.sandbox.get(entity.shop.resource, shop_id), missing_ok=True)
            if record is not None and not record.get("deleted"):
                return [record]
        return []

    # -- writing --------------------------------------------------------------------------------
    def create(self, entity: Entity, payload: Record, source_id: str) -> Record:
        self.check_writable(entity)
        self.faults.check("create")
        key = idempotency_key(entity.name, "from-wave", source_id)
        _, record, _ = self._call(lambda: self.sandbox.api_create(entity.shop.resource, _fields(payload), key))
        return record  # a repeated key answers the record the first request created

    def update(self, entity: Entity, current: Record, payload: Record) -> Record:
        self.check_writable(entity)
        self.faults.check("update")
        version = current.get("version")
        return self._call(lambda: self.sandbox.api_update(entity.shop.resource, current["id"], _fields(payload),
                                                          if_match=None if version is None else str(version)))

    @staticmethod
    def _call(request, missing_ok: bool = False):
        try:
            return request()
        except ApiError as error:
            if error.status == 404 and missing_ok:
                return None  # the client answers a GET of a missing record as None
            raise _raised(error) from None
