"""Merchant data the rule tests start from (created as the merchant would, in each system's own admin)."""
from __future__ import annotations

ADA = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "phone": "+1 416 555 0100",
       "currency": "CAD", "notes": "VIP",
       "billing_address": {"line1": "1 King St W", "city": "Toronto", "region": "ON", "postal_code": "M5H 1A1",
                           "country": "CA"}}
WIDGET = {"sku": "W-1", "name": "Widget", "price": "19.99", "currency": "CAD"}
GADGET = {"sku": "G-1", "name": "Gadget", "price": "5.00", "currency": "CAD"}


def seed_order(world, *, lines=None, **overrides):
    """A customer, two products and an order of both, none synced yet: (customer, widget, gadget, order)."""
    customer = world.shop.create("customers", {k: ADA[k] for k in ("email", "first_name", "last_name", "currency")})
    widget = world.shop.create("products", WIDGET)
    gadget = world.shop.create("products", GADGET)
    order = world.shop.create("orders", {
        "customer_id": customer["id"], "currency": "CAD", "order_date": "2026-11-20", "po_number": "PO-7",
        "note": "Leave at the door",
        "lines": lines or [
            {"product_id": widget["id"], "quantity": "3", "unit_price": "19.99", "discount": "2.00", "tax_rate": "0.13"},
            {"product_id": gadget["id"], "quantity": "1.5", "unit_price": "5.00", "tax_rate": None}],
        **overrides})
    return customer, widget, gadget, order
