"""Sample data for the demo: one seed function (and one edit function) per entity.

`seed_<entity>(shop, wave)` writes the starting records straight into the sandboxes (not through
their APIs, so the request counters only show the sync's calls) and returns what the first sync
should do with them, e.g. {"created_in_wave": 6, "adopted": 2, "created_in_shop": 2}.
`edit_<entity>(shop, wave)` makes a few edits after the first settle and returns what they should
cause, under keys of its own (the demo merges them into the seed's). `wave` may be None (a real
Wave business is never seeded); `shop` is always the webshop sandbox. A new entity adds its
pair to SEEDS; the demo runs them all in that order.
"""
from __future__ import annotations

import time


def _address(line1: str, city: str, region: str, postal_code: str, country: str) -> dict:
    return {"line1": line1, "city": city, "region": region, "postal_code": postal_code, "country": country}


def _shipping(name: str, phone: str | None, instructions: str | None, address: dict) -> dict:
    return {"name": name, "phone": phone, "instructions": instructions, "address": address}


TORONTO = _address("100 King St W", "Toronto", "ON", "M5X 1A9", "CA")
OTTAWA = _address("45 Sparks St", "Ottawa", "ON", "K1P 5A9", "CA")
MONTREAL = _address("1250 Rue Sainte-Catherine O", "Montréal", "QC", "H3G 1P1", "CA")
BROOKLYN = _address("77 Atlantic Ave", "Brooklyn", "NY", "11201", "US")
BUFFALO = _address("12 Elmwood Ave", "Buffalo", "NY", "14201", "US")

SHOP_CUSTOMERS = [
    {"email": "zoe.muller@example.com", "first_name": "Zoë", "last_name": "Müller", "phone": "+1 416 555 0101",
     "currency": "CAD", "notes": "Prefers email invoices", "billing_address": TORONTO,
     "shipping": _shipping("Zoë Müller", "+1 416 555 0102", "Leave with concierge", TORONTO)},
    {"email": "francois.lefevre@example.com", "first_name": "François", "last_name": "Lefèvre",
     "phone": "+1 514 555 0110", "currency": "CAD", "billing_address": MONTREAL,
     "shipping": _shipping("François Lefèvre", None, "Sonner deux fois", MONTREAL)},
    {"email": "sofia.nunez@example.com", "first_name": "Sofía", "last_name": "Núñez", "company": "Núñez Café Ltd",
     "phone": "+1 613 555 0120", "website": "https://nunez-cafe.example.com", "currency": "CAD",
     "notes": "Wholesale account", "billing_address": OTTAWA,
     "shipping": _shipping("Núñez Café receiving", "+1 613 555 0121", "Loading dock at the back", OTTAWA)},
    {"email": "bjorn.asgeirsson@example.com", "first_name": "Björn", "last_name": "Ásgeirsson",
     "phone": "+1 718 555 0130", "currency": "USD", "billing_address": BROOKLYN,
     "shipping": _shipping("Björn Ásgeirsson", "+1 718 555 0131", None, BROOKLYN)},
    {"email": "aiko.tanaka@example.com", "first_name": "Aiko", "last_name": "Tanaka", "mobile": "+1 716 555 0140",
     "currency": "USD", "notes": "Gift wrap every order", "billing_address": BUFFALO,
     "shipping": _shipping("Aiko Tanaka", None, "Side door", BUFFALO)},
    {"email": "olu.adebayo@example.com", "first_name": "Olúwaseun", "last_name": "Adébáyọ̀", "phone": "+1 416 555 0150",
     "currency": "CAD", "billing_address": _address("9 Front St E", "Toronto", "ON", "M5E 1G4", "CA"),
     "shipping": _shipping("Seun Adébáyọ̀", "+1 416 555 0151", None, TORONTO)},
    # These two already exist in Wave (same email): the sync adopts them instead of duplicating.
    {"email": "Chloe.Dubois@example.com", "first_name": "Chloé", "last_name": "Dubois", "phone": "+1 514 555 0160",
     "currency": "CAD", "billing_address": MONTREAL,
     "shipping": _shipping("Chloé Dubois", "+1 514 555 0161", "Code 4321", MONTREAL)},
    {"email": "mateusz.wisniewski@example.com", "first_name": "Mateusz", "last_name": "Wiśniewski",
     "currency": "USD", "billing_address": BROOKLYN,
     "shipping": _shipping("Mateusz Wiśniewski", "+1 718 555 0171", None, BROOKLYN)},
]

