"""Payments both ways (SYNC.md: payments), on the in-memory systems: money the shop takes is
recorded in Wave as the sync's own payments (marked in their memo), money paid in Wave reaches
the shop's amount paid, refunds take off only what the sync recorded, and nothing is counted twice,
crashes included."""
from __future__ import annotations

from decimal import Decimal

import pytest

from shopwave.wave.payments import MARKER
from tests.memory import make_world, world  # noqa: F401 - fixtures
from tests.memory.seeds import seed_order
from tests.memory.world import Crash


def paid_at_checkout(world, **overrides):
    """An order the customer paid in full at checkout; nothing synced yet."""
    customer, widget, gadget, order = seed_order(world)
    return world.shop.update("orders", order["id"], {"payment_status": "paid", "amount_paid": order["total"], **overrides})


def payments_in_wave(world, order) -> list[dict]:
    return world.wave_record("order", order["id"])["payments"]


def cheque_in_wave(world, order, amount) -> dict:
    """The merchant approves the order's invoice (if a draft) and records a cheque in Wave's screens."""
    invoice = world.wave_record("order", order["id"])
    if invoice["status"] in ("DRAFT", "SAVED"):
        world.wave.approve_invoice(invoice["id"])
    return world.wave.record_payment(invoice["id"], amount, method="CHEQUE")


def test_given_an_order_paid_at_checkout_when_synced_then_wave_shows_the_invoice_paid_by_one_marked_payment(world):
    order = paid_at_checkout(world)

    world.settle()

    invoice = world.wave_record("order", order["id"])
    assert invoice["status"] == "PAID"
    assert invoice["amountPaid"]["value"] == order["total"]
    [payment] = invoice["payments"]
    assert Decimal(payment["amount"]) == Decimal(order["total"]) and MARKER in payment["memo"]
    assert order["number"] in payment["memo"] and payment["paymentDate"] == order["order_date"]
    shop = world.shop.get("orders", order["id"])
    assert (shop["payment_status"], shop["amount_paid"]) == ("paid", order["total"])  # nothing came back
    assert world.settles_quietly()


def test_given_an_unpaid_order_when_synced_then_its_invoice_takes_no_payment_and_stays_a_draft(world):
    _, _, _, order = seed_order(world)

    world.settle()

    invoice = world.wave_record("order", order["id"])
    assert invoice["payments"] == [] and invoice["status"] == "DRAFT"


def test_given_an_order_paid_later_in_the_shop_when_synced_then_wave_records_only_the_difference(world):
    _, _, _, order = seed_order(world)
    world.shop.update("orders", order["id"], {"payment_status": "partially_paid", "amount_paid": "20.00"})
    world.settle()

    world.shop.update("orders", order["id"], {"payment_status": "paid", "amount_paid": order["total"]})
    world.settle()

    amounts = sorted(Decimal(p["amount"]) for p in payments_in_wave(world, order))
    assert amounts == sorted([Decimal("20.00"), Decimal(order["total"]) - 20])
    assert world.wave_record("order", order["id"])["status"] == "PAID"
    assert world.settles_quietly()


def test_given_a_cheque_recorded_in_wave_when_synced_then_the_shop_shows_it_paid_and_nothing_goes_back(world):
    _, _, _, order = seed_order(world)
    world.settle()
    cheque_in_wave(world, order, order["total"])

    world.reset_counters()
    world.settle()

    shop = world.shop.get("orders", order["id"])
    assert (shop["payment_status"], shop["amount_paid"]) == ("paid", order["total"])
    assert len(payments_in_wave(world, order)) == 1 and world.wave_writes == 0  # the sync added none
    assert world.settles_quietly()


def test_given_the_shop_and_wave_both_taking_money_between_syncs_when_synced_then_both_show_the_sum(world):
    _, _, _, order = seed_order(world)
    world.settle()
    invoice = world.wave_record("order", order["id"])
    world.wave.approve_invoice(invoice["id"])

    world.shop.update("orders", order["id"], {"payment_status": "partially_paid", "amount_paid": "10.00"})
    world.wave.record_payment(invoice["id"], "15.00", method="CHEQUE")
    world.settle()

    shop = world.shop.get("orders", order["id"])
    invoice = world.wave_record("order", order["id"])
    assert shop["amount_paid"] == "25.00" and shop["payment_status"] == "partially_paid"
    assert invoice["amountPaid"]["value"] == "25.00"
    assert world.settles_quietly()


