"""A page reads its adoption look-ups ahead, in a few aliased Wave requests instead of one per
record, and never adopts on a look-up that another writer of the record may have outdated."""
from __future__ import annotations

import time
from datetime import timedelta

from shopwave.wave.side import WaveSide


def customer(i: int) -> dict:
    return {"email": f"c{i}@example.com", "first_name": "C", "last_name": str(i), "currency": "CAD"}


def wave_queries(stack) -> list[str]:
    return [r["operationName"] for r in stack.wave.requests if r["kind"] != "mutation"]


def test_given_thirty_new_shop_customers_when_the_flow_runs_then_two_look_up_requests_serve_all_thirty(stack):
    for i in range(30):
        stack.shop.create("customers", customer(i))
    stack.reset_counters()

    report = stack.run("customer_to_wave")

    assert report.created == 30 and len(stack.wave.customers()) == 30
    assert wave_queries(stack) == ["FindCustomers", "FindCustomers"]  # 25 emails a request
    assert stack.wave_writes() == 30


def test_given_new_orders_when_the_flow_runs_then_their_invoice_numbers_are_looked_up_together(stack):
    shop_customer = stack.shop.create("customers", customer(0))
    product = stack.shop.create("products", {"name": "Mug", "price": "12.00"})
    stack.run("customer_to_wave"), stack.run("product_to_wave")
    for n in range(5):
        stack.shop.create("orders", {"customer_id": shop_customer["id"], "currency": "CAD",
                                     "lines": [{"product_id": product["id"], "quantity": "1", "unit_price": "12.00"}]})
    stack.reset_counters()

    report = stack.run("order_to_wave")

    assert report.created == 5 and len(stack.wave.invoices()) == 5
    assert wave_queries(stack).count("FindInvoices") == 1
    assert "ListInvoices" not in wave_queries(stack)


def test_given_a_wave_customer_with_the_email_when_looked_up_ahead_then_it_is_adopted(stack):
    shop_customer = stack.shop.create("customers", customer(1))
    stack.wave.create_customer(name="C 1", email="C1@example.com")

    report = stack.run("customer_to_wave")

    assert report.adopted == 1 and report.created == 0
    [only] = stack.wave.customers()
    assert stack.store.get_link("customer", "shop", shop_customer["id"]).wave_id == only["id"]


def test_given_another_writer_created_the_counterpart_while_holding_the_claim_when_the_claim_is_won_then_it_adopts(
        stack, monkeypatch):
    shop_customer = stack.shop.create("customers", customer(2))
    store = stack.store
    original_claim = type(store).claim
    held = {"once": False}

    def claim(self, key, token, lease):
        if key.startswith("customer#shop#") and not held["once"]:
            # another run holds the record: it creates the Wave customer, then dies before linking
            held["once"] = True
            stack.wave.create_customer(name="C 2", email="c2@example.com", displayId=shop_customer["id"])
            return False
        return original_claim(self, key, token, lease)

    monkeypatch.setattr(type(store), "claim", claim)

    report = stack.run("customer_to_wave")

    assert held["once"] and report.adopted == 1 and report.created == 0
    assert len(stack.wave.customers()) == 1


def test_given_a_look_up_older_than_half_a_claim_lease_when_the_record_is_handled_then_it_looks_again(
        stack, monkeypatch):
    shop_customer = stack.shop.create("customers", customer(3))
    engine = stack.runtime.engine
    monkeypatch.setattr(engine, "claim_lease", timedelta(seconds=0.2))
    original = WaveSide.look_up_many

    page_look_ups = []

    def look_up_many(self, entity, states, *args):
        found = original(self, entity, states, *args)
        if not page_look_ups:  # the page's look-up; after it a writer whose lease has since run out
            page_look_ups.append(found)  # left its customer behind, unlinked
            stack.wave.create_customer(name="C 3", email="c3@example.com", displayId=shop_customer["id"])
            time.sleep(0.15)
        return found

    monkeypatch.setattr(WaveSide, "look_up_many", look_up_many)

    report = stack.run("customer_to_wave")

    assert report.adopted == 1 and report.created == 0
    assert len(stack.wave.customers()) == 1


def test_given_wave_down_when_reading_ahead_then_the_run_stops_with_the_failure_and_the_watermark_stays(stack):
    stack.shop.create("customers", customer(4))
    stack.wave.inject_fault(status=503, count=6)  # the look-up and all five retries

    report = stack.run("customer_to_wave")

    assert report.failures and report.created == 0 and not stack.wave.customers()
    assert stack.run("customer_to_wave").created == 1
