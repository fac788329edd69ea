"""The random operations of the chaos suite, on both sides, and what they need to know of
each other (which records exist, which are in use, which invoices are paid)."""
from __future__ import annotations

import random
from decimal import Decimal

from devstack.webshop_sandbox.errors import ApiError
from shopwave.mapping.context import SyncContext
from shopwave.flows.orders import ORDER
from shopwave.mapping import SHOP, state_hash
from devstack.wave_sandbox.errors import InputErrors

ADDRESS = {"line1": "1 Main St", "city": "Toronto", "region": "ON", "postal_code": "M5V 1A1", "country": "CA"}


class World:
    """Creates and edits records in the webshop and in Wave directly (as people would), keeping
    the choices to those a person could make: an order uses live customers and active products,
    only unused customers and products are deleted or deactivated, a paid order is not edited."""

    def __init__(self, stack, rng: random.Random, process):
        self.stack, self.rng, self.process = stack, rng, process
        self.n = 0
        self.customers: list[str] = []
        self.products: list[str] = []
        self.orders: list[str] = []
        self.gone: set[str] = set()  # deleted customers, inactive products, cancelled orders
        self.used: set[str] = set()  # customers and products some order refers to
        self.paid: set[str] = set()  # orders whose invoice has a payment in Wave
        self.shop_took: dict[str, Decimal] = {}  # what the webshop itself took for an order, refunds taken off
        self.skipped = 0  # ops that had nothing to act on

    # -- helpers ----------------------------------------------------------------------------
    def _next(self) -> int:
        self.n += 1
        return self.n

    def _pick(self, ids, exclude=()):
        choices = [i for i in ids if i not in self.gone and i not in exclude]
        return self.rng.choice(choices) if choices else None

    def _wave_id(self, entity: str, shop_id: str) -> str | None:
        link = self.process().store.get_link(entity, "shop", shop_id)
        return link.wave_id if link is not None and link.status == "active" else None

    def _in_step(self, order: dict, link) -> bool:
        """The order as the sync last agreed it (so nothing of it is on its way to Wave)."""
        rt = self.process()
        try:
            state = ORDER.mapping.canonical(SHOP, order, SyncContext(rt.store, rt.engine.catalog, rt.engine.options))
        except Exception:  # noqa: BLE001 - cannot tell: do not pay
            return False
        return state_hash(state) == link.state_hash

    def _money(self, low=1, high=200) -> str:
        return f"{self.rng.randint(low * 100, high * 100) / 100:.2f}"

    # -- the webshop ------------------------------------------------------------------------
    def create_customer(self):
        n = self._next()
        data = {"email": f"c{n}@example.com", "first_name": f"First{n}", "last_name": f"Last{n}", "currency": "CAD"}
        if self.rng.random() < 0.3:
            data["company"] = f"Company {n}"
        if self.rng.random() < 0.5:
            data["billing_address"] = dict(ADDRESS)
        self.customers.append(self.stack.shop.create("customers", data)["id"])

    def create_product(self):
        n = self._next()
        data = {"sku": f"SKU-{n}", "name": f"Product {n}", "price": self._money(), "currency": "CAD",
                "description": self.rng.choice([None, f"Desc {n}"])}
        self.products.append(self.stack.shop.create("products", data)["id"])

    def create_order(self):
        customer = self._pick(self.customers)
        products = [p for p in self.products if p not in self.gone]
        if customer is None or not products:
            return self.create_customer() if customer is None else self.create_product()
        lines = []
        for product in self.rng.sample(products, min(len(products), self.rng.randint(1, 3))):
            line = {"product_id": product, "quantity": self.rng.choice(["1", "2", "3", "1.5"]),
                    "unit_price": self._money(), "tax_rate": self.rng.choice([None, "0.13"])}
            if self.rng.random() < 0.3:
                line["discount"] = "0.50"
            lines.append(line)
            self.used.add(product)
        data = {"customer_id": customer, "currency": "CAD", "order_date": "2026-11-20", "lines": lines,
                "note": self.rng.choice([None, "Leave at the door"])}
        if self.rng.random() < 0.3:
            data["order_discount"] = "1.00"
        self.used.add(customer)
        order = self.stack.shop.create("orders", data)
        self.orders.append(order["id"])
        if self.rng.random() < 0.3:  # paid at checkout
            self._shop_pays(order, Decimal(order["total"]))

    def _shop_pays(self, order: dict, amount: Decimal) -> None:
        paid = Decimal(order["amount_paid"]) + amount
        status = "paid" if paid >= Decimal(order["total"]) else "partially_paid"
        self.stack.shop.update("orders", order["id"], {"payment_status": status, "amount_paid": str(paid)})
        self.shop_took[order["id"]] = self.shop_took.get(order["id"], Decimal(0)) + amount
        self.paid.add(order["id"])  # an invoice with payments takes no more edits

    def _unrefunded_order(self, pool) -> dict | None:
        """A live order from `pool` the shop has not refunded (None, counted as skipped, if none)."""
        target = self._pick(pool)
        order = self.stack.shop.get("orders", target) if target is not None else None
        if order is None or order["payment_status"] == "refunded":
            self.skipped += 1
            return None
        return order

    def pay_in_shop(self):
        """The customer pays (part of) an order in the webshop after checkout."""
        order = self._unrefunded_order(self.orders)
        if order is None:
            return
        due = Decimal(order["total"]) - Decimal(order["amount_paid"])
        amount = due if due > 0 and self.rng.random() < 0.5 else Decimal(self._money(1, 20))
        self._shop_pays(order, amount)

    def refund_in_shop(self):
        """The merchant refunds in the webshop what it took there: all of it, or half."""
        order = self._unrefunded_order([o for o in self.orders if self.shop_took.get(o)])
        if order is None:
            return
        target = order["id"]
        if self.rng.random() < 0.5:
            self.stack.shop.update("orders", target, {"payment_status": "refunded"})
            self.shop_took[target] = Decimal(0)
            return
        back = (self.shop_took[target] / 2).quantize(Decimal("0.01"))
        left = Decimal(order["amount_paid"]) - back
        self.stack.shop.update("orders", target, {"amount_paid": str(left),
                                                  "payment_status": "partially_paid" if left > 0 else "unpaid"})
        self.shop_took[target] -= back

    def edit_shop_mapped(self):
        kind = self.rng.choice(["customers", "products", "orders"])
        n = self._next()
        if kind == "customers":
            target = self._pick(self.customers)
            change = self.rng.choice([{"phone": f"+1 416 555 {n:04d}"}, {"first_name": f"Renamed{n}"},
                                      {"notes": f"note {n}"}, {"email": f"c{n}@example.com"},
                                      {"billing_address": {**ADDRESS, "city": f"City {n}"}}])
        elif kind == "products":
            target = self._pick(self.products)
            change = self.rng.choice([{"price": self._money()}, {"description": f"Desc {n}"}, {"name": f"Product {n}"}])
        else:
            target = self._pick(self.orders, exclude=self.paid)
            change = self.rng.choice([{"note": f"note {n}"}, {"po_number": f"PO-{n}"}, {"due_date": "2027-01-15"},
                                      {"order_discount": self.rng.choice(["0.00", "2.00"])}])
        self._shop_update(kind, target, change)

    def edit_shop_unmapped(self):
        if self.rng.random() < 0.5:
            target = self._pick(self.products)
            change = self.rng.choice([{"currency": self.rng.choice(["USD", "CAD"])}, {"sku": f"SKU-X{self._next()}"}])
            self._shop_update("products", target, change)
        else:
            target = self._pick(self.orders)
            self._shop_update("orders", target, {"status": self.rng.choice(["processing", "completed", "pending"])})

    def _shop_update(self, resource, record_id, change):
        if record_id is None:
            self.skipped += 1
            return
        self.stack.shop.update(resource, record_id, change)

    def delete_customer(self):
        target = self._pick(self.customers, exclude=self.used)
        if target is None:
            self.skipped += 1
            return
        self.stack.shop.delete("customers", target)
        self.gone.add(target)

    def retire_product(self):
        target = self._pick(self.products, exclude=self.used)
        if target is None:
            self.skipped += 1
            return
        if self.rng.random() < 0.5:
            self.stack.shop.delete("products", target)
        else:
            self.stack.shop.update("products", target, {"active": False})
        self.gone.add(target)

    def cancel_order(self):
        target = self._pick(self.orders)
        if target is None:
            self.skipped += 1
            return
        self.stack.shop.update("orders", target, {"status": "cancelled"})
        self.gone.add(target)

    # -- Wave -------------------------------------------------------------------------------
    def create_wave_customer(self):
        """A customer entered in Wave first: the sync creates it in the webshop."""
        n = self._next()
        self.stack.wave.create_customer(name=f"Wave Co {n}", firstName=f"Wfirst{n}", lastName=f"Wlast{n}",
                                        email=f"w{n}@example.com", phone=self.rng.choice([None, f"+1 613 555 {n:04d}"]))

    def _linked(self, kind):
        """A random unpaid record of `kind` that has a Wave counterpart: (record, wave id), or None."""
        pool = {"customer": self.customers, "product": self.products, "order": self.orders}[kind]
        target = self._pick(pool, exclude=self.paid)
        wave_id = self._wave_id(kind, target) if target else None
        if wave_id is None:
            self.skipped += 1
            return None
        return target, wave_id

    def edit_wave(self):
        kind = self.rng.choice(["customer", "product", "order"])
        linked = self._linked(kind)
        if linked is None:
            return
        _, wave_id = linked
        n, wave = self._next(), self.stack.wave
        try:
            if kind == "customer":
                wave.update_customer(wave_id, **self.rng.choice([{"phone": f"+1 905 555 {n:04d}"}, {"internalNotes": f"wave {n}"}]))
            elif kind == "product":
                wave.update_product(wave_id, **self.rng.choice([{"unitPrice": self._money()}, {"description": f"Wave {n}"}]))
            else:
                wave.update_invoice(wave_id, **self.rng.choice([{"memo": f"memo {n}"}, {"dueDate": "2027-02-01"}]))
        except InputErrors:
            self.skipped += 1  # e.g. the product is archived: Wave refuses, as it would a person

    def edit_both_sides(self):
        """The same record edited in both systems before any sync: the later edit must win everywhere."""
        self.edit_wave_and_shop_same_field(self.rng.choice(["customer", "product", "order"]))

    def edit_wave_and_shop_same_field(self, kind):
        linked = self._linked(kind)
        if linked is None:
            return
        target, wave_id = linked
        n = self._next()
        steps = [lambda: None, lambda: None]
        if kind == "customer":
            steps = [lambda: self.stack.shop.update("customers", target, {"phone": f"+1 416 555 {n:04d}"}),
                     lambda: self.stack.wave.update_customer(wave_id, phone=f"+1 905 555 {n:04d}")]
        elif kind == "product":
            steps = [lambda: self.stack.shop.update("products", target, {"price": self._money()}),
                     lambda: self.stack.wave.update_product(wave_id, unitPrice=self._money())]
        else:
            steps = [lambda: self.stack.shop.update("orders", target, {"note": f"shop {n}"}),
                     lambda: self.stack.wave.update_invoice(wave_id, memo=f"wave {n}")]
        self.rng.shuffle(steps)
        try:
            for step in steps:
                step()
        except (InputErrors, ApiError):
            self.skipped += 1

    def delete_wave_invoice(self):
        """An order cancelled in the webshop whose invoice someone already deleted in Wave: the
        sync finds it gone (NOT_FOUND, or null) and closes the link by the delete policy."""
        linked = self._linked("order")
        if linked is None:
            return
        target, wave_id = linked
        try:
            self.stack.wave.delete_invoice(wave_id)
        except InputErrors:
            self.skipped += 1  # gone already, or Wave will not delete it (payments)
            return
        self.stack.shop.update("orders", target, {"status": "cancelled"})
        self.gone.add(target)

    def pay_invoice(self):
        """Approve (if a draft) and pay all or part of an invoice whose order is fully synced."""
        target = self._pick(self.orders)
        if target is None:
            self.skipped += 1
            return
        link = self.process().store.get_link("order", "shop", target)
        if link is None or link.status != "active" or not self._in_step(self.stack.shop.get("orders", target), link):
            self.skipped += 1  # a shop edit not in Wave yet: Wave would refuse it once paid
            return
        invoice = self.stack.wave.get_invoice(link.wave_id)
        if invoice is None or invoice["status"] not in ("DRAFT", "SAVED", "UNPAID", "SENT", "PARTIAL"):
            self.skipped += 1
            return
        if invoice["status"] in ("DRAFT", "SAVED"):
            self.stack.wave.approve_invoice(invoice["id"])
        due = Decimal(invoice["amountDue"]["value"])
        if due <= 0:
            self.skipped += 1
            return
        amount = due if self.rng.random() < 0.5 else (due / 2).quantize(Decimal("0.01"))
        if self.rng.random() < 0.1:
            amount += 5  # the customer overpays (OVERPAID)
        self.stack.wave.record_payment(invoice["id"], str(amount), method="CHEQUE")
        self.paid.add(target)
