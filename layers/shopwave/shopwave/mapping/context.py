"""What a mapping needs besides the record: links to translate references, Wave's business
catalogue (sales taxes, the discount product) and the deployment's options."""
from __future__ import annotations

from typing import Any

from ..config import Options
from .core import SHOP


class MissingDependency(Exception):
    """A record points at one that is not linked yet (an order's customer or product)."""

    def __init__(self, entity: str, side: str, record_id: str):
        self.entity, self.side, self.record_id = entity, side, record_id
        super().__init__(f"{entity} {record_id} in {side} is not linked yet")


class SyncContext:
    def __init__(self, store, catalog=None, options: Options | None = None):
        self.store = store
        self.catalog = catalog
        self.options = options or Options()  # the deployment's (config.Options), typed
        self._links: dict[tuple[str, str, str], Any] = {}
        self.run_cache: dict[Any, Any] = {}  # what a side reads once per run (Wave's products by name)

    def prefetch(self, refs: list[tuple[str, str, str]]) -> None:
        """Look up the links of many references in one batch per entity and side."""
        wanted: dict[tuple[str, str], set[str]] = {}
        for entity, side, record_id in refs:
            if (entity, side, record_id) not in self._links:
                wanted.setdefault((entity, side), set()).add(record_id)
        for (entity, side), ids in wanted.items():
            for record_id, link in self.store.get_links(entity, side, ids).items():
                self._remember(link)

    def _remember(self, link) -> None:
        for side in ("shop", "wave"):
            self._links[(link.entity, side, link.id_on(side))] = link

    def _link(self, entity: str, side: str, record_id: str):
        key = (entity, side, record_id)
        if key not in self._links:
            link = self.store.get_link(entity, side, record_id)
            if link is None:
                raise MissingDependency(entity, side, record_id)
            self._remember(link)
        return self._links[key]

    def linked(self, entity: str, side: str, record_id: str, *, cached: bool = False) -> bool:
        """Whether the record has a link now: looked up afresh, or with `cached` taken from the
        links already known (a page prefetches its references' links) before asking again."""
        if cached and (entity, side, record_id) in self._links:
            return True
        self.forget(entity, side, record_id)
        self.prefetch([(entity, side, record_id)])
        return (entity, side, record_id) in self._links

    def forget(self, entity: str, side: str, record_id: str) -> None:
        self._links.pop((entity, side, record_id), None)

    def canonical_id(self, entity: str, side: str, record_id: str | None) -> str | None:
        """References are compared as the webshop's ids."""
        if not record_id:
            return None
        return record_id if side == SHOP else self._link(entity, side, record_id).shop_id

    def side_id(self, entity: str, side: str, shop_id: str | None) -> str | None:
        if not shop_id:
            return None
        return shop_id if side == SHOP else self._link(entity, SHOP, shop_id).wave_id
