"""Customers: the default mapping of SYNC.md, as data both directions read."""
from __future__ import annotations

from ..engine.declarations import Entity, Record, ShopResource, WaveLookup, WaveResource
from ..mapping import WAVE, Codec, Field, Mapping, address_fields
from ..mapping import values


def person(record: Record) -> str:
    return " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p)


class DisplayName(Codec):
    """Wave needs a name: the shop's company, else first and last name, else the email. A name
    that is just the person's name or email says nothing of its own, so it compares as absent
    on both sides; any other Wave name is the shop's company (and the reverse)."""

    def read(self, side, record, state, ctx):
        if side == WAVE:
            name = values.text(record.get("name"))
            derived = (" ".join(p for p in (record.get("firstName"), record.get("lastName")) if p), record.get("email"))
        else:
            name = values.text(record.get("company"))
            derived = (person(record), record.get("email"))
        return None if name in derived else name

    def write(self, side, current, state, ctx):
        name = state.get("name")
        if side == WAVE:
            return {"name": name or person(state) or state.get("email")}
        if current is None and not name:
            return {}
        return {"company": name}


CUSTOMER_MAPPING = Mapping((
    Field("name", codec=DisplayName()),
    Field("first_name", shop="first_name", wave="firstName"),
    Field("last_name", shop="last_name", wave="lastName"),
    Field("email", shop="email", wave="email"),
    Field("phone", shop="phone", wave="phone"),
    Field("mobile", shop="mobile", wave="mobile"),
    Field("website", shop="website", wave="website"),
    Field("currency", shop="currency", wave="currency.code", wave_input="currency", kind="code"),
    Field("notes", shop="notes", wave="internalNotes"),
    *address_fields("billing", shop="billing_address", wave="address"),
    Field("shipping.name", shop="shipping.name", wave="shippingDetails.name"),
    Field("shipping.phone", shop="shipping.phone", wave="shippingDetails.phone"),
    Field("shipping.instructions", shop="shipping.instructions", wave="shippingDetails.instructions"),
    *address_fields("shipping.address", shop="shipping.address", wave="shippingDetails.address"),
))

_ADDRESS = "addressLine1 addressLine2 city postalCode province { code } country { code }"

CUSTOMER = Entity(
    name="customer",
    mapping=CUSTOMER_MAPPING,
    shop=ShopResource("customers"),
    wave=WaveResource(
        type_name="Customer",
        list_field="customers",
        get_field="customer",
        selection=(f"id name firstName lastName email phone mobile website internalNotes displayId isArchived "
                   f"currency {{ code }} address {{ {_ADDRESS} }} "
                   f"shippingDetails {{ name phone instructions address {{ {_ADDRESS} }} }} createdAt modifiedAt"),
        create="customerCreate",
        patch="customerPatch",
        output="customer",
        lookups=(WaveLookup("email", "email"),),
        create_extras=lambda shop_id, options: {"displayId": shop_id},
        deleted=lambda record: bool(record.get("isArchived")),
        shop_id_field="displayId",
    ),
)
