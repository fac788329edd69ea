"""Ordinary merchant data on the in-memory systems: defaults Wave fills in, Wave's own name
for a customer, taxed and untaxed lines, discounts, payments."""
from __future__ import annotations

from decimal import Decimal

from tests.memory import world  # noqa: F401 - fixture
from tests.memory.seeds import seed_order

PERSON = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "currency": "CAD"}


# -- defaults Wave fills in on create --------------------------------------------------------
def test_given_customers_without_a_currency_when_backfilled_then_each_costs_one_wave_write_and_none_to_the_shop(world):
    sparse = [world.shop.create("customers", {"email": f"sparse{i}@example.com"}) for i in range(3)]

    world.settle()

    assert world.wave_writes == 3 and world.shop_writes == 0
    assert all(world.wave_record("customer", c["id"])["currency"]["code"] == "CAD" for c in sparse)  # Wave's default
    assert all(world.shop.get("customers", c["id"])["currency"] is None for c in sparse)  # not written back
    assert world.settles_quietly()


def test_given_a_wave_default_absorbed_when_the_merchant_later_changes_it_in_wave_then_it_reaches_the_shop(world):
    customer = world.shop.create("customers", {"email": "sparse@example.com"})
    world.settle()

    world.wave.update_customer(world.link("customer", customer["id"]).wave_id, currency="USD")
    world.settle()

    assert world.shop.get("customers", customer["id"])["currency"] == "USD"
    assert world.settles_quietly()


# -- Wave's display name and the shop's company ----------------------------------------------
def test_given_a_customer_without_company_renamed_in_wave_when_synced_then_the_name_stays_in_wave_and_no_company_appears(world):
    customer = world.shop.create("customers", PERSON)
    world.settle()
    wave_id = world.link("customer", customer["id"]).wave_id

    world.wave.update_customer(wave_id, name="Lovelace Consulting")
    world.settle()

    assert world.shop.get("customers", customer["id"])["company"] is None
    assert world.wave.get_customer(wave_id)["name"] == "Lovelace Consulting"
    assert world.settles_quietly()


def test_given_a_wave_customer_named_like_a_business_when_adopted_for_a_person_then_the_shop_gets_no_company(world):
    existing = world.wave.create_customer(name="Northwind Traders", email="ada@example.com")
    customer = world.shop.create("customers", PERSON)

    world.settle()

    assert world.shop.get("customers", customer["id"])["company"] is None
    wave = world.wave.get_customer(existing["id"])
    assert wave["name"] == "Northwind Traders" and (wave["firstName"], wave["lastName"]) == ("Ada", "Lovelace")
    assert world.settles_quietly()


def test_given_a_customer_with_a_company_renamed_in_wave_when_synced_then_the_company_follows(world):
    customer = world.shop.create("customers", {**PERSON, "company": "Analytical Engines"})
    world.settle()

    world.wave.update_customer(world.link("customer", customer["id"]).wave_id, name="Analytical Engines Ltd")
    world.settle()

    assert world.shop.get("customers", customer["id"])["company"] == "Analytical Engines Ltd"


def test_given_a_person_renamed_in_the_shop_when_synced_then_the_derived_wave_name_follows(world):
    customer = world.shop.create("customers", PERSON)
    world.settle()

    world.shop.update("customers", customer["id"], {"first_name": "Augusta"})
    world.settle()

    assert world.wave_record("customer", customer["id"])["name"] == "Augusta Lovelace"
    assert world.shop.get("customers", customer["id"])["company"] is None


# -- taxes, discounts, payments --------------------------------------------------------------
def test_given_an_order_mixing_taxed_and_untaxed_lines_when_invoiced_then_only_the_taxed_line_carries_tax(world):
    customer, widget, gadget, _ = seed_order(world)  # and another order, taxed throughout
    order = world.shop.create("orders", {
        "customer_id": customer["id"], "currency": "CAD", "order_date": "2026-11-20",
        "lines": [{"product_id": widget["id"], "quantity": "2", "unit_price": "12.00", "tax_rate": "0.13"},
                  {"product_id": gadget["id"], "quantity": "1", "unit_price": "20.00", "tax_rate": "0"},
                  {"product_id": gadget["id"], "quantity": "1", "unit_price": "20.00"}]})

    world.settle()

    invoice = world.wave_record("order", order["id"])
    assert [bool(item["taxes"]) for item in invoice["items"]] == [True, False, False]
    assert Decimal(invoice["taxTotal"]["value"]) == Decimal(order["tax_total"]) == Decimal("3.12")
    assert Decimal(invoice["total"]["value"]) == Decimal(order["total"])
    assert world.store.conflicts("order") == [] and world.settles_quietly()


