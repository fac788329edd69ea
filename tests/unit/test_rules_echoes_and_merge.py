"""SYNC.md rules 3 and 4 on the in-memory systems: no echoes, and the three-way merge."""
from __future__ import annotations

from tests.memory import world  # noqa: F401 - fixture
from tests.memory.seeds import ADA, seed_order


def test_given_everything_settled_when_every_flow_runs_again_then_neither_system_is_written(world):
    seed_order(world, order_discount="5.00")
    world.wave.create_customer(name="Bo Chen", firstName="Bo", lastName="Chen", email="bo@bolt.test")
    world.settle()
    world.reset_counters()

    [reports] = world.settle()

    assert world.wave_writes == 0 and world.shop_writes == 0
    assert sum(r.writes for r in reports) == 0 and sum(r.parked for r in reports) == 0


def test_given_a_shop_edit_carried_to_wave_when_the_reverse_flow_reads_wave_then_it_is_an_echo(world):
    customer = world.shop.create("customers", ADA)
    world.settle()
    world.shop.update("customers", customer["id"], {"phone": "+1 416 555 0199"})
    world.run("customer_to_wave")
    world.reset_counters()

    echo = world.run("customer_to_webshop")

    assert echo.echoes == 1 and echo.writes == 0 and world.shop_writes == 0


def test_given_a_field_wave_does_not_have_edited_in_the_shop_when_synced_then_wave_is_not_written(world):
    _, widget, _, _ = seed_order(world)
    world.settle()
    world.reset_counters()
    world.shop.update("products", widget["id"], {"sku": "W-1-NEW"})

    report = world.run("product_to_wave")

    assert report.echoes == 1 and world.wave_writes == 0


def test_given_a_field_changed_only_in_the_shop_when_synced_then_wave_gets_it_and_its_other_fields_stay(world):
    customer = world.shop.create("customers", ADA)
    world.settle()
    wave_id = world.link("customer", customer["id"]).wave_id
    world.wave.update_customer(wave_id, internalNotes="VIP")  # no change of its own
    world.shop.update("customers", customer["id"], {"billing_address": {"city": "Ottawa"}})
    world.reset_counters()

    report = world.run("customer_to_wave")

    in_wave = world.wave.get_customer(wave_id)
    assert report.updated == 1 and world.wave_writes == 1
    assert in_wave["address"]["city"] == "Ottawa"
    assert in_wave["address"]["addressLine1"] == "1 King St W" and in_wave["address"]["province"]["code"] == "CA-ON"


def test_given_a_field_changed_only_in_wave_when_synced_then_the_shop_gets_it(world):
    customer = world.shop.create("customers", ADA)
    world.settle()
    world.wave.update_customer(world.link("customer", customer["id"]).wave_id, mobile="+1 647 555 0000")

    world.settle()

    assert world.shop.get("customers", customer["id"])["mobile"] == "+1 647 555 0000"
    assert world.store.conflicts("customer") == []


def test_given_both_sides_edited_when_synced_then_each_side_keeps_the_others_fields_and_the_later_edit_wins_a_clash(world):
    customer = world.shop.create("customers", ADA)
    world.settle()
    wave_id = world.link("customer", customer["id"]).wave_id
    world.shop.update("customers", customer["id"], {"phone": "111 shop", "website": "https://shop.example"})
    world.wave.update_customer(wave_id, phone="222 wave", internalNotes="wave note")  # the later phone edit

    world.settle()

    shop, wave = world.shop.get("customers", customer["id"]), world.wave.get_customer(wave_id)
    assert shop["website"] == wave["website"] == "https://shop.example"
    assert shop["notes"] == wave["internalNotes"] == "wave note"
    assert shop["phone"] == wave["phone"] == "222 wave"
    [conflict] = world.store.conflicts("customer")
    assert (conflict["field"], conflict["winner"], conflict["shop"], conflict["wave"]) == ("phone", "wave", "111 shop", "222 wave")


def test_given_both_sides_edited_the_same_field_when_the_shop_edit_is_later_then_the_shop_value_wins_everywhere(world):
    customer = world.shop.create("customers", ADA)
    world.settle()
    wave_id = world.link("customer", customer["id"]).wave_id
    world.wave.update_customer(wave_id, phone="222 wave")
    world.shop.update("customers", customer["id"], {"phone": "111 shop"})  # later

    world.settle()

    assert world.shop.get("customers", customer["id"])["phone"] == world.wave.get_customer(wave_id)["phone"] == "111 shop"
    [conflict] = world.store.conflicts("customer")
    assert (conflict["field"], conflict["winner"]) == ("phone", "shop")
