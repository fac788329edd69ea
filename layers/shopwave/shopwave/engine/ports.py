"""What the engine needs of a system and of the state store, as `typing.Protocol`s.

The engine (sync.py, record.py, context.py) only ever calls what is declared here, so any
object with these members can stand behind it: the deployed sides and DynamoDB store, or the
in-memory ones the rule tests run on (tests/memory/). Nothing here does I/O.
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..state import Link, Parked, Watermark
    from .declarations import Entity, Record

    LookUps = dict[tuple[str, Any], list[Record]]


@runtime_checkable
class Side(Protocol):
    """One system as the engine sees it, for any declared entity. The engine never asks which
    system it is: what it may do with a record (write, replace, delete) comes from here."""

    name: str  # "shop" | "wave": the key of this side in links and flows

    # -- what a record says -----------------------------------------------------------------
    def record_id(self, record: Record) -> str: ...

    def stamp(self, entity: Entity, record: Record) -> str:
        """The record's value of the resource's cursor field (its last-modified time), normalised
        (engine/timestamps.py) so that both sides' stamps compare as strings."""

    def deleted(self, entity: Entity, record: Record) -> bool:
        """Deleted, cancelled or archived here: the entity's delete policy applies."""

    def writable(self, entity: Entity) -> bool:
        """The resource takes writes here at all; False for a read-only resource, which the engine
        never creates in, updates or deletes in (its side refuses with `Refused`)."""

    def takes_writes(self, entity: Entity, record: Record) -> bool: ...

    def must_replace(self, entity: Entity, record: Record, state: Record) -> bool:
        """The record cannot take `state` in place (an archived Wave product cannot be
        un-archived): a new counterpart replaces it."""

    def deletable(self, entity: Entity, record: Record) -> bool:
        """Policy allows deleting this counterpart (a DRAFT/SAVED invoice). Only a side that
        is also `Deletes` ever answers True."""

    def status_of(self, entity: Entity, record: Record) -> str: ...

    # -- reading --------------------------------------------------------------------------------
    def reread_window(self, entity: Entity) -> timedelta:
        """How far before the watermark a sweep reads again, the engine handling what it re-reads
        (hash-skip) instead of skipping it as passed: zero for an exact cursor."""

    def partitions(self, entity: Entity) -> list[str]:
        """Lists read separately, each with its own watermark ("" when there is one list)."""

    def pages(self, entity: Entity, partition: str, since: str | None, page_size: int) -> Iterator[list[Record]]:
        """Records modified since `since` (or all), oldest first, in pages; a record modified
        while the pages are read is never skipped (it may come twice)."""

    def fetch(self, entity: Entity, record_id: str) -> Record | None: ...

    def fetch_many(self, entity: Entity, ids: list[str]) -> dict[str, Record]: ...

    def look_up_many(self, entity: Entity, states: list[Record],
                     map_: Callable[[Callable[[Any], Any], list[Any]], list[Any]] | None = None) -> LookUps:
        """Adoption look-ups of many canonical states at once, keyed (field, value); `map_`
        runs independent requests at once."""

    def candidates(self, entity: Entity, state: Record, source_id: str, source: Record,
                   known: LookUps | None = None, cache: dict | None = None) -> list[Record]:
        """Records here that the other side's record (`source`, canonical `state`) could adopt;
        `cache` is the run's own (SyncContext.run_cache): what a side read once for the whole run."""

    # -- writing --------------------------------------------------------------------------------
    def create(self, entity: Entity, payload: Record, source_id: str) -> Record: ...

    def update(self, entity: Entity, current: Record, payload: Record) -> Record: ...


@runtime_checkable
class Deletes(Side, Protocol):
    """A side on which policy may delete a counterpart (`deletable` can answer True)."""

    def delete(self, entity: Entity, record: Record) -> None: ...


@runtime_checkable
class Store(Protocol):
    """What the engine remembers between runs (state/store.py keeps it in DynamoDB)."""

    # links: both ids, the agreed state, each side's last seen stamp; stored under both ids
    def get_links(self, entity: str, side: str, ids: Iterable[str]) -> dict[str, Link]: ...

    def get_link(self, entity: str, side: str, record_id: str) -> Link | None: ...

    def save_link(self, link: Link, *, replaces: tuple[str, str] | None = None) -> None:
        """Both keys at once, conditional on the revision read (raises LinkRaced otherwise);
        `replaces`: the (side, id) key of a counterpart that was replaced, removed in the same write."""

    # watermarks
    def watermark(self, flow: str) -> Watermark: ...

    def save_watermark(self, flow: str, mark: Watermark) -> None: ...

    # parked records: reason, attempts, due time with backoff, given up after the last attempt
    def park(self, flow: str, source_id: str, reason: str, *, kind: str = "error") -> Parked: ...

    def unpark(self, flow: str, source_id: str) -> None: ...

    def parked(self, flow: str, *, due_only: bool = False) -> list[Parked]: ...

    # conflicts, for operators
    def record_conflict(self, entity: str, shop_id: str, field_name: str, detail: dict[str, Any]) -> None: ...

    # claims: one writer per record, one sweep per flow; a lease left by a crashed holder expires
    def claim(self, key: str, owner: str, lease: timedelta) -> bool: ...

    def release(self, key: str, owner: str) -> None: ...


@runtime_checkable
class OperatedStore(Store, Protocol):
    """What operators and the convergence checker read besides (devstack/ops.py, convergence.py)."""

    def parked_one(self, flow: str, source_id: str) -> Parked | None: ...

    def conflicts(self, entity: str) -> list[dict[str, Any]]: ...

    def all_links(self, entity: str | None = None) -> Iterable[Link]: ...


__all__ = ["Deletes", "OperatedStore", "Side", "Store"]
