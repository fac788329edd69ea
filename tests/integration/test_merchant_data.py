"""Ordinary merchant data that once went wrong: untaxed lines, person names in Wave's display
name, an order discount the contract has no field for, and defaults Wave fills in on create."""
from __future__ import annotations

from decimal import Decimal

from devstack.convergence import check

CUSTOMER = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "currency": "CAD"}


def linked(stack, entity, shop_id):
    return stack.store.get_link(entity, "shop", shop_id)


def wave_customer_of(stack, shop_id):
    return stack.wave.get_customer(linked(stack, "customer", shop_id).wave_id)


def invoice_of(stack, order):
    return stack.wave.get_invoice(linked(stack, "order", order["id"]).wave_id)


def assert_settled_and_converged(stack):
    stack.settle()
    stack.reset_counters()
    stack.settle()
    assert stack.wave_writes() == 0 and stack.shop_writes() == 0
    findings = check(stack.runtime)
    assert findings.ok, findings.summary()


# -- untaxed lines -------------------------------------------------------------------------
def _products(stack):
    mug = stack.shop.create("products", {"sku": "M-1", "name": "Mug", "price": "12.00", "currency": "CAD"})
    book = stack.shop.create("products", {"sku": "B-1", "name": "Book", "price": "20.00", "currency": "CAD"})
    return mug, book


def test_given_an_order_mixing_taxed_and_untaxed_lines_when_synced_then_it_is_invoiced_with_tax_only_where_the_shop_charges_it(stack):
    customer = stack.shop.create("customers", CUSTOMER)
    mug, book = _products(stack)
    order = stack.shop.create("orders", {
        "customer_id": customer["id"], "currency": "CAD", "order_date": "2026-11-20",
        "lines": [{"product_id": mug["id"], "quantity": "2", "unit_price": "12.00", "tax_rate": "0.13"},
                  {"product_id": book["id"], "quantity": "1", "unit_price": "20.00", "tax_rate": "0"},
                  {"product_id": book["id"], "quantity": "1", "unit_price": "20.00"}]})

    report = stack.run("order_to_wave")

    assert report.created == 1 and report.parked == 0, report
    invoice = invoice_of(stack, order)
    assert [bool(item["taxes"]) for item in invoice["items"]] == [True, False, False]
    assert Decimal(invoice["taxTotal"]["value"]) == Decimal(order["tax_total"]) == Decimal("3.12")
    assert Decimal(invoice["total"]["value"]) == Decimal(order["total"])
    assert_settled_and_converged(stack)


def test_given_an_order_with_no_tax_at_all_when_synced_then_its_invoice_has_no_tax(stack):
    customer = stack.shop.create("customers", CUSTOMER)
    mug, book = _products(stack)
    order = stack.shop.create("orders", {
        "customer_id": customer["id"], "currency": "CAD", "order_date": "2026-11-20",
        "lines": [{"product_id": mug["id"], "quantity": "1", "unit_price": "12.00", "tax_rate": "0"},
                  {"product_id": book["id"], "quantity": "3", "unit_price": "20.00", "tax_rate": "0.000"}]})

    report = stack.run("order_to_wave")

    assert report.created == 1 and report.parked == 0 and stack.store.parked("order_to_wave") == [], report
    invoice = invoice_of(stack, order)
    assert all(item["taxes"] == [] for item in invoice["items"])
    assert Decimal(invoice["taxTotal"]["value"]) == 0 and Decimal(invoice["total"]["value"]) == Decimal("72.00")
    assert_settled_and_converged(stack)


# -- Wave's display name and the shop's company ----------------------------------------------
def test_given_a_person_renamed_in_the_shop_when_synced_both_ways_then_wave_name_follows_and_no_company_appears(stack):
    customer = stack.shop.create("customers", CUSTOMER)
    stack.settle()
    assert wave_customer_of(stack, customer["id"])["name"] == "Ada Lovelace"

    stack.shop.update("customers", customer["id"], {"first_name": "Augusta"})
    stack.settle()

    shop = stack.shop.get("customers", customer["id"])
    wave = wave_customer_of(stack, customer["id"])
    assert shop["company"] is None and shop["first_name"] == "Augusta"
    assert (wave["name"], wave["firstName"]) == ("Augusta Lovelace", "Augusta")
    assert_settled_and_converged(stack)