WAVE_CUSTOMERS = [
    # Same emails as two shop customers (one in another letter case): adopted, Wave's extras filled in.
    {"name": "Chloé Dubois", "firstName": "Chloé", "lastName": "Dubois", "email": "chloe.dubois@example.com",
     "internalNotes": "Met at the Montréal trade fair"},
    {"name": "Mateusz Wiśniewski", "firstName": "Mateusz", "lastName": "Wiśniewski",
     "email": "mateusz.wisniewski@example.com", "phone": "+1 718 555 0170"},
    # Only in Wave: the reverse flow creates them in the shop.
    {"name": "Ærøskøbing Design ApS", "firstName": "Søren", "lastName": "Ærø", "email": "soren@aeroe-design.example.com",
     "phone": "+1 416 555 0180", "currency": "CAD",
     "address": {"addressLine1": "200 Bay St", "city": "Toronto", "provinceCode": "CA-ON", "postalCode": "M5J 2J2",
                 "countryCode": "CA"}},
    {"name": "Renée O'Connor", "firstName": "Renée", "lastName": "O'Connor", "email": "renee.oconnor@example.com",
     "mobile": "+1 212 555 0190", "currency": "USD", "internalNotes": "Invoice quarterly",
     "address": {"addressLine1": "350 5th Ave", "city": "New York", "provinceCode": "US-NY", "postalCode": "10118",
                 "countryCode": "US"}},
]


def seed_customers(shop, wave) -> dict[str, int]:
    """Shop customers, two of them already in Wave, and two Wave-only customers."""
    for customer in SHOP_CUSTOMERS:
        shop.create("customers", customer)
    if wave is None:
        return {"created_in_wave": len(SHOP_CUSTOMERS)}
    for customer in WAVE_CUSTOMERS:
        wave.create_customer(**customer)
    shop_emails = {c["email"].lower() for c in SHOP_CUSTOMERS}
    adopted = sum(1 for c in WAVE_CUSTOMERS if c["email"].lower() in shop_emails)
    return {"created_in_wave": len(SHOP_CUSTOMERS) - adopted, "adopted": adopted,
            "created_in_shop": len(WAVE_CUSTOMERS) - adopted}


def _shop_by_email(shop, email: str) -> dict:
    return next(c for c in shop.all("customers") if (c["email"] or "").lower() == email.lower())


def _wave_by_email(wave, email: str) -> dict:
    return next(c for c in wave.customers() if (c["email"] or "").lower() == email.lower())


def edit_customers(shop, wave) -> dict[str, int]:
    """Edits after the first settle; returns how many conflicts they should cause."""
    shop.update("customers", _shop_by_email(shop, "zoe.muller@example.com")["id"], {"phone": "+1 416 555 0199"})
    shop.update("customers", _shop_by_email(shop, "renee.oconnor@example.com")["id"],
                {"shipping": {"instructions": "Doorman accepts parcels"}})
    if wave is None:
        return {"conflicts": 0}
    wave.update_customer(_wave_by_email(wave, "aiko.tanaka@example.com")["id"], internalNotes="Gift wrap; no invoices in parcels")
    # Edited on both sides, in different fields: both edits survive.
    shop.update("customers", _shop_by_email(shop, "sofia.nunez@example.com")["id"], {"mobile": "+1 613 555 0129"})
    wave.update_customer(_wave_by_email(wave, "sofia.nunez@example.com")["id"], internalNotes="Wholesale; net 30")
    # Edited on both sides, in the same field: the later edit (Wave's) wins; one conflict is recorded.
    shop.update("customers", _shop_by_email(shop, "bjorn.asgeirsson@example.com")["id"], {"phone": "+1 718 555 0138"})
    time.sleep(0.01)  # millisecond timestamps: make "later" unambiguous
    wave.update_customer(_wave_by_email(wave, "bjorn.asgeirsson@example.com")["id"], phone="+1 718 555 0139")
    return {"conflicts": 1}


