"""Wave's paging made exact: Wave pages by offset, and a record modified while a reader pages
moves to the end and shifts the rest forward. So instead of turning pages, the pager asks for
page 1 again after (`modifiedAtAfter`) the last cursor value (`modifiedAt`) it saw, less the
cursor's overlap; the engine skips what it has already handled. Only when a whole page shares one
instant does it turn the page. The cursor, its overlap and the sort are the resource's `read` part.
"""
from __future__ import annotations

from typing import Any, Iterator

from ..engine import timestamps
from . import operations as ops
from .limits import WAVE_MAX_PAGE_SIZE

Record = dict[str, Any]


class WaveFilterPager:
    def __init__(self, client, resource, page_size: int, partition: str = ""):
        self.client = client
        self.resource = resource  # a WaveResource: its list document and `read` part
        self.cursor = resource.read.cursor
        self.page_size = min(page_size, WAVE_MAX_PAGE_SIZE)  # Wave answers at most this many a page
        self.partition = partition

    def pages(self, since: str | None) -> Iterator[list[Record]]:
        after = self._bound(since)
        page = 1
        while True:
            # never `modifiedAtAfter: null` (its meaning is undocumented): no cursor, no argument
            document = ops.list_document(self.resource, partition=self.partition, after_cursor=after is not None)
            variables = {"page": page, "pageSize": self.page_size}
            if after is not None:
                variables[self.resource.read.after_argument] = after
            data = self.client.query(document, variables)
            connection = data["business"][self.resource.read.list_field]
            records = [edge["node"] for edge in connection["edges"]]
            last_seen = records[-1][self.cursor.field] if records else None
            yield records
            if len(records) < self.page_size:
                return
            next_after = self._bound(last_seen)
            if after is not None and next_after <= after:
                # a full page within one instant (or, inclusive, at the bound itself): the bound would
                # not move forward, so only offsets can move past it; never back, never in place
                page += 1
            else:
                after, page = next_after, 1

    def _bound(self, stamp: str | None) -> str | None:
        return timestamps.wave_format(timestamps.minus(stamp, self.cursor.overlap)) if stamp else None