def test_given_a_wave_customer_named_like_a_business_when_adopted_for_a_shop_customer_without_company_then_the_shop_gets_no_company(stack):
    existing = stack.wave.create_customer(name="Northwind Traders", email="ada@example.com")
    customer = stack.shop.create("customers", CUSTOMER)

    report = stack.run("customer_to_wave")

    assert report.adopted == 1 and report.created == 0
    stack.settle()
    assert stack.shop.get("customers", customer["id"])["company"] is None
    wave = stack.wave.get_customer(existing["id"])
    assert wave["name"] == "Northwind Traders"  # the merchant's own name for it stays in Wave
    assert (wave["firstName"], wave["lastName"]) == ("Ada", "Lovelace")  # the shop's person filled in
    assert_settled_and_converged(stack)


def test_given_a_customer_without_company_when_renamed_in_wave_then_the_name_stays_in_wave_without_bouncing(stack):
    customer = stack.shop.create("customers", CUSTOMER)
    stack.settle()
    wave_id = linked(stack, "customer", customer["id"]).wave_id

    stack.wave.update_customer(wave_id, name="Lovelace Consulting")
    stack.settle()

    assert stack.shop.get("customers", customer["id"])["company"] is None
    assert stack.wave.get_customer(wave_id)["name"] == "Lovelace Consulting"
    assert_settled_and_converged(stack)


def test_given_a_customer_with_a_company_when_renamed_in_wave_then_the_company_follows(stack):
    customer = stack.shop.create("customers", {**CUSTOMER, "company": "Analytical Engines"})
    stack.settle()
    wave_id = linked(stack, "customer", customer["id"]).wave_id
    assert stack.wave.get_customer(wave_id)["name"] == "Analytical Engines"

    stack.wave.update_customer(wave_id, name="Analytical Engines Ltd")
    stack.settle()

    assert stack.shop.get("customers", customer["id"])["company"] == "Analytical Engines Ltd"
    assert_settled_and_converged(stack)


# -- the order discount: not a contract field ------------------------------------------------
def _discounted_order(stack):
    customer = stack.shop.create("customers", CUSTOMER)
    mug, book = _products(stack)
    # the merchant's coupon (the shop's own admin, not the sync contract): 5.00 off the order
    order = stack.shop.create("orders", {
        "customer_id": customer["id"], "currency": "CAD", "order_date": "2026-11-20", "order_discount": "5.00",
        "lines": [{"product_id": mug["id"], "quantity": "2", "unit_price": "12.00", "discount": "1.00", "tax_rate": "0.13"},
                  {"product_id": book["id"], "quantity": "1", "unit_price": "20.00"}]})
    assert Decimal(order["discount_total"]) == Decimal("6.00")  # 1.00 on a line + 5.00 on the order
    return order


def test_given_an_order_discount_when_invoiced_then_wave_carries_it_as_one_discount_item_and_totals_agree(stack):
    order = _discounted_order(stack)

    stack.run("order_to_wave")

    invoice = invoice_of(stack, order)
    [discount] = [item for item in invoice["items"] if item["description"] == "Order discount"]
    assert Decimal(discount["unitPrice"]) * Decimal(discount["quantity"]) == Decimal("-5.00")
    assert Decimal(invoice["total"]["value"]) == Decimal(order["total"])
    assert_settled_and_converged(stack)


def test_given_an_invoice_line_edited_in_wave_when_synced_then_the_order_lines_follow_and_its_order_discount_stays(stack):
    order = _discounted_order(stack)
    stack.settle()
    invoice = invoice_of(stack, order)
    items = [{"productId": item["product"]["id"], "description": item["description"],
              "quantity": "3" if index == 1 else item["quantity"], "unitPrice": item["unitPrice"],
              "taxes": [{"salesTaxId": tax["salesTax"]["id"]} for tax in item["taxes"]]}
             for index, item in enumerate(invoice["items"])]
    stack.wave.update_invoice(invoice["id"], items=items)

    report = stack.run("invoice_to_webshop")

    assert report.updated == 1 and report.parked == 0, report
    after = stack.shop.get("orders", order["id"])
    assert [line["quantity"] for line in after["lines"]] == ["2", "3"]
    assert Decimal(after["discount_total"]) == Decimal("6.00")  # the merchant's coupon is untouched
    assert Decimal(after["total"]) == Decimal(invoice_of(stack, order)["total"]["value"])
    assert_settled_and_converged(stack)


