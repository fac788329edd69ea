"""Products both ways: fields, sku in the link, adoption by exact name, archiving."""
from __future__ import annotations

from decimal import Decimal

WIDGET = {"sku": "W-1", "name": "Widget", "description": "A fine widget", "price": "19.90", "currency": "CAD"}


def wave_products(stack, name=None):
    return [p for p in stack.wave.products() if name is None or p["name"] == name]


def test_given_a_new_shop_product_when_synced_then_wave_has_it_and_the_sku_stays_in_the_link(stack):
    product = stack.shop.create("products", WIDGET)
    assert stack.run("product_to_wave").created == 1
    [in_wave] = wave_products(stack, "Widget")
    assert Decimal(in_wave["unitPrice"]) == Decimal("19.90") and in_wave["description"] == "A fine widget"
    link = stack.store.get_link("product", "shop", product["id"])
    assert link.wave_id == in_wave["id"] and link.extra == {"sku": "W-1"}
    back = stack.run("product_to_webshop")
    assert back.writes == 0 and back.echoes == 1


def test_given_a_wave_product_with_the_same_name_when_synced_then_it_is_adopted(stack):
    existing = stack.wave.create_product(name="Widget", unitPrice="19.90")
    stack.wave.create_product(name="Widget deluxe", unitPrice="29.90")
    product = stack.shop.create("products", WIDGET)
    report = stack.run("product_to_wave")
    assert report.adopted == 1 and report.created == 0
    assert stack.store.get_link("product", "shop", product["id"]).wave_id == existing["id"]
    [adopted] = [p for p in stack.wave.products() if p["id"] == existing["id"]]
    assert adopted["description"] == "A fine widget"  # the shop's description reached the adopted product
    assert len(wave_products(stack, "Widget")) == 1


def test_given_two_wave_products_with_the_same_name_when_synced_then_a_conflict_is_reported(stack):
    stack.wave.create_product(name="Widget", unitPrice="1")
    stack.wave.create_product(name="Widget", unitPrice="2")
    stack.shop.create("products", WIDGET)
    report = stack.run("product_to_wave")
    assert report.parked == 1 and report.conflicts == 1 and len(wave_products(stack, "Widget")) == 2


def test_given_a_product_made_inactive_or_deleted_in_the_shop_when_synced_then_wave_archives_it(stack):
    inactive = stack.shop.create("products", WIDGET)
    deleted = stack.shop.create("products", {**WIDGET, "sku": "G-1", "name": "Gadget"})
    stack.settle()
    stack.shop.update("products", inactive["id"], {"active": False})
    stack.shop.delete("products", deleted["id"])
    stack.reset_counters()
    assert stack.run("product_to_wave").updated == 2
    assert all(p["isArchived"] for p in stack.wave.products())
    stack.settle()
    stack.reset_counters()
    stack.settle()
    assert stack.wave_writes() == 0 and stack.shop_writes() == 0


def test_given_an_inactive_shop_product_never_synced_when_swept_then_nothing_is_created(stack):
    stack.shop.create("products", {**WIDGET, "active": False})
    assert stack.run("product_to_wave").skipped == 1 and stack.wave.products() == []


def test_given_a_product_archived_in_wave_when_synced_then_the_shop_product_is_inactive(stack):
    product = stack.shop.create("products", WIDGET)
    stack.settle()
    stack.wave.archive_product(stack.store.get_link("product", "shop", product["id"]).wave_id)
    report = stack.run("product_to_webshop")
    assert report.updated == 1
    assert stack.shop.get("products", product["id"])["active"] is False


def test_given_a_price_edited_in_wave_when_synced_then_the_shop_has_the_new_price(stack):
    product = stack.shop.create("products", WIDGET)
    stack.settle()
    stack.wave.update_product(stack.store.get_link("product", "shop", product["id"]).wave_id, unitPrice="24.5")
    stack.run("product_to_webshop")
    assert stack.shop.get("products", product["id"])["price"] == "24.50"
    assert stack.run("product_to_wave").writes == 0


def test_given_an_income_account_configured_when_a_product_is_created_then_wave_uses_it(stack, monkeypatch):
    other = next(a for a in stack.wave.accounts() if a["name"] == "Other Income")
    monkeypatch.setenv("WAVE_INCOME_ACCOUNT_ID", other["id"])
    stack.rebuild()
    stack.shop.create("products", WIDGET)
    stack.run("product_to_wave")
    [in_wave] = wave_products(stack, "Widget")
    assert in_wave["incomeAccount"]["id"] == other["id"]


def test_given_a_product_archived_in_wave_when_reactivated_in_the_shop_then_a_new_wave_product_replaces_it(stack):
    product = stack.shop.create("products", WIDGET)
    stack.settle()
    archived = stack.store.get_link("product", "shop", product["id"]).wave_id
    stack.wave.archive_product(archived)
    stack.settle()
    assert stack.shop.get("products", product["id"])["active"] is False
    stack.shop.update("products", product["id"], {"active": True})
    report = stack.run("product_to_wave")
    assert report.created == 1
    replacement = stack.store.get_link("product", "shop", product["id"]).wave_id
    assert replacement != archived
    assert stack.store.get_link("product", "wave", archived) is None  # the old key went with the replacement
    [active] = [p for p in stack.wave.products() if not p["isArchived"]]
    assert active["id"] == replacement and active["name"] == "Widget"
    stack.settle()
    assert stack.shop.get("products", product["id"])["active"] is True


def test_given_a_product_deleted_in_the_shop_when_edited_in_wave_then_nothing_is_written_or_parked(stack):
    product = stack.shop.create("products", WIDGET)
    stack.settle()
    stack.shop.delete("products", product["id"])
    stack.settle()
    wave_id = stack.store.get_link("product", "shop", product["id"]).wave_id
    stack.wave.update_product(wave_id, description="edited in Wave after the shop deleted it")
    stack.reset_counters()
    report = stack.run("product_to_webshop")
    assert report.skipped == 1 and report.parked == 0 and stack.shop_writes() == 0
    stack.settle()
    assert stack.store.parked("product_to_webshop") == []
