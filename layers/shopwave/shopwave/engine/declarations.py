"""What a flow is: data the engine reads. Nothing here does I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any, Callable, Iterable

from ..mapping import SIDES, Mapping, other_side

Record = dict[str, Any]


def never(record: Record) -> bool:
    return False


def without_actions(payload: Record) -> tuple[Record, dict[str, Any]]:
    """Split a document into fields and the `@action`s set in it (mutations of their own), by
    name with the value the mapping gave each (True, or what the action needs)."""
    return ({k: v for k, v in payload.items() if not k.startswith("@")},
            {k: v for k, v in payload.items() if k.startswith("@") and v})


@dataclass(frozen=True)
class Cursor:
    """What a side's records are read in order of: the field stamping each change, and how far
    before the watermark a read starts again (so a boundary shared by two records is re-read;
    the engine skips what it has handled)."""
    field: str
    overlap: timedelta


# -- the webshop -------------------------------------------------------------------------------
SHOP_CURSOR = Cursor("updated_at", timedelta(seconds=1))  # the contract's keyset feed (docs/CONTRACT.md)


def soft_deleted(record: Record) -> bool:
    return bool(record.get("deleted"))


@dataclass(frozen=True)
class ShopResource:
    """A webshop resource: read by its keyset feed in `cursor` order, written through the
    contract unless `writable` is False (a read-only resource: nothing is written to it)."""
    resource: str  # "customers"
    cursor: Cursor = SHOP_CURSOR
    deleted: Callable[[Record], bool] = soft_deleted
    writable: bool = True


# -- Wave --------------------------------------------------------------------------------------
# Every Wave list is read oldest change first and re-filtered after the cursor (wave/paging.py).
WAVE_CURSOR = Cursor("modifiedAt", timedelta(milliseconds=1))
WAVE_SORT = "MODIFIED_AT_ASC"


@dataclass(frozen=True)
class WaveRead:
    """How a Wave resource is read: its list and its get-by-id, the fields asked for, in what
    order and after what, and which lists are read separately."""
    list_field: str  # business.customers
    get_field: str  # business.customer(id)
    selection: str  # the fields the mapping reads, plus id and the cursor field
    cursor: Cursor = WAVE_CURSOR
    sort: str = WAVE_SORT
    # Lists read separately, each with its own watermark (archived products are hidden otherwise).
    partitions: tuple[str, ...] = ("",)
    deleted: Callable[[Record], bool] = never  # deleted, cancelled or archived in Wave

    @property
    def after_argument(self) -> str:
        """The list's filter on the cursor field: Wave names it `<field>After` (modifiedAtAfter)."""
        return f"{self.cursor.field}After"


@dataclass(frozen=True)
class WaveWrite:
    """How a Wave resource is written: its mutations and what the engine may do with a record."""
    create: str  # "customerCreate"
    patch: str  # "customerPatch"
    output: str  # the mutation payload's entity field: "customer"
    # Document keys that are mutations of their own: {"@archive": "productArchive"}, or an object
    # planning several from the record and the action's value (wave/payments.SettlePayments).
    actions: dict[str, Any] = field(default_factory=dict)
    # Extra input on create: (source record id, config.Options) -> fields, e.g. displayId = the shop id.
    create_extras: Callable[[str, Any], Record] | None = None
    delete: str | None = None  # mutation that deletes a counterpart, where policy allows
    deletable: Callable[[Record], bool] = never
    id_input: str = "id"  # how action/delete inputs name the record
    # (Wave record, canonical state) -> the Wave record cannot take this state in place and a new
    # counterpart replaces it (an archived product cannot be un-archived in Wave).
    replace_when: Callable[[Record, Record], bool] = lambda record, state: False


def ordered_actions(write: "WaveWrite", actions: dict[str, Any]) -> list[tuple[str, Any]]:
    """A document's actions in the order they run: single mutations first (an approval asked for
    by configuration), then those that plan from the record as it then is (payments)."""
    return sorted(actions.items(), key=lambda item: not isinstance(write.actions[item[0]], str))


@dataclass(frozen=True)
class WaveLookup:
    """Adoption candidates in Wave whose canonical `field` equals the record's (case-folded).
    With `filter_arg` the list is filtered by Wave; without, Wave cannot filter on it and the
    list is scanned once per run."""
    field: str
    filter_arg: str | None
    graphql_type: str = "String"


