"""The convergence checker against the sandboxes: silent once the six flows settle, and each kind of
divergence found when the state is broken on purpose behind the sync's back. It never writes."""
from __future__ import annotations

from decimal import Decimal

import pytest

from shopwave.state import LinkRaced

from devstack.convergence import check
from shopwave.state import Link
from shopwave.state.models import LinkItem

from .test_order_sync import seed_order

BO = {"email": "bo@bolt.test", "company": "Bolt Bikes", "first_name": "Bo", "last_name": "Chen", "phone": "+1 514 555 0100",
      "billing_address": {"line1": "9 Rue", "city": "Montréal", "region": "QC", "postal_code": "H2X 1Y4", "country": "CA"}}


@pytest.fixture
def settled(stack):
    """Customers, products (one inactive, never synced), an order with lines and discounts, a
    cancelled order, and a customer that starts in Wave: all six flows run until nothing moves."""
    customer, widget, gadget, order = seed_order(stack)
    bo = stack.shop.create("customers", BO)
    stack.shop.create("products", {"sku": "OLD-1", "name": "Retired", "price": "1.00", "active": False})
    cancelled = stack.shop.create("orders", {"customer_id": bo["id"], "currency": "CAD", "order_date": "2026-11-21",
                                             "status": "cancelled",
                                             "lines": [{"product_id": gadget["id"], "quantity": "1", "unit_price": "5.00"}]})
    stack.wave.create_customer(name="Cy Corp", firstName="Cy", lastName="Young", email="cy@corp.test")
    stack.settle()
    stack.reset_counters()
    return {"customer": customer, "widget": widget, "gadget": gadget, "order": order, "bo": bo, "cancelled": cancelled}


def link(stack, entity, record):
    return stack.store.get_link(entity, "shop", record["id"])


def kinds(findings):
    return sorted({(f.entity, f.kind, f.shop_id, f.wave_id) for f in findings.all()}, key=str)


def test_given_seeded_data_when_the_six_flows_settle_then_the_checker_finds_nothing(stack, settled):
    findings = check(stack.runtime)
    assert findings.ok, findings.summary()
    assert findings.all(("pending",)) == []
    assert findings.checked["customer"] == {"shop": 3, "wave": 3, "links": 3}
    assert findings.checked["product"]["links"] == 2  # the inactive product was never created: not missing
    assert findings.checked["order"] == {"shop": 2, "wave": 1, "links": 1}  # the cancelled one was not either
    assert findings.summary().startswith("converged")
    assert findings.as_dict()["ok"] is True


def test_given_a_settled_stack_when_checked_then_no_system_is_written(stack, settled):
    writes_before = stack.store.writes
    findings = check(stack.runtime)
    assert findings.ok, findings.summary()
    assert stack.wave.requests and all(r["kind"] == "query" for r in stack.wave.requests)
    assert stack.shop.requests and all(r["method"] == "GET" for r in stack.shop.requests)
    assert stack.wave_writes() == 0 and stack.shop_writes() == 0
    assert stack.store.writes == writes_before  # no link, watermark, claim or conflict written either


def test_given_a_broken_stack_when_checked_then_still_no_system_is_written(stack, settled):
    stack.shop.update("customers", settled["customer"]["id"], {"phone": "+1 416 555 0199"})
    stack.wave.create_customer(name="Ada Again", email="ada@example.com")
    stack.wave.delete_invoice(link(stack, "order", settled["order"]).wave_id)
    stack.reset_counters()
    writes_before = stack.store.writes
    findings = check(stack.runtime)
    assert not findings.ok
    assert stack.wave_writes() == 0 and stack.shop_writes() == 0 and stack.store.writes == writes_before


def test_given_a_link_deleted_from_the_table_when_checked_then_the_shop_record_is_missing_its_counterpart(stack, settled):
    bo = link(stack, "customer", settled["bo"])
    for key in (f"customer#shop#{bo.shop_id}", f"customer#wave#{bo.wave_id}"):
        LinkItem.get(key).delete()
    findings = check(stack.runtime, ["customer"])
    assert kinds(findings) == sorted([("customer", "missing", bo.shop_id, None),  # the webshop record has no link
                                      ("customer", "missing", None, bo.wave_id)],  # and its Wave twin is unlinked too
                                     key=str)
    assert "no Wave counterpart" in findings.missing[0].detail


def test_given_only_the_shop_keyed_link_copy_deleted_when_checked_then_the_half_link_is_reported(stack, settled):
    bo = link(stack, "customer", settled["bo"])
    LinkItem.get(f"customer#shop#{bo.shop_id}").delete()
    findings = check(stack.runtime, ["customer"])
    assert ("customer", "missing", bo.shop_id, None) in kinds(findings)
    assert ("customer", "orphaned", bo.shop_id, bo.wave_id) in kinds(findings)


