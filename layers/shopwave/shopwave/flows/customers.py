"""Customers: the default mapping of SYNC.md, as data both directions read."""
from __future__ import annotations

from ..engine.declarations import (DuplicateKey, Entity, Record, ShopResource, WaveAdopt, WaveLookup, WaveRead,
                                   WaveResource, WaveWrite, WhenDeleted)
from ..mapping import WAVE, Code, Codec, Field, Mapping, address_fields
from ..mapping import values


def person(record: Record) -> str:
    return " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p)


def wave_person(record: Record) -> str:
    return " ".join(p for p in (record.get("firstName"), record.get("lastName")) if p)


class DisplayName(Codec):
    """Wave needs a name: the shop's company, else first and last name, else the email.

    The canonical `name` is the shop's company. A Wave name that is just the person's name or
    email says nothing of its own and reads as absent. SYNC.md: back from Wave, the name goes to
    `company` only where the shop record uses one, so a Wave name the merchant gave a customer
    whose shop record has no company (by the pair's basis) stays Wave's own and reads as absent
    too. A person's name or email change keeps a derived Wave name in step (`follows`)."""

    follows = ("first_name", "last_name", "email")

    def read(self, side, record, state, ctx, basis=None):
        if side == WAVE:
            name = values.text(record.get("name"))
            if name in (wave_person(record), record.get("email")):
                return None
            if basis is not None and basis.agreed.get("name") is None:
                return None  # the shop record uses no company: Wave's own name stays in Wave
            return name
        name = values.text(record.get("company"))
        return None if name in (person(record), record.get("email")) else name

    def write(self, side, current, state, ctx):
        name = state.get("name")
        if side == WAVE:
            return {"name": name or self._derived(state)}
        if current is None and not name:
            return {}
        return {"company": name}

    def follow(self, side, current, state, ctx):
        """The person changed: a Wave name derived from the old values follows; a name the
        merchant gave in Wave, and the shop's company, stay as they are."""
        if side != WAVE or state.get("name") or current is None:
            return {}
        now = values.text(current.get("name"))
        if now is not None and now not in (wave_person(current), current.get("email")):
            return {}
        derived = self._derived(state)
        return {"name": derived} if derived and derived != now else {}

    @staticmethod
    def _derived(state) -> str | None:
        return person(state) or state.get("email")


CUSTOMER_MAPPING = Mapping((
    Field("name", codec=DisplayName()),
    Field("first_name", shop="first_name", wave="firstName"),
    Field("last_name", shop="last_name", wave="lastName"),
    Field("email", shop="email", wave="email"),
    Field("phone", shop="phone", wave="phone"),
    Field("mobile", shop="mobile", wave="mobile"),
    Field("website", shop="website", wave="website"),
    Field("currency", shop="currency", wave="currency.code", wave_input="currency", value=Code()),
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
        "Customer",
        read=WaveRead(
            list_field="customers",
            get_field="customer",
            selection=(f"id name firstName lastName email phone mobile website internalNotes displayId isArchived "
                       f"currency {{ code }} address {{ {_ADDRESS} }} "
                       f"shippingDetails {{ name phone instructions address {{ {_ADDRESS} }} }} createdAt modifiedAt"),
            deleted=lambda record: bool(record.get("isArchived")),  # never copied to a shop that lacks it
        ),
        write=WaveWrite(
            create="customerCreate",
            patch="customerPatch",
            output="customer",
            create_extras=lambda shop_id, options: {"displayId": shop_id},
        ),
        # by email; without one, by the displayId the sync sets on create (SYNC.md rule 2)
        adopt=WaveAdopt(lookups=(WaveLookup("email", "email"),), shop_id_field="displayId",
                        source_created=lambda shop_record: shop_record.get("created_at")),
    ),
    duplicate_key=DuplicateKey("email", casefold=True),
    # SYNC.md rule 9: a customer deleted in the shop keeps its Wave record (accounting history) and
    # the pair stops syncing; one archived in Wave is not deleted: shop edits still reach it.
    when_deleted={WAVE: WhenDeleted.KEEP_SYNCING},
)