def test_given_the_order_discount_changed_in_wave_when_synced_then_the_shop_keeps_its_own_and_the_difference_is_reported(stack):
    order = _discounted_order(stack)
    stack.settle()
    invoice = invoice_of(stack, order)
    items = [{"productId": item["product"]["id"], "description": item["description"], "quantity": item["quantity"],
              "unitPrice": "-8.00" if item["description"] == "Order discount" else item["unitPrice"],
              "taxes": [{"salesTaxId": tax["salesTax"]["id"]} for tax in item["taxes"]]}
             for item in invoice["items"]]
    stack.wave.update_invoice(invoice["id"], items=items)
    stack.reset_counters()

    report = stack.run("invoice_to_webshop")

    assert stack.shop_writes() == 0 and report.parked == 0  # the contract has no field to carry it
    assert stack.shop.get("orders", order["id"])["total"] == order["total"]
    assert [c["field"] for c in stack.store.conflicts("order")] == ["@verify"]  # never a silent mismatch
    assert stack.run("order_to_wave").writes == 0  # and the shop's discount is not pushed back over Wave's edit


# -- defaults Wave fills in on create --------------------------------------------------------
def test_given_customers_without_a_currency_when_backfilled_then_each_costs_exactly_one_write(stack):
    sparse = [stack.shop.create("customers", {"email": f"sparse{i}@example.com"}) for i in range(4)]
    full = [stack.shop.create("customers", {**CUSTOMER, "email": f"full{i}@example.com"}) for i in range(2)]

    stack.settle()

    assert stack.wave_writes() == 6 and stack.shop_writes() == 0
    assert all(wave_customer_of(stack, c["id"])["currency"]["code"] == "CAD" for c in sparse)  # Wave's default
    assert all(stack.shop.get("customers", c["id"])["currency"] is None for c in sparse)  # not written back
    assert len(full) == 2
    assert_settled_and_converged(stack)


def test_given_a_wave_default_absorbed_when_the_merchant_later_changes_that_field_in_wave_then_it_reaches_the_shop(stack):
    customer = stack.shop.create("customers", {"email": "sparse@example.com"})
    stack.settle()
    wave_id = linked(stack, "customer", customer["id"]).wave_id

    stack.wave.update_customer(wave_id, currency="USD")
    stack.settle()

    assert stack.shop.get("customers", customer["id"])["currency"] == "USD"
    assert_settled_and_converged(stack)


def test_given_a_wave_default_absorbed_when_the_merchant_sets_that_field_in_the_shop_then_it_reaches_wave(stack):
    customer = stack.shop.create("customers", {"email": "sparse@example.com"})
    stack.settle()

    stack.shop.update("customers", customer["id"], {"currency": "EUR"})
    stack.settle()

    assert wave_customer_of(stack, customer["id"])["currency"]["code"] == "EUR"
    assert_settled_and_converged(stack)


# -- a customer archived in Wave -------------------------------------------------------------
def test_given_a_customer_archived_in_wave_when_the_shop_edits_them_then_the_edit_still_reaches_wave(stack):
    customer = stack.shop.create("customers", CUSTOMER)
    stack.settle()
    wave_id = linked(stack, "customer", customer["id"]).wave_id
    stack.wave.archive_customer(wave_id)
    stack.settle()  # archiving in Wave deletes nothing in the shop and stops nothing
    assert stack.shop.get("customers", customer["id"])["deleted"] is False

    stack.shop.update("customers", customer["id"], {"phone": "+1 416 555 0199"})
    stack.settle()

    wave = stack.wave.get_customer(wave_id)
    assert wave["isArchived"] and wave["phone"] == "+1 416 555 0199"
    assert linked(stack, "customer", customer["id"]).status == "active"
    assert_settled_and_converged(stack)


def test_given_an_archived_wave_customer_nobody_linked_when_synced_then_no_shop_customer_is_created_for_it(stack):
    gone = stack.wave.create_customer(name="Old Client", email="old@example.com")
    stack.wave.archive_customer(gone["id"])

    stack.settle()

    assert [c["email"] for c in stack.shop.all("customers")] == []
