"""What a flow is: data the engine reads. Nothing here does I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Iterable

from ..mapping import SIDES, Mapping, other_side

Record = dict[str, Any]


def never(record: Record) -> bool:
    return False


def without_actions(payload: Record) -> tuple[Record, list[str]]:
    """Split a document into fields and the `@action` markers set in it (mutations of their own)."""
    return ({k: v for k, v in payload.items() if not k.startswith("@")},
            [k for k, v in payload.items() if k.startswith("@") and v])


@dataclass(frozen=True)
class WaveLookup:
    """Adoption candidates in Wave whose canonical `field` equals the record's (case-folded).
    With `filter_arg` the list is filtered by Wave; without, Wave cannot filter on it and the
    list is scanned once per run."""
    field: str
    filter_arg: str | None
    graphql_type: str = "String"


@dataclass(frozen=True)
class WaveResource:
    type_name: str  # "Customer"
    list_field: str  # business.customers
    get_field: str  # business.customer(id)
    selection: str  # the fields the mapping reads, plus id and modifiedAt
    create: str  # "customerCreate"
    patch: str  # "customerPatch"
    output: str  # the mutation payload's entity field: "customer"
    lookups: tuple[WaveLookup, ...] = ()
    # Lists read separately, each with its own watermark (archived products are hidden otherwise).
    partitions: tuple[str, ...] = ("",)
    # Document keys that are mutations of their own: {"@archive": "productArchive"}.
    actions: dict[str, str] = field(default_factory=dict)
    delete: str | None = None  # mutation that deletes a counterpart, where policy allows
    deletable: Callable[[Record], bool] = never
    id_input: str = "id"  # how action/delete inputs name the record
    deleted: Callable[[Record], bool] = never
    # (Wave record, canonical state) -> the Wave record cannot take this state in place and a new
    # counterpart replaces it (an archived product cannot be un-archived in Wave).
    replace_when: Callable[[Record, Record], bool] = lambda record, state: False
    # Extra input on create: (source record id, config.Options) -> fields, e.g. displayId = the shop id.
    create_extras: Callable[[str, Any], Record] | None = None
    # A Wave record that carries the shop id (displayId) is that record's counterpart.
    shop_id_field: str | None = None

    @property
    def create_input(self) -> str:
        return f"{self.type_name}CreateInput"

    @property
    def patch_input(self) -> str:
        return f"{self.type_name}PatchInput"


@dataclass(frozen=True)
class ShopResource:
    resource: str  # "customers"
    deleted: Callable[[Record], bool] = lambda record: bool(record.get("deleted"))


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
    name: str
    mapping: Mapping
    shop: ShopResource
    wave: WaveResource
    creates_in: frozenset[str] = frozenset(SIDES)  # sides the sync may create records in
    when_deleted: dict[str, WhenDeleted] = field(default_factory=dict)  # by the side deleting; default STOP_SYNCING
    skip_create: Callable[[Record], bool] = never  # canonical states not worth a new counterpart
    link_extra: Callable[[dict[str, Record]], Record] | None = None  # records by side -> what has no field on the other
    verify: Callable[[dict[str, Record]], str | None] | None = None  # records by side -> mismatch or None
    duplicate_key: DuplicateKey | None = None  # what the convergence checker finds duplicates by

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
