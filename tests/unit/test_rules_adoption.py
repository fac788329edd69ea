"""SYNC.md rule 2 on the in-memory systems: adopt before create; several candidates are a
conflict, never a guess; a crash between creating and linking is harmless."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.memory import make_world, world  # noqa: F401 - fixtures
from tests.memory.seeds import ADA, WIDGET, seed_order
from tests.memory.world import Crash

NO_EMAIL = {"first_name": "Nora", "last_name": "Quill", "phone": "+1 416 555 0142", "currency": "CAD"}


def test_given_one_wave_customer_with_the_email_when_the_shop_customer_syncs_then_it_is_adopted_and_each_fills_the_other(world):
    existing = world.wave.create_customer(name="Ada Lovelace", email="ADA@example.com", phone="+44 20 0000")
    customer = world.shop.create("customers", {**ADA, "phone": None})

    report = world.run("customer_to_wave")

    assert report.adopted == 1 and report.created == 0
    assert len(world.wave.customers()) == 1
    assert world.link("customer", customer["id"]).wave_id == existing["id"]
    assert world.shop.get("customers", customer["id"])["phone"] == "+44 20 0000"  # Wave's filled the shop's empty one
    assert world.wave.get_customer(existing["id"])["address"]["city"] == "Toronto"  # the shop's reached Wave


def test_given_two_wave_customers_with_the_email_when_syncing_then_a_conflict_is_recorded_the_record_parked_and_none_created(world):
    world.wave.create_customer(name="Ada One", email="ada@example.com")
    world.wave.create_customer(name="Ada Two", email="ada@example.com")
    customer = world.shop.create("customers", ADA)

    report = world.run("customer_to_wave")

    assert (report.parked, report.conflicts, report.created, report.adopted) == (1, 1, 0, 0)
    assert len(world.wave.customers()) == 2
    [parked] = world.store.parked("customer_to_wave")
    assert parked.source_id == customer["id"] and parked.kind == "Ambiguous"
    [conflict] = world.store.conflicts("customer")
    assert conflict["field"] == "@adopt" and len(conflict["candidates"].split(", ")) == 2


def test_given_a_wave_customer_already_linked_to_another_shop_customer_when_a_namesake_syncs_then_a_new_one_is_created(world):
    first = world.shop.create("customers", ADA)
    world.run("customer_to_wave")
    second = world.shop.create("customers", {**ADA, "first_name": "Augusta"})  # the same email, another person

    report = world.run("customer_to_wave")

    assert report.created == 1 and report.adopted == 0 and report.conflicts == 0
    assert world.link("customer", first["id"]).wave_id != world.link("customer", second["id"]).wave_id


def test_given_a_wave_customer_whose_display_id_names_a_shop_customer_when_read_from_wave_then_it_links_to_that_one(world):
    customer = world.shop.create("customers", {**ADA, "email": None})  # nothing else to find it by
    world.wave.create_customer(name="Ada Lovelace", displayId=customer["id"])

    report = world.run("customer_to_webshop")

    assert report.adopted == 1 and report.created == 0
    assert len(world.shop.all("customers")) == 1


def test_given_a_wave_product_of_the_same_name_in_another_case_when_the_shop_product_syncs_then_it_is_adopted(world):
    existing = world.wave.create_product(name="WIDGET", unitPrice="19.99")
    product = world.shop.create("products", WIDGET)

    report = world.run("product_to_wave")

    assert report.adopted == 1 and len(world.wave.products()) == 1
    assert world.link("product", product["id"]).wave_id == existing["id"]


def test_given_an_invoice_with_the_orders_number_when_the_order_syncs_then_it_is_adopted_and_brought_to_the_orders_lines(world):
    customer, widget, _, order = seed_order(world)
    world.settle(flows=("customer_to_wave", "product_to_wave"))
    existing = world.wave.create_invoice(customerId=world.link("customer", customer["id"]).wave_id,
                                         invoiceNumber=order["number"],
                                         items=[{"productId": world.link("product", widget["id"]).wave_id,
                                                 "quantity": "1", "unitPrice": "1"}])

    report = world.run("order_to_wave")

    assert report.adopted == 1 and report.created == 0 and len(world.wave.invoices()) == 1
    assert Decimal(world.wave.get_invoice(existing["id"])["total"]["value"]) == Decimal(order["total"])


def test_given_a_run_that_died_after_wave_created_the_customer_when_the_next_run_comes_then_it_adopts_instead_of_duplicating(world):
    customer = world.shop.create("customers", ADA)
    world.crash_at("after_remote_write")
    with pytest.raises(Crash):  # the process dies between the create and the link
        world.run("customer_to_wave")
    assert len(world.wave.customers()) == 1 and world.link("customer", customer["id"]) is None
    world.later(15 * 60 + 1)  # the dead run's sweep lease and claim run out

    report = world.run("customer_to_wave")

    assert report.adopted == 1 and report.created == 0
    assert len(world.wave.customers()) == 1
    assert world.link("customer", customer["id"]).wave_id == world.wave.customers()[0]["id"]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_given_a_customer_without_email_whose_create_timed_out_after_wave_made_it_when_retried_then_it_is_adopted_not_created_twice(make_world, concurrency):
    world = make_world(concurrency=concurrency)
    others = [world.shop.create("customers", {**NO_EMAIL, "first_name": f"Other {i}"}) for i in range(3)]
    customer = world.shop.create("customers", NO_EMAIL)
    world.wave.create_customer(name="Nora Quill", firstName="Nora", lastName="Quill")  # a namesake, not it
    world.sides["wave"].faults.lose_answer("create", times=4)  # each create happens, no answer arrives

    down = world.run("customer_to_wave")
    assert down.failures and world.link("customer", customer["id"]) is None
    world.later(15 * 60 + 1)
    world.settle()

    made = [c for c in world.wave.customers() if c["displayId"]]
    assert sorted(c["displayId"] for c in made) == sorted(c["id"] for c in [*others, customer])  # one each
    link = world.link("customer", customer["id"])
    assert link.wave_id == next(c["id"] for c in made if c["displayId"] == customer["id"])
    assert len(world.wave.customers()) == 5  # the four, and the merchant's namesake left alone


def test_given_email_less_customers_in_a_backfill_when_synced_then_wave_is_listed_once_for_all_of_them(world):
    for i in range(30):
        world.shop.create("customers", {**NO_EMAIL, "first_name": f"Nora {i}"})
    world.reset_counters()

    report = world.run("customer_to_wave")

    assert report.created == 30 and len(world.wave.customers()) == 30
    assert world.sides["wave"].faults.calls["pages"] <= 2  # one listing for the page, not one per customer