# ---------------------------------------------------------------------------------- products
SHOP_PRODUCTS = [
    # Already in Wave under the same exact name: adopted, the shop's description reaches Wave.
    {"sku": "MS-500", "name": "Maple Syrup 500 ml", "description": "Grade A amber, Québec", "price": "14.95",
     "currency": "CAD"},
    {"sku": "LT-100", "name": "Labrador Tea 100 g", "description": "Loose leaf, hand-picked in Nunavik", "price": "9.50",
     "currency": "CAD"},
    {"sku": "MUG-ST", "name": "Stoneware Mug", "description": "Wheel-thrown, 350 ml", "price": "24.00", "currency": "CAD"},
    {"sku": "TQ-WOOL", "name": "Wool Toque", "description": "Merino, one size", "price": "29.99", "currency": "CAD"},
    # Inactive: never created in Wave.
    {"sku": "SOAP-LV", "name": "Lavender Soap", "description": "Discontinued", "price": "6.25", "currency": "CAD",
     "active": False},
]
WAVE_PRODUCTS = [{"name": "Maple Syrup 500 ml", "unitPrice": "14.95"}]
NEW_PRODUCT = {"sku": "CNDL-BW", "name": "Beeswax Candle", "description": "Hand-poured, 40 h burn", "price": "18.00",
               "currency": "CAD"}


def seed_products(shop, wave) -> dict[str, int]:
    """Shop products, one of them already in Wave (same name), one inactive."""
    for product in SHOP_PRODUCTS:
        shop.create("products", product)
    active = [p for p in SHOP_PRODUCTS if p.get("active", True)]
    if wave is None:
        return {"created_in_wave": len(active), "inactive": len(SHOP_PRODUCTS) - len(active)}
    for product in WAVE_PRODUCTS:
        wave.create_product(**product)
    wave_names = {p["name"] for p in WAVE_PRODUCTS}
    adopted = sum(1 for p in active if p["name"] in wave_names)
    return {"created_in_wave": len(active) - adopted, "adopted": adopted,
            "inactive": len(SHOP_PRODUCTS) - len(active)}


def _shop_product(shop, sku: str) -> dict:
    return next(p for p in shop.all("products") if p["sku"] == sku)


def edit_products(shop, wave) -> dict[str, int]:
    """A new product (edit_orders puts it on a new order), a product made inactive in the shop
    (archived in Wave), a price edited in Wave."""
    shop.create("products", NEW_PRODUCT)
    shop.update("products", _shop_product(shop, "TQ-WOOL")["id"], {"active": False})
    if wave is None:
        return {"new": 1, "archived_in_wave": 1}
    tea = next(p for p in wave.products() if p["name"] == "Labrador Tea 100 g")
    wave.update_product(tea["id"], unitPrice="10.25")
    return {"new": 1, "archived_in_wave": 1, "price_edited_in_wave": 1}


# ---------------------------------------------------------------------------------- orders
def _line(product: dict, quantity: str, tax_rate: str | None = "0.13", **extra) -> dict:
    return {"product_id": product["id"], "quantity": quantity, "unit_price": product["price"], "tax_rate": tax_rate,
            **extra}


def _orders(shop) -> list[dict]:
    """The seeded orders (customers and products looked up in the shop); HST is "0.13" in Wave."""
    syrup, tea, mug, toque = (_shop_product(shop, sku) for sku in ("MS-500", "LT-100", "MUG-ST", "TQ-WOOL"))
    customer = {email: _shop_by_email(shop, email)["id"] for email in
                ("zoe.muller@example.com", "sofia.nunez@example.com", "olu.adebayo@example.com",
                 "francois.lefevre@example.com")}
    return [
        # Paid in Wave after the first settle.
        {"customer_id": customer["zoe.muller@example.com"], "currency": "CAD", "order_date": "2026-11-02",
         "note": "Gift note: joyeuses fêtes !", "lines": [_line(syrup, "2"), _line(mug, "1")]},
        # A line discount (5% on the tea); edited in the shop after the first settle.
        {"customer_id": customer["sofia.nunez@example.com"], "currency": "CAD", "order_date": "2026-11-03",
         "po_number": "NC-2041", "note": "Wholesale restock",
         "lines": [_line(tea, "12", discount="5.70"), _line(syrup, "6")]},
        # An order discount, after tax.
        {"customer_id": customer["olu.adebayo@example.com"], "currency": "CAD", "order_date": "2026-11-04",
         "lines": [_line(mug, "2"), _line(toque, "1")], "order_discount": "10.00"},
        # One line without tax (zero-rated food); cancelled in the shop while its invoice is a draft.
        {"customer_id": customer["francois.lefevre@example.com"], "currency": "CAD", "order_date": "2026-11-05",
         "lines": [_line(tea, "3", tax_rate=None), _line(syrup, "1")]},
    ]


