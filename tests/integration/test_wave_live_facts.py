"""The Wave sandbox's switches for the live API's uncertain facts, over HTTP through the real
client: what a null in a patch does (`null_in_patch`), and a pageSize beyond 200 refused or
clamped (`set_page_size_limit`), a create whose answer never arrives, and an overpayment."""
from __future__ import annotations

from decimal import Decimal

import pytest

from shopwave.flows import FLOWS

from .test_order_sync import invoice_of, seed_order

ADA = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "phone": "+1 416 555 0100",
       "currency": "CAD", "billing_address": {"line1": "1 King St W", "city": "Toronto", "region": "ON",
                                              "postal_code": "M5H 1A1", "country": "CA"}}


def patches(stack) -> list[int]:
    return [r["status"] for r in stack.wave.requests if r["fields"] == ["customerPatch"]]


@pytest.mark.parametrize("mode", ["clears", "input_error", "graphql_error"])
def test_given_wave_s_answer_to_a_null_when_a_currency_and_a_phone_are_cleared_in_the_shop_then_the_merge_stays_correct(stack, mode):
    customer = stack.shop.create("customers", ADA)
    stack.settle()
    stack.wave.null_in_patch(mode)
    stack.shop.update("customers", customer["id"], {"currency": None, "phone": None, "first_name": "Augusta"})
    stack.reset_counters()

    report = stack.run("customer_to_wave")

    [in_wave] = stack.wave.customers()
    assert report.parked == 0 and in_wave["firstName"] == "Augusta" and not in_wave["phone"]
    conflicts = stack.store.conflicts("customer")
    if mode == "clears":
        assert in_wave["currency"] is None and conflicts == [] and len(patches(stack)) == 1
    else:  # refused with the null, sent again without it: Wave keeps its currency, reported
        assert in_wave["currency"]["code"] == "CAD" and [c["field"] for c in conflicts] == ["currency"]
        assert len(patches(stack)) == 2
    stack.reset_counters()
    stack.settle()
    assert stack.wave_writes() == 0 and stack.shop_writes() == 0  # nothing bounces
    assert stack.shop.get("customers", customer["id"])["currency"] is None  # the shop keeps its clear


@pytest.mark.parametrize("over", ["refuse", "clamp"])
def test_given_sync_page_size_200_and_wave_s_limit_when_250_wave_customers_are_read_then_pages_of_200_sync_them_all(stack, monkeypatch, over):
    monkeypatch.setenv("SYNC_PAGE_SIZE", "200")
    stack.rebuild()
    stack.wave.set_page_size_limit(200, over=over)
    for i in range(250):
        stack.wave.create_customer(name=f"Customer {i:03}", email=f"c{i:03}@example.com")
    stack.reset_counters()

    report = stack.runtime.engine.sweep(FLOWS["customer_to_webshop"])

    assert report.created == 250 and report.parked == 0
    lists = [r for r in stack.wave.requests if r["operationName"] == "ListCustomers"]
    assert lists and all(r["status"] == 200 for r in lists) and len(lists) <= 3


def test_given_a_customer_without_email_whose_create_times_out_after_wave_made_it_when_synced_again_then_one_wave_customer_is_linked(stack, monkeypatch):
    import time

    monkeypatch.setenv("HTTP_READ_TIMEOUT_SECONDS", "0.5")
    stack.rebuild()
    customer = stack.shop.create("customers", {"first_name": "Nora", "last_name": "Quill", "phone": "+1 416 555 0142"})
    create = stack.wave.store.customer_create

    def slow_create(data):  # Wave makes the customer; its answer comes after the client gave up
        made = create(data)
        time.sleep(1.0)
        return made

    monkeypatch.setattr(stack.wave.store, "customer_create", slow_create)
    timed_out = stack.run("customer_to_wave")
    monkeypatch.setattr(stack.wave.store, "customer_create", create)
    assert timed_out.failures and len(stack.wave.customers()) == 1
    assert stack.store.get_link("customer", "shop", customer["id"]) is None

    retried = stack.run("customer_to_wave")

    [only] = stack.wave.customers()
    assert retried.adopted == 1 and retried.created == 0 and only["displayId"] == customer["id"]
    assert stack.store.get_link("customer", "shop", customer["id"]).wave_id == only["id"]


def test_given_an_invoice_overpaid_in_wave_when_synced_over_http_then_the_order_is_paid_with_everything_received(stack):
    _, _, _, order = seed_order(stack)
    stack.settle()
    invoice = invoice_of(stack, order)
    stack.wave.approve_invoice(invoice["id"])
    stack.wave.record_payment(invoice["id"], str(Decimal(order["total"]) + Decimal("20.00")))
    stack.reset_counters()

    stack.settle()

    paid = stack.shop.get("orders", order["id"])
    assert stack.wave.get_invoice(invoice["id"])["status"] == "OVERPAID"
    assert (paid["payment_status"], Decimal(paid["amount_paid"])) == ("paid", Decimal(order["total"]) + 20)
    assert stack.wave_writes() == 0 and stack.shop_writes() == 1