def test_given_an_order_overpaid_in_wave_when_synced_then_the_shop_shows_it_paid_with_the_overpayment(world):
    order = paid_at_checkout(world)
    world.settle()
    invoice = world.wave_record("order", order["id"])

    world.wave.record_payment(invoice["id"], "5.00", method="CHEQUE")
    world.settle()

    assert world.wave_record("order", order["id"])["status"] == "OVERPAID"
    shop = world.shop.get("orders", order["id"])
    assert shop["payment_status"] == "paid" and Decimal(shop["amount_paid"]) == Decimal(order["total"]) + 5
    assert world.settles_quietly()


def test_given_an_order_refunded_in_the_shop_when_synced_then_the_syncs_payment_is_removed_and_the_merchants_kept(world):
    order = paid_at_checkout(world)
    world.settle()
    invoice = world.wave_record("order", order["id"])
    world.wave.record_payment(invoice["id"], "3.00", method="CHEQUE", memo="tip")  # the merchant's own
    world.settle()

    world.shop.update("orders", order["id"], {"payment_status": "refunded"})
    world.settle()

    [left] = payments_in_wave(world, order)
    assert left["memo"] == "tip" and Decimal(left["amount"]) == 3
    assert world.wave_record("order", order["id"])["amountPaid"]["value"] == "3.00"
    assert world.shop.get("orders", order["id"])["payment_status"] == "refunded"  # the shop's word stays
    assert world.settles_quietly()


def test_given_a_partial_refund_in_the_shop_when_synced_then_the_syncs_payment_is_reduced(world):
    order = paid_at_checkout(world)
    world.settle()

    world.shop.update("orders", order["id"], {"payment_status": "partially_paid", "amount_paid": "10.00"})
    world.settle()

    [payment] = payments_in_wave(world, order)
    assert Decimal(payment["amount"]) == 10
    assert world.wave_record("order", order["id"])["status"] == "PARTIAL"
    assert world.settles_quietly()


def test_given_a_refund_beyond_what_the_shop_took_when_synced_then_a_conflict_is_recorded_and_wave_keeps_the_merchants(world):
    _, _, _, order = seed_order(world)
    world.settle()
    cheque_in_wave(world, order, "30.00")
    world.settle()

    world.shop.update("orders", order["id"], {"payment_status": "partially_paid", "amount_paid": "10.00"})
    report = world.run("order_to_wave")

    assert report.parked == 1
    [payment] = payments_in_wave(world, order)
    assert Decimal(payment["amount"]) == 30  # the merchant's cheque is never touched
    conflicts = world.store.conflicts("order")
    assert any("exceed" in str(c) for c in conflicts)


@pytest.mark.parametrize("point", ["after_remote_write", "after_record"])
def test_given_a_crash_right_after_the_payment_was_recorded_when_synced_again_then_it_is_not_recorded_twice(world, point):
    _, _, _, order = seed_order(world)
    world.settle()
    world.shop.update("orders", order["id"], {"payment_status": "paid", "amount_paid": order["total"]})

    world.crash_at(point)
    with pytest.raises(Crash):
        world.run("order_to_wave")
    world.later(61)  # the crashed writer's claim runs out
    world.settle()

    [payment] = payments_in_wave(world, order)
    assert Decimal(payment["amount"]) == Decimal(order["total"])
    assert world.shop.get("orders", order["id"])["amount_paid"] == order["total"]
    assert world.settles_quietly()