def test_given_a_wave_customer_with_a_linked_customers_email_when_checked_then_it_is_a_duplicate(stack, settled):
    ada = link(stack, "customer", settled["customer"])
    twin = stack.wave.create_customer(name="Ada L.", email="ADA@example.com")
    findings = check(stack.runtime)
    assert sorted(((f.shop_id, f.wave_id) for f in findings.duplicate), key=str) == \
        sorted([(ada.shop_id, ada.wave_id), (None, twin["id"])], key=str)
    assert all("email 'ada@example.com'" in f.detail for f in findings.duplicate)
    # and since customers also travel Wave to webshop, the twin is unlinked there too
    assert [(f.shop_id, f.wave_id) for f in findings.missing] == [(None, twin["id"])]


def test_given_a_wave_product_with_a_linked_products_name_when_checked_then_it_is_a_duplicate(stack, settled):
    widget = link(stack, "product", settled["widget"])
    twin = stack.wave.create_product(name="Widget", unitPrice="19.99")
    stack.wave.create_product(name="Discount", unitPrice="0")  # the discount product's name is not compared
    findings = check(stack.runtime, ["product"])
    assert kinds(findings) == sorted([("product", "duplicate", widget.shop_id, widget.wave_id),
                                      ("product", "duplicate", None, twin["id"])], key=str)


def test_given_a_shop_customer_edited_without_syncing_when_checked_then_the_pair_differs_in_that_field(stack, settled):
    ada = link(stack, "customer", settled["customer"])
    stack.shop.update("customers", ada.shop_id, {"phone": "+1 416 555 0199"})
    findings = check(stack.runtime)
    assert kinds(findings) == [("customer", "differing", ada.shop_id, ada.wave_id)]
    [finding] = findings.differing
    assert finding.fields == {"phone": {"shop": "+1 416 555 0199", "wave": None, "agreed": None}}
    assert "phone" in finding.detail
    stack.settle()
    assert check(stack.runtime).ok  # the sync carries it over: in step again


def test_given_an_invoice_edited_in_wave_without_syncing_when_checked_then_the_pair_differs(stack, settled):
    order = link(stack, "order", settled["order"])
    stack.wave.update_invoice(order.wave_id, memo="Call first")
    findings = check(stack.runtime)
    assert kinds(findings) == [("order", "differing", order.shop_id, order.wave_id)]
    assert findings.differing[0].fields["note"] == {"shop": "Leave at the door", "wave": "Call first",
                                                    "agreed": "Leave at the door"}


def test_given_a_payment_recorded_in_wave_without_syncing_when_checked_then_payment_differs_one_way(stack, settled):
    order = link(stack, "order", settled["order"])
    stack.wave.approve_invoice(order.wave_id)
    stack.wave.record_payment(order.wave_id, "10.00")
    findings = check(stack.runtime, ["order"])
    [finding] = findings.differing
    assert finding.fields["paid_in_wave"] == {"shop": "0", "wave": "10", "agreed": "0"}
    assert "travels Wave to webshop only" in finding.detail
    stack.settle()
    assert check(stack.runtime).ok


def test_given_a_wave_invoice_deleted_in_the_sandbox_when_checked_then_its_link_is_orphaned(stack, settled):
    order = link(stack, "order", settled["order"])
    stack.wave.delete_invoice(order.wave_id)
    findings = check(stack.runtime)
    assert kinds(findings) == [("order", "orphaned", order.shop_id, order.wave_id)]
    assert "Wave record no longer exists" in findings.orphaned[0].detail


def test_given_a_cancelled_order_whose_draft_invoice_the_sync_deleted_when_checked_then_the_link_is_fine(stack, settled):
    stack.shop.update("orders", settled["order"]["id"], {"status": "cancelled"})
    stack.settle()
    assert link(stack, "order", settled["order"]).status == "deleted"
    findings = check(stack.runtime)
    assert findings.ok, findings.summary()


def test_given_invoice_items_changed_in_the_sandbox_when_checked_then_the_totals_differ(stack, settled):
    order = link(stack, "order", settled["order"])
    widget = link(stack, "product", settled["widget"])
    stack.wave.update_invoice(order.wave_id, items=[{"productId": widget.wave_id, "quantity": "1", "unitPrice": "1.00"}])
    findings = check(stack.runtime)
    [total] = findings.totals
    assert (total.shop_id, total.wave_id) == (order.shop_id, order.wave_id)
    assert total.detail == f"order total {settled['order']['total']} but invoice total 1.00"
    assert Decimal(settled["order"]["total"]) != 1
    assert kinds(findings) == sorted([("order", "differing", order.shop_id, order.wave_id),
                                      ("order", "totals", order.shop_id, order.wave_id)], key=str)
    assert "lines" in findings.differing[0].fields