def test_given_an_order_line_taxed_at_a_rate_wave_has_no_tax_for_when_synced_then_it_is_parked_naming_the_setting(world):
    customer, widget, _, _ = seed_order(world)
    order = world.shop.create("orders", {
        "customer_id": customer["id"], "currency": "CAD", "order_date": "2026-11-20",
        "lines": [{"product_id": widget["id"], "quantity": "1", "unit_price": "19.99", "tax_rate": "0.07"}]})

    world.run("order_to_wave")

    parked = {p.source_id: p for p in world.store.parked("order_to_wave")}
    assert "SALES_TAX_MAP" in parked[order["id"]].reason
    assert world.link("order", order["id"]) is None


def test_given_an_order_discount_when_invoiced_then_wave_carries_it_as_one_discount_item_and_the_totals_agree(world):
    _, _, _, order = seed_order(world, order_discount="5.00")

    world.settle()

    invoice = world.wave_record("order", order["id"])
    [discount] = [i for i in invoice["items"] if i["description"] == "Order discount"]
    assert Decimal(discount["unitPrice"]) == Decimal("-5")
    assert Decimal(invoice["total"]["value"]) == Decimal(order["total"])
    assert world.settles_quietly()


def test_given_an_invoice_paid_in_wave_when_synced_then_the_order_is_paid_and_nothing_goes_back_to_wave(world):
    _, _, _, order = seed_order(world)
    world.settle()
    invoice = world.wave_record("order", order["id"])
    world.wave.approve_invoice(invoice["id"])
    world.wave.record_payment(invoice["id"], "10.00")

    world.run("invoice_to_webshop")
    partial = world.shop.get("orders", order["id"])
    world.wave.record_payment(invoice["id"], str(Decimal(order["total"]) - 10))
    world.reset_counters()
    world.settle()

    paid = world.shop.get("orders", order["id"])
    assert (partial["payment_status"], partial["amount_paid"]) == ("partially_paid", "10.00")
    assert (paid["payment_status"], paid["amount_paid"]) == ("paid", order["total"])
    assert world.wave_writes == 0


def test_given_an_invoice_overpaid_in_wave_when_synced_then_the_order_is_paid_with_the_whole_amount_received(world):
    _, _, _, order = seed_order(world)
    world.settle()
    invoice = world.wave_record("order", order["id"])
    world.wave.approve_invoice(invoice["id"])
    overpaid = world.wave.record_payment(invoice["id"], str(Decimal(order["total"]) + 5))
    world.reset_counters()

    world.settle()

    paid = world.shop.get("orders", order["id"])
    assert overpaid["status"] == "OVERPAID"
    assert (paid["payment_status"], paid["amount_paid"]) == ("paid", str(Decimal(order["total"]) + 5))
    assert world.wave_writes == 0 and world.shop_writes == 1
    assert world.settles_quietly()


def test_given_a_linked_order_edited_in_the_shop_when_synced_then_the_invoice_takes_the_new_lines_in_one_write(world):
    _, widget, _, order = seed_order(world)
    world.settle()
    world.shop.update("orders", order["id"], {"note": "Ring twice", "lines": [
        {"product_id": widget["id"], "quantity": "2", "unit_price": "19.99", "tax_rate": "0.13"}]})
    world.reset_counters()

    report = world.run("order_to_wave")

    invoice = world.wave_record("order", order["id"])
    assert report.updated == 1 and world.wave_writes == 1
    assert invoice["memo"] == "Ring twice" and len(invoice["items"]) == 1
    assert Decimal(invoice["total"]["value"]) == Decimal(world.shop.get("orders", order["id"])["total"])