@dataclass(frozen=True)
class WaveAdopt:
    """How a record from the shop finds an existing Wave record to adopt, and a Wave record its
    shop counterpart: look-ups by canonical field, and the Wave field carrying the shop id."""
    lookups: tuple[WaveLookup, ...] = ()
    shop_id_field: str | None = None  # a Wave record that carries the shop id (displayId) is its counterpart
    # A record none of the look-ups can find (a customer without an email) is looked for by the shop
    # id in `shop_id_field` among Wave records modified since its shop record was created (this
    # gives when, from the shop record), less `created_margin` for clock skew: so a create that
    # went through although its answer never arrived is adopted on retry, not made twice.
    source_created: Callable[[Record], str | None] | None = None
    created_margin: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class WaveResource:
    """A Wave resource built from parts: how it is read, written (None: a read-only resource,
    which the sync never writes) and adopted."""
    type_name: str  # the GraphQL type: "Customer"
    read: WaveRead
    write: WaveWrite | None = None
    adopt: WaveAdopt = WaveAdopt()

    @property
    def create_input(self) -> str:
        return f"{self.type_name}CreateInput"

    @property
    def patch_input(self) -> str:
        return f"{self.type_name}PatchInput"


@dataclass(frozen=True)
class DuplicateKey:
    """The canonical field no two records of one side should share: the adoption key (two Wave
    customers with one email make adoption ambiguous). The convergence checker reports Wave
    records sharing a value, at least one of them linked, beyond what the webshop has."""
    field: str
    casefold: bool = False  # values compare case-insensitively (emails); otherwise exactly
    # Values records the sync keeps of its own share without being duplicates: options -> values
    # (the discount product's name). Compared case-insensitively.
    exempt: Callable[[dict], Iterable[str]] = lambda options: ()


class WhenDeleted(Enum):
    """What a delete (or cancellation, or archiving) at one side does to the pair (SYNC.md rule 9)."""
    # The counterpart is kept (accounting history); the link is marked and reported, edits stop.
    STOP_SYNCING = "stop syncing"
    # The counterpart is deleted where its side allows it (a DRAFT/SAVED invoice); otherwise it is
    # kept, the link marked, and a conflict recorded for an operator.
    DELETE_DRAFT_COUNTERPART = "delete a draft counterpart"
    # Not a delete at all (a customer archived in Wave): the pair stays linked and edits keep
    # travelling both ways; only no new counterpart is created from such a record.
    KEEP_SYNCING = "keep syncing"


@dataclass(frozen=True)
class Entity:
    """One kind of record kept in step: its mapping, its resource on each side (read, written and
    adopted as their parts say), where the sync may create records and what a delete does."""
    name: str
    mapping: Mapping
    shop: ShopResource
    wave: WaveResource
    creates_in: frozenset[str] = frozenset(SIDES)  # sides the sync may create records in (if writable there)
    when_deleted: dict[str, WhenDeleted] = field(default_factory=dict)  # by the side deleting; default STOP_SYNCING
    skip_create: Callable[[Record], bool] = never  # canonical states not worth a new counterpart
    link_extra: Callable[[dict[str, Record]], Record] | None = None  # records by side -> what has no field on the other
    verify: Callable[[dict[str, Record]], str | None] | None = None  # records by side -> mismatch or None
    # Like `verify`, for what holds only once both flows have run (amounts paid): the convergence checker's.
    settled: Callable[[dict[str, Record]], str | None] | None = None
    duplicate_key: DuplicateKey | None = None  # what the convergence checker finds duplicates by
    # Fields that keep travelling, both ways, between a deleted or cancelled record and the
    # counterpart kept for it (money: a cancelled order's refund reaches its invoice, a cheque
    # recorded on that invoice reaches the order).
    still_travels: frozenset[str] = frozenset()
    # By target side: what a run writing there resolves before it writes anything (ctx -> None,
    # raising what stops the run): the account the shop's payments go into.
    needs: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

    def when_deleted_in(self, side: str) -> WhenDeleted:
        return self.when_deleted.get(side, WhenDeleted.STOP_SYNCING)


@dataclass(frozen=True)
class Flow:
    name: str  # "customer_to_wave"
    entity: Entity
    source: str  # the side it reads (mapping.SIDES)
    page_size: int | None = None  # records per page read; None: SYNC_PAGE_SIZE (config.SyncSettings)

    @property
    def target(self) -> str:
        return other_side(self.source)
