"""Products: name, description and price; archiving both ways; `sku` kept in the link."""
from __future__ import annotations

from decimal import Decimal

from ..engine.declarations import DuplicateKey, Entity, ShopResource, WaveAdopt, WaveLookup, WaveRead, WaveResource, WaveWrite
from ..mapping import SHOP, WAVE, Codec, Field, Mapping, Money


class Archived(Codec):
    """Inactive or deleted in the shop is archived in Wave, and archived in Wave is inactive in
    the shop. Wave has no way back from archived: a product re-activated in the shop gets a new
    Wave product (the archived one keeps its history)."""

    def read(self, side, record, state, ctx, basis=None):
        if side == WAVE:
            return bool(record.get("isArchived"))
        return bool(record.get("deleted")) or record.get("active") is False

    def write(self, side, current, state, ctx):
        if side == SHOP:
            return {"active": not state["archived"]}
        return {"@archive": True} if state["archived"] else {}


PRODUCT_MAPPING = Mapping((
    Field("name", shop="name", wave="name"),
    Field("description", shop="description", wave="description"),
    Field("price", shop="price", wave="unitPrice", value=Money(minimum=Decimal(0), shop_places=2)),
    Field("archived", codec=Archived()),
))


def income_account(source_id: str, options) -> dict:
    account = options.income_account_id  # config.Options
    return {"incomeAccountId": account} if account else {}


PRODUCT = Entity(
    name="product",
    mapping=PRODUCT_MAPPING,
    shop=ShopResource("products", deleted=lambda record: False),  # a deleted product is an archived one
    wave=WaveResource(
        "Product",
        read=WaveRead(
            list_field="products",
            get_field="product",
            selection="id name description unitPrice isArchived createdAt modifiedAt",
            partitions=("isArchived: false", "isArchived: true"),  # archived products are hidden otherwise
        ),
        write=WaveWrite(
            create="productCreate",
            patch="productPatch",
            output="product",
            actions={"@archive": "productArchive"},
            create_extras=income_account,
            replace_when=lambda record, state: bool(record.get("isArchived")) and not state["archived"],
        ),
        adopt=WaveAdopt(lookups=(WaveLookup("name", None),)),  # Wave cannot filter products by name: scanned
    ),
    creates_in=frozenset({WAVE}),
    skip_create=lambda state: state["archived"],
    link_extra=lambda records: {"sku": records[SHOP].get("sku")},  # the sku has no field in Wave
    # The discount product (orders' discounts) is the sync's own: no webshop product stands for it.
    duplicate_key=DuplicateKey("name", exempt=lambda options: (options.discount_product_name,)),
)
