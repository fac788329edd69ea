"""Payments both ways against the sandboxes, over HTTP and GraphQL (SYNC.md: payments): what a
merchant sees in Wave and in the shop, and what it costs in Wave calls."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from shopwave import flow_runner
from shopwave.wave.payments import MARKER

from .conftest import WEBHOOK_SECRET
from .handlers import Context, load_handler, sample_event, webhook_event
from .test_order_sync import invoice_of, seed_order

CATALOGUE = {"SalesTaxes", "PaymentAccounts", "ProductNames", "DiscountAccounts"}  # read once per process


def sync_calls(stack) -> list[str]:
    """The Wave operations one record cost, leaving out the catalogue a process reads once."""
    return [r["operationName"] for r in stack.wave.requests if r["operationName"] not in CATALOGUE]


def deliver(stack, order, event_type):
    response = load_handler("order_to_wave")(webhook_event(WEBHOOK_SECRET, order["id"], event_type=event_type,
                                                            resource="orders"), Context())
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def linked_stack(stack):
    customer, widget, gadget, _ = seed_order(stack)
    stack.settle()
    return customer, widget


def new_order(stack, customer, widget, **fields):
    return stack.shop.create("orders", {"customer_id": customer["id"], "currency": "CAD", "order_date": "2026-11-21",
                                        "lines": [{"product_id": widget["id"], "quantity": "2", "unit_price": "19.99",
                                                   "tax_rate": "0.13"}], **fields})


def test_given_an_order_paid_at_checkout_when_its_webhook_arrives_then_wave_shows_a_paid_invoice_after_four_calls(stack):
    customer, widget = linked_stack(stack)
    order = new_order(stack, customer, widget, payment_status="paid", amount_paid="45.18")
    stack.reset_counters()

    deliver(stack, order, "order.created")

    invoice = invoice_of(stack, order)
    assert invoice["status"] == "PAID" and invoice["amountPaid"]["value"] == "45.18"
    [payment] = stack.wave.store.payments_of(invoice["id"])
    assert MARKER in payment["memo"] and payment["paymentMethod"] == "OTHER"
    assert stack.wave.store.accounts_by_id[payment["account"]["id"]]["name"] == "Cash on Hand"
    # adoption look-up, create, approve (Wave creates only DRAFT or SAVED), payment
    assert sync_calls(stack) == ["FindInvoices", "InvoiceCreate", "InvoiceApprove", "InvoicePaymentCreateManual"]
    stack.reset_counters()
    stack.settle()
    assert stack.wave_writes() == 0 and stack.shop_writes() == 0


def test_given_a_paid_order_refunded_in_the_shop_when_its_webhook_arrives_then_the_payment_leaves_wave_in_two_calls(stack):
    customer, widget = linked_stack(stack)
    order = new_order(stack, customer, widget, payment_status="paid", amount_paid="45.18")
    stack.settle()
    stack.shop.update("orders", order["id"], {"payment_status": "refunded"})
    stack.reset_counters()

    deliver(stack, order, "order.updated")

    invoice = invoice_of(stack, order)
    assert invoice["status"] == "UNPAID" and invoice["amountPaid"]["value"] == "0.00"
    assert stack.wave.store.payments_of(invoice["id"]) == []
    assert sync_calls(stack) == ["GetInvoices", "InvoicePaymentDelete"]
    stack.reset_counters()
    stack.settle()
    assert stack.wave_writes() == 0 and stack.shop_writes() == 0


def test_given_a_cheque_recorded_in_wave_when_synced_then_the_shop_shows_the_order_paid(stack):
    _, _, _, order = seed_order(stack)
    stack.settle()
    invoice = invoice_of(stack, order)
    stack.wave.approve_invoice(invoice["id"])
    stack.wave.record_payment(invoice["id"], order["total"], method="CHEQUE")

    stack.settle()

    shop = stack.shop.get("orders", order["id"])
    assert (shop["payment_status"], shop["amount_paid"]) == ("paid", order["total"])
    assert len(stack.wave.store.payments_of(invoice["id"])) == 1  # nothing recorded back


def test_given_no_cash_and_bank_account_by_the_configured_name_when_orders_sync_then_the_run_stops_naming_it(stack, monkeypatch):
    monkeypatch.setenv("WAVE_PAYMENT_ACCOUNT_NAME", "Stripe clearing")
    stack.rebuild()
    seed_order(stack, payment_status="paid", amount_paid="1.00")

    with pytest.raises(flow_runner.SystemUnavailable, match="Stripe clearing"):
        load_handler("order_to_wave")(sample_event("schedule.json"), Context())

    assert stack.wave.invoices() == [] and stack.store.parked("order_to_wave") == []


def test_given_a_discount_the_merchant_adds_in_wave_when_synced_then_the_conflict_names_it_and_the_order_is_left_alone(stack):
    _, _, _, order = seed_order(stack)
    stack.settle()
    invoice = invoice_of(stack, order)
    stack.wave.store.invoice_patch({"id": invoice["id"], "discounts": [{"discountType": "PERCENTAGE", "percentage": "10"}]})
    stack.reset_counters()

    stack.settle()

    assert stack.shop_writes() == 0 and stack.wave_writes() == 0
    [conflict] = [c for c in stack.store.conflicts("order") if c.get("field") == "@verify"]
    assert "Wave's own discount" in str(conflict)
