"""SYNC.md rule 9 on the in-memory systems: deletes follow the entity's policy."""
from __future__ import annotations

from tests.memory import world  # noqa: F401 - fixture
from tests.memory.seeds import ADA, WIDGET, seed_order


def test_given_a_cancelled_order_with_a_draft_invoice_when_synced_then_the_invoice_is_deleted_and_nothing_more_is_written(world):
    _, _, _, order = seed_order(world)
    world.settle()
    world.shop.update("orders", order["id"], {"status": "cancelled"})

    report = world.run("order_to_wave")

    assert report.deleted == 1 and world.wave.invoices() == []
    assert world.link("order", order["id"]).status == "deleted"
    assert world.run("order_to_wave").writes == 0


def test_given_a_cancelled_order_with_an_approved_invoice_when_synced_then_the_invoice_is_kept_and_an_operator_is_told(world):
    _, _, _, order = seed_order(world)
    world.settle()
    invoice = world.wave_record("order", order["id"])
    world.wave.approve_invoice(invoice["id"])
    world.shop.update("orders", order["id"], {"status": "cancelled"})

    report = world.run("order_to_wave")

    assert report.kept == 1 and report.deleted == 0 and report.conflicts == 1
    assert world.wave.get_invoice(invoice["id"])["status"] == "UNPAID"
    [conflict] = world.store.conflicts("order")
    assert conflict["field"] == "@delete" and "UNPAID" in conflict["reason"]


def test_given_a_customer_deleted_in_the_shop_when_synced_then_wave_keeps_it_and_its_later_edits_stop_travelling(world):
    customer = world.shop.create("customers", ADA)
    world.settle()
    world.shop.delete("customers", customer["id"])

    deleted = world.run("customer_to_wave")
    world.wave.update_customer(world.link("customer", customer["id"]).wave_id, phone="+1 416 555 0199")
    world.reset_counters()
    world.settle()

    assert deleted.kept == 1 and deleted.deleted == 0
    assert len(world.wave.customers()) == 1 and world.link("customer", customer["id"]).status == "kept"
    assert world.shop_writes == 0 and world.wave_writes == 0 and world.store.parked("customer_to_webshop") == []


def test_given_a_product_made_inactive_in_the_shop_when_synced_then_wave_archives_it_and_the_shop_stays_inactive(world):
    product = world.shop.create("products", WIDGET)
    world.settle()
    world.shop.update("products", product["id"], {"active": False})

    world.settle()

    assert world.wave_record("product", product["id"])["isArchived"] is True
    assert world.shop.get("products", product["id"])["active"] is False


def test_given_an_inactive_shop_product_never_synced_when_swept_then_nothing_is_created_in_wave(world):
    world.shop.create("products", {**WIDGET, "active": False})

    report = world.run("product_to_wave")

    assert report.skipped == 1 and world.wave.products() == []


def test_given_a_product_archived_in_wave_when_reactivated_in_the_shop_then_a_new_wave_product_replaces_it(world):
    product = world.shop.create("products", WIDGET)
    world.settle()
    archived = world.link("product", product["id"]).wave_id
    world.wave.archive_product(archived)
    world.settle()
    assert world.shop.get("products", product["id"])["active"] is False

    world.shop.update("products", product["id"], {"active": True})
    report = world.run("product_to_wave")
    world.settle()

    replacement = world.link("product", product["id"]).wave_id
    assert report.created == 1 and replacement != archived
    assert world.store.get_link("product", "wave", archived) is None
    [active] = [p for p in world.wave.products() if not p["isArchived"]]
    assert (active["id"], active["name"]) == (replacement, "Widget")
    assert any(p["id"] == archived and p["isArchived"] for p in world.wave.products())  # it keeps its history
    assert world.shop.get("products", product["id"])["active"] is True
