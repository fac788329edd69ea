"""SYNC.md rule 6's backstops on the in-memory systems, under either answer of what Wave does not
document (WaveSandbox.play_undocumented): the overlap a Wave sweep re-reads before its watermark,
stale re-reads that write nothing, and the reconciliation pass that catches what incremental
reading missed (a payment that left the invoice's modifiedAt alone)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.memory import make_world, world  # noqa: F401 - fixtures
from tests.memory.seeds import ADA, seed_order

OVERLAP = 300  # WAVE_SWEEP_OVERLAP_SECONDS' default


def paid_in_wave_after_the_overlap(world, *, bumps: bool):
    """A linked, approved invoice; our clock moves past the overlap and a sweep reads it (nothing new);
    then the merchant records a payment in Wave. Returns (order, invoice)."""
    world.wave.play_undocumented(payments_bump_modified_at=bumps)
    _, _, _, order = seed_order(world)
    world.settle()
    invoice = world.wave_record("order", order["id"])
    world.wave.approve_invoice(invoice["id"])
    world.settle()
    later = world.shop.create("orders", {"customer_id": order["customer_id"], "currency": "CAD", "order_date": "2026-11-21",
                                         "lines": [{"product_id": order["lines"][0]["product_id"], "quantity": "1",
                                                    "unit_price": "19.99", "tax_rate": None}]})
    world.settle()  # another invoice changed after it: the watermark is past this one, not at it
    assert world.wave_record("order", later["id"])["modifiedAt"] > world.wave.get_invoice(invoice["id"])["modifiedAt"]
    world.later(2 * OVERLAP)
    assert world.run("invoice_to_webshop").writes == 0  # a sweep long after: the window is read to its end
    world.wave.record_payment(invoice["id"], "10.00")
    return order, invoice


def test_given_a_payment_that_leaves_modified_at_alone_when_swept_then_the_incremental_sweep_misses_it_and_the_reconciliation_pass_pays_the_order(world):
    order, _ = paid_in_wave_after_the_overlap(world, bumps=False)

    swept = world.run("invoice_to_webshop")
    missed = world.shop.get("orders", order["id"])
    world.reset_counters()
    passed = world.reconcile("invoice_to_webshop")
    again = world.reconcile("invoice_to_webshop")

    assert swept.writes == 0 and missed["payment_status"] != "partially_paid"
    assert passed.reconciled == 1 and passed.updated == 1 and passed.mode == "reconcile"
    paid = world.shop.get("orders", order["id"])
    assert (paid["payment_status"], paid["amount_paid"]) == ("partially_paid", "10.00")
    assert world.wave_writes == 0 and world.shop_writes == 1  # only the order it caught was written
    assert again.reconciled == 0 and again.writes == 0 and again.echoes == again.read > 0


def test_given_a_payment_that_bumps_modified_at_when_swept_then_the_incremental_sweep_carries_it_and_the_reconciliation_pass_catches_nothing(world):
    order, _ = paid_in_wave_after_the_overlap(world, bumps=True)

    swept = world.run("invoice_to_webshop")
    passed = world.reconcile("invoice_to_webshop")

    assert swept.updated == 1
    assert world.shop.get("orders", order["id"])["amount_paid"] == "10.00"
    assert passed.reconciled == 0 and passed.writes == 0 and passed.read >= 1


@pytest.mark.parametrize("after_inclusive", [False, True])
@pytest.mark.parametrize("overlap, carried", [(OVERLAP, True), (0, False)])
def test_given_second_precision_when_a_record_changes_again_in_the_watermarks_second_then_only_the_overlap_carries_it(
        make_world, after_inclusive, overlap, carried):
    world = make_world()
    world.wave.play_undocumented(precision="s", after_inclusive=after_inclusive)
    world.sides["wave"].overlap = timedelta(seconds=overlap)
    world.clock.to_next_second()  # every write below shares one second
    customer = world.wave.create_customer(name="Grace Hopper", email="grace@example.com")
    world.run("customer_to_webshop")
    world.wave.update_customer(customer["id"], phone="+1 416 555 0199")  # the same second: the same modifiedAt
    assert world.wave.get_customer(customer["id"])["modifiedAt"] == customer["modifiedAt"]

    report = world.run("customer_to_webshop")

    [in_shop] = world.shop.all("customers")
    assert (in_shop["phone"] == "+1 416 555 0199") is carried
    assert report.updated == (1 if carried else 0)


def test_given_everything_synced_when_the_wave_sweeps_read_their_overlap_again_then_nothing_is_written(world):
    seed_order(world)
    world.wave.create_customer(name="Grace Hopper", email="grace@example.com")
    world.settle()
    world.reset_counters()

    marks = {name: world.store.watermark(name) for name in ("customer_to_webshop", "invoice_to_webshop")}
    reports = [world.run(name) for name in ("customer_to_webshop", "product_to_webshop", "invoice_to_webshop")]

    assert all(r.read > 0 and r.echoes == r.read and r.writes == 0 for r in reports), [r.as_dict() for r in reports]
    assert world.wave_writes == 0 and world.shop_writes == 0
    assert [world.run(name).writes for name in ("customer_to_webshop", "invoice_to_webshop")] == [0, 0]
    assert {name: world.store.watermark(name) for name in marks} == marks  # not even a watermark moves


def test_given_a_stale_read_of_a_wave_customer_when_it_comes_after_a_newer_one_was_synced_then_nothing_is_written(world):
    customer = world.shop.create("customers", {k: ADA[k] for k in ("email", "first_name", "last_name", "currency")})
    world.settle()
    link = world.link("customer", customer["id"])
    stale = world.wave.get_customer(link.wave_id)
    world.wave.update_customer(link.wave_id, firstName="Augusta")
    world.run("customer_to_webshop")  # the newer version reaches the shop; the link saw it
    side, pages = world.sides["wave"], world.sides["wave"].pages

    def lagging_replica(entity, partition, since, page_size):
        yield [stale]  # the list answered from a replica behind the write
    side.pages = lagging_replica
    world.reset_counters()

    report = world.run("customer_to_webshop")

    side.pages = pages
    assert report.stale == 1 and report.writes == 0 and world.shop_writes == 0
    assert world.shop.get("customers", customer["id"])["first_name"] == "Augusta"


def test_given_records_newer_than_the_watermark_or_parked_when_reconciled_then_the_pass_leaves_them_to_the_sweep(world):
    a = world.wave.create_customer(name="Grace Hopper", email="grace@example.com")
    world.settle()
    world.later(2 * OVERLAP)
    world.run("customer_to_webshop")
    newer = world.wave.create_customer(name="Ada Byron", email="ada.b@example.com")  # after the watermark

    passed = world.reconcile("customer_to_webshop")

    assert passed.reconciled == 0 and passed.writes == 0 and passed.read == 1  # only the one the sweep passed
    assert {c["email"] for c in world.shop.all("customers")} == {a["email"]}
    assert world.run("customer_to_webshop").created == 1
    assert {c["email"] for c in world.shop.all("customers")} == {a["email"], newer["email"]}


def test_given_a_sweep_holding_its_lease_when_the_reconciliation_pass_runs_then_it_runs_beside_it_and_leaves_the_watermark(world):
    world.wave.create_customer(name="Grace Hopper", email="grace@example.com")
    world.settle()
    mark = world.store.watermark("customer_to_webshop")
    assert world.store.claim("sweep#customer_to_webshop", "another-sweep", timedelta(minutes=5))

    passed = world.reconcile("customer_to_webshop")

    assert not passed.busy and passed.read == 1
    assert world.run("customer_to_webshop").busy  # the incremental one is still held
    assert world.store.watermark("customer_to_webshop") == mark


def test_given_a_pass_out_of_time_when_it_runs_again_then_it_goes_on_where_it_stopped_and_then_starts_over(world):
    for i in range(5):
        world.wave.create_customer(name=f"Cust {i}", email=f"c{i}@example.com")
    world.settle()
    world.later(2 * OVERLAP)
    world.engine.reconcile_page_size = 2
    left = [60.0]
    world.at("after_record", lambda: left.__setitem__(0, 0.0), after=1)  # out of time after two records

    cut = world.reconcile("customer_to_webshop", time_left=lambda: left[0])
    rest = world.reconcile("customer_to_webshop")
    whole = world.reconcile("customer_to_webshop")

    assert cut.stopped_early and cut.read == 2
    assert rest.read == 3 and not rest.stopped_early  # the three it had not read
    assert whole.read == 5  # a finished pass starts from the beginning next time
    assert Decimal(0) == sum(Decimal(r.writes) for r in (cut, rest, whole))