def test_given_two_shop_records_linked_to_one_wave_id_when_checked_then_both_links_are_duplicates(stack, settled):
    ada, bo = link(stack, "customer", settled["customer"]), link(stack, "customer", settled["bo"])
    stale_wave_id = bo.wave_id
    # The store refuses this (a key naming another shop record): written item by item, as a
    # buggy older version or a hand edit could have left it.
    from shopwave.state.models import LinkItem
    from shopwave.state.store import _item_from, link_key
    bo.wave_id = ada.wave_id
    for side in ("shop", "wave"):
        _item_from(bo, link_key("customer", side, bo.id_on(side)), bo.revision + 1).save()
    with pytest.raises(LinkRaced):
        stack.store.save_link(bo)  # and now refuses to build on it
    assert LinkItem.get(link_key("customer", "wave", ada.wave_id)).shop_id == bo.shop_id
    findings = check(stack.runtime, ["customer"])
    assert sorted((f.shop_id, f.wave_id) for f in findings.duplicate) == sorted([(ada.shop_id, ada.wave_id),
                                                                                (bo.shop_id, ada.wave_id)])
    assert all("linked twice" in f.detail for f in findings.duplicate)
    # bo's old Wave customer still has its Wave-keyed copy naming bo: stale
    assert ("customer", "orphaned", bo.shop_id, stale_wave_id) in kinds(findings)


def test_given_a_fresh_link_pair_saved_over_an_existing_wave_id_when_saved_then_the_store_refuses(stack, settled):
    ada = link(stack, "customer", settled["customer"])
    with pytest.raises(LinkRaced):
        stack.store.save_link(Link(entity="customer", shop_id="cus_other", wave_id=ada.wave_id, state={}, state_hash=""))
    assert check(stack.runtime, ["customer"]).ok


def test_given_a_new_shop_customer_not_yet_synced_when_checked_then_it_is_missing_until_parked_then_pending(stack, settled):
    dee = stack.shop.create("customers", {"email": "dee@example.com", "first_name": "Dee"})
    findings = check(stack.runtime, ["customer"])
    assert kinds(findings) == [("customer", "missing", dee["id"], None)]
    stack.store.park("customer_to_wave", dee["id"], "WaveTransportError: Wave answered 503")
    findings = check(stack.runtime, ["customer"])
    assert findings.ok
    [pending] = findings.pending
    assert pending.shop_id == dee["id"] and "parked in customer_to_wave" in pending.detail and "missing" in pending.detail


def test_given_a_wave_edit_of_a_customer_deleted_in_the_shop_when_synced_and_checked_then_nothing_is_written_or_found(stack, settled):
    bo = link(stack, "customer", settled["bo"])
    stack.shop.delete("customers", bo.shop_id)  # the link is kept (customers are not deleted in Wave)
    stack.settle()
    stack.wave.update_customer(bo.wave_id, phone="+1 514 555 0199")
    stack.reset_counters()
    report = stack.run("customer_to_webshop")  # the deleted customer is not written to, nor parked
    assert report.skipped == 1 and report.parked == 0 and stack.shop_writes() == 0
    findings = check(stack.runtime, ["customer"])
    assert findings.ok and not findings.pending, findings.summary()


def test_given_an_order_marked_paid_by_hand_in_the_shop_when_checked_then_it_is_not_a_divergence(stack, settled):
    order = link(stack, "order", settled["order"])
    stack.shop.update("orders", order.shop_id, {"payment_status": "paid"})  # cash at the counter; Wave unchanged
    stack.settle()
    assert check(stack.runtime, ["order"]).ok


def test_given_the_syncs_payment_recorded_twice_in_wave_when_checked_then_it_is_reported(stack, settled):
    order = link(stack, "order", settled["order"])
    total = stack.shop.get("orders", order.shop_id)["total"]
    stack.shop.update("orders", order.shop_id, {"payment_status": "paid", "amount_paid": total})
    stack.settle()
    assert check(stack.runtime).ok
    [payment] = stack.wave.store.payments_of(order.wave_id)

    stack.wave.record_payment(order.wave_id, total, memo=payment["memo"])  # what a second, blind create would do

    [finding] = check(stack.runtime).totals
    assert "recorded twice" in finding.detail and (finding.shop_id, finding.wave_id) == (order.shop_id, order.wave_id)


def test_given_a_cheque_in_wave_the_shop_never_saw_when_checked_then_the_amounts_paid_differ(stack, settled):
    order = link(stack, "order", settled["order"])
    stack.wave.approve_invoice(order.wave_id)
    stack.wave.record_payment(order.wave_id, "7.00", method="CHEQUE")

    totals = check(stack.runtime).totals

    assert [f.detail for f in totals] == ["amount paid 0.00 in the shop but 7.00 in Wave"]