def test_given_a_wave_cheque_written_to_the_shop_and_a_crash_before_the_link_when_synced_then_nothing_is_counted_twice(world):
    _, _, _, order = seed_order(world)
    world.settle()
    cheque_in_wave(world, order, "12.00")

    world.crash_at("after_remote_write")
    with pytest.raises(Crash):
        world.run("invoice_to_webshop")
    world.later(61)
    world.settle()

    assert world.shop.get("orders", order["id"])["amount_paid"] == "12.00"
    assert len(payments_in_wave(world, order)) == 1
    assert world.settles_quietly()


def test_given_the_merchant_deleting_the_syncs_payment_in_wave_when_synced_then_the_shop_follows_and_it_is_not_recorded_again(world):
    order = paid_at_checkout(world)
    world.settle()
    [payment] = payments_in_wave(world, order)

    world.wave.store.payment_delete(payment["id"])
    world.settle()

    assert payments_in_wave(world, order) == []
    assert world.shop.get("orders", order["id"])["amount_paid"] == "0.00"
    assert world.settles_quietly()


def test_given_no_cash_and_bank_account_by_the_configured_name_when_orders_sync_then_the_run_stops_before_writing(make_world):
    world = make_world(options={"payment_account_name": "Stripe clearing"})
    paid_at_checkout(world)

    with pytest.raises(Exception, match="Stripe clearing"):
        world.run("order_to_wave")

    assert world.wave_writes == 0


def test_given_a_paid_order_cancelled_and_later_refunded_in_the_shop_when_synced_then_the_kept_invoice_loses_the_payment(world):
    order = paid_at_checkout(world)
    world.settle()
    world.shop.update("orders", order["id"], {"status": "cancelled"})
    world.settle()
    assert world.link("order", order["id"]).status == "kept"  # paid: Wave will not delete it

    world.shop.update("orders", order["id"], {"payment_status": "refunded"})
    world.settle()

    invoice = world.wave_record("order", order["id"])
    assert invoice["payments"] == [] and invoice["amountPaid"]["value"] == "0.00"
    assert world.settles_quietly()


def test_given_a_cheque_recorded_in_wave_for_an_order_cancelled_before_it_synced_when_synced_then_the_shop_shows_it(world):
    _, _, _, order = seed_order(world)
    world.settle()
    cheque_in_wave(world, order, "20.00")
    world.shop.update("orders", order["id"], {"status": "cancelled"})

    world.settle()

    shop = world.shop.get("orders", order["id"])
    assert (shop["status"], shop["amount_paid"]) == ("cancelled", "20.00")  # money the merchant must refund
    assert world.link("order", order["id"]).status == "kept"
    assert world.settles_quietly()


def test_given_invoices_approved_on_create_when_an_order_paid_at_checkout_syncs_then_it_is_approved_once_and_paid(make_world):
    world = make_world(options={"invoice_approve": True})
    order = paid_at_checkout(world)

    world.settle()

    invoice = world.wave_record("order", order["id"])
    assert invoice["status"] == "PAID" and len(invoice["payments"]) == 1
    assert world.store.parked("order_to_wave") == []


# -- Wave's own invoice discount ---------------------------------------------------------------
def test_given_a_discount_the_merchant_adds_in_wave_when_synced_then_a_totals_conflict_is_recorded_and_nothing_is_rewritten(world):
    _, _, _, order = seed_order(world)
    world.settle()
    invoice = world.wave_record("order", order["id"])
    lines = lambda inv: [(i["product"]["id"], i["quantity"], i["unitPrice"]) for i in inv["items"]]  # noqa: E731
    items_before = lines(invoice)

    world.wave.store.invoice_patch({"id": invoice["id"], "discounts": [{"discountType": "FIXED", "amount": "5.00"}]})
    world.reset_counters()
    world.settle()

    conflicts = [c for c in world.store.conflicts("order") if c.get("field") == "@verify"]
    assert conflicts and "Wave's own discount of 5.00" in str(conflicts[-1])
    assert world.shop_writes == 0 and world.wave_writes == 0  # nothing sent back to the shop, nor undone in Wave
    invoice = world.wave_record("order", order["id"])
    assert invoice["discountTotal"]["value"] == "5.00" and lines(invoice) == items_before
    assert world.link("order", order["id"]).state["wave_discount"] == "5"
    assert world.settles_quietly()
