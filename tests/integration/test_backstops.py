"""The backstops against the Wave sandbox playing what Wave does not document: a payment that
leaves the invoice's modifiedAt alone reaches the order through the reconciliation pass the
Reconcile schedule runs (events/reconcile.json through the handler, with its metric and warning),
and the overlap carries an edit that shares the watermark's second."""
from __future__ import annotations

import logging
import time

import pytest

from .handlers import Context, load_handler, sample_event
from .test_handler_metrics import metrics_published
from .test_order_sync import invoice_of, seed_order

OVERLAP = 1.0  # seconds: short, so the test can wait it out


@pytest.fixture
def short_overlap(stack, monkeypatch):
    monkeypatch.setenv("WAVE_SWEEP_OVERLAP_SECONDS", str(OVERLAP))
    stack.rebuild()
    return stack


def test_given_wave_payments_that_leave_modified_at_alone_when_the_schedules_fire_then_only_the_reconcile_schedule_pays_the_order(
        short_overlap, capsys, caplog):
    stack = short_overlap
    stack.wave.play_undocumented(payments_bump_modified_at=False)
    _, widget, _, order = seed_order(stack)
    second = stack.shop.create("orders", {"customer_id": order["customer_id"], "currency": "CAD", "order_date": "2026-11-21",
                                          "lines": [{"product_id": widget["id"], "quantity": "1", "unit_price": "19.99",
                                                     "tax_rate": None}]})
    stack.settle()
    invoice = invoice_of(stack, order)
    stack.wave.approve_invoice(invoice["id"])
    stack.wave.update_invoice(invoice_of(stack, second)["id"], memo="changed later")  # the watermark moves past it
    stack.settle()
    time.sleep(OVERLAP + 0.2)
    handler = load_handler("invoice_to_webshop")
    handler(sample_event("schedule.json"), Context())  # long after: the overlap is read to its end, then closed
    stack.wave.record_payment(invoice["id"], "10.00")
    before = stack.wave.get_invoice(invoice["id"])
    assert before["modifiedAt"] == invoice_of(stack, order)["modifiedAt"] and before["amountPaid"]["value"] == "10.00"
    capsys.readouterr()
    caplog.set_level(logging.INFO, logger="shopwave")
    stack.reset_counters()

    swept = handler(sample_event("schedule.json"), Context())
    missed = stack.shop.get("orders", order["id"])
    reconciled = handler(sample_event("reconcile.json"), Context())
    again = handler(sample_event("reconcile.json"), Context())

    assert swept["writes"] == 0 and missed["amount_paid"] != "10.00"
    assert reconciled["mode"] == "reconcile" and reconciled["reconciled"] == 1 and reconciled["updated"] == 1
    paid = stack.shop.get("orders", order["id"])
    assert (paid["payment_status"], paid["amount_paid"]) == ("partially_paid", "10.00")
    assert again["reconciled"] == again["writes"] == 0 and again["read"] == 2
    assert stack.wave_writes() == 0 and stack.shop_writes() == 1
    published = [(name, value) for _, name, _, value in metrics_published(capsys.readouterr().out)]
    assert published == [("ReconciledRecords", [1.0])]
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING and "reconciliation caught" in r.getMessage()]
    assert warning.reconciled == 1 and warning.records == [invoice["id"]]


@pytest.mark.parametrize("after_inclusive", [False, True])
@pytest.mark.parametrize("overlap, carried", [("300", True), ("0", False)])
def test_given_wave_stamps_to_the_second_when_a_customer_changes_again_in_the_watermarks_second_then_the_overlap_carries_it(
        stack, monkeypatch, after_inclusive, overlap, carried):
    monkeypatch.setenv("WAVE_SWEEP_OVERLAP_SECONDS", overlap)
    stack.rebuild()
    stack.wave.play_undocumented(precision="s", after_inclusive=after_inclusive)
    stack.wave.hold_clock()  # every write below shares one second
    customer = stack.wave.create_customer(name="Grace Hopper", email="grace@example.com")
    stack.run("customer_to_webshop")
    edited = stack.wave.update_customer(customer["id"], phone="+1 416 555 0199")
    assert edited["modifiedAt"] == customer["modifiedAt"] and "." not in customer["modifiedAt"]  # whole seconds
    stack.reset_counters()

    report = stack.run("customer_to_webshop")
    stack.wave.hold_clock(False)

    [in_shop] = stack.shop.all("customers")
    assert (in_shop["phone"] == "+1 416 555 0199") is carried
    assert report.updated == stack.shop_writes() == (1 if carried else 0)
    assert stack.wave_writes() == 0
