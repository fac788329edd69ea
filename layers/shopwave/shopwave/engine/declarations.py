"""What a flow is: data the engine reads. Nothing here does I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..mapping import SHOP, WAVE, Mapping

Record = dict[str, Any]


@dataclass(frozen=True)
class WaveLookup:
    """Find adoption candidates in Wave: list `filter_arg` (a list argument) = canonical `field`."""
    field: str
    filter_arg: str
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
    list_args: str = ""  # static list arguments, e.g. "isArchived: null"
    # Extra input on create: (source record id) -> fields, e.g. displayId = the shop id.
    create_extras: Callable[[str], Record] | None = None
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
class Entity:
    name: str
    mapping: Mapping
    shop: ShopResource
    wave: WaveResource
    creates_in: frozenset[str] = frozenset({SHOP, WAVE})  # sides the sync may create records in
    on_shop_delete: str = "mark"  # mark | archive


@dataclass(frozen=True)
class Flow:
    name: str  # "customer_to_wave"
    entity: Entity
    source: str  # SHOP or WAVE
    page_size: int = 100
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return WAVE if self.source == SHOP else SHOP