def seed_orders(shop, wave) -> dict[str, int]:
    """Orders of seeded customers: several lines, HST on most, a line discount, an order discount."""
    orders = [shop.create("orders", order) for order in _orders(shop)]
    return {"created_in_wave": len(orders)}


def _order(shop, customer_email: str) -> dict:
    customer = _shop_by_email(shop, customer_email)["id"]
    return next(o for o in shop.all("orders") if o["customer_id"] == customer)


def _invoice(wave, order: dict) -> dict:
    return next(i for i in wave.invoices() if i["invoiceNumber"] == order["number"])


def edit_orders(shop, wave) -> dict[str, int]:
    """A new order on the new product, an order edited, one cancelled; an invoice paid in Wave."""
    candle = _shop_product(shop, NEW_PRODUCT["sku"])
    new = shop.create("orders", {"customer_id": _shop_by_email(shop, "Chloe.Dubois@example.com")["id"],
                                 "currency": "CAD", "order_date": "2026-11-20", "note": "Pick up in store",
                                 "lines": [_line(candle, "2"), _line(_shop_product(shop, "MS-500"), "1")]})
    shop.update("orders", new["id"], {"payment_status": "paid", "amount_paid": new["total"]})  # paid at checkout
    edited = _order(shop, "sofia.nunez@example.com")
    tea_line, syrup_line = edited["lines"]
    shop.update("orders", edited["id"], {"note": "Wholesale restock; deliver Tuesday",
                                         "lines": [{"id": tea_line["id"]}, {"id": syrup_line["id"], "quantity": "8"}]})
    shop.update("orders", _order(shop, "francois.lefevre@example.com")["id"], {"status": "cancelled"})
    result = {"new": 1, "paid_at_checkout": 1, "edited_in_shop": 1, "cancelled_in_shop": 1}
    if wave is None:
        return result
    invoice = _invoice(wave, _order(shop, "zoe.muller@example.com"))
    wave.approve_invoice(invoice["id"])
    wave.record_payment(invoice["id"], invoice["amountDue"]["value"], method="CHEQUE", memo="Cheque 1042")
    return {**result, "paid_in_wave": 1}


def payments_shown(shop, wave) -> list[str]:
    """What the merchant sees of the two paid orders once synced: the one paid at checkout in
    Wave, the one paid by cheque in Wave in the shop."""
    checkout = _order(shop, "Chloe.Dubois@example.com")
    cheque = _order(shop, "zoe.muller@example.com")
    paid_online, paid_by_cheque = _invoice(wave, checkout), _invoice(wave, cheque)
    return [f"order {checkout['number']} paid at checkout ({checkout['amount_paid']}): Wave invoice "
            f"{paid_online['status']}, {paid_online['amountPaid']['value']} paid",
            f"invoice {paid_by_cheque['invoiceNumber']} paid by cheque in Wave ({paid_by_cheque['amountPaid']['value']}): "
            f"webshop order {cheque['payment_status']}, amount paid {cheque['amount_paid']}"]


SEEDS = {"customers": (seed_customers, edit_customers), "products": (seed_products, edit_products),
         "orders": (seed_orders, edit_orders)}


def seed_all(shop, wave) -> dict[str, dict[str, int]]:
    return {entity: seed(shop, wave) for entity, (seed, _edit) in SEEDS.items()}


def edit_all(shop, wave) -> dict[str, dict[str, int]]:
    return {entity: edit(shop, wave) for entity, (_seed, edit) in SEEDS.items()}
