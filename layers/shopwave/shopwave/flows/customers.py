"""Customers: the default mapping of SYNC.md, as data both directions read."""
from __future__ import annotations

from ..engine.declarations import Entity, Record, ShopResource, WaveLookup, WaveResource
from ..mapping import Field, Mapping, address_fields


def display_name(record: Record) -> str | None:
    """Wave needs a name: the company, else first and last name, else the email."""
    person = " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p)
    return record.get("company") or person or record.get("email")


def name_to_shop(current: Record | None, state: Record) -> Record:
    """Back from Wave the name goes to `company` only where the shop record uses one (or where
    it is more than the person's name, on a record the sync creates)."""
    name = state.get("name")
    if current is not None:
        return {"company": name} if current.get("company") else {}
    person = " ".join(p for p in (state.get("first_name"), state.get("last_name")) if p)
    return {"company": name} if name and name not in (person, state.get("email")) else {}


CUSTOMER_MAPPING = Mapping((
    Field("name", wave="name", shop_read=display_name, shop_write=name_to_shop),
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
        create_extras=lambda shop_id: {"displayId": shop_id},
        shop_id_field="displayId",
    ),
)
