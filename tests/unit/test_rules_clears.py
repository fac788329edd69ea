"""Clearing a field (wave/clears.py, SYNC.md "Clearing a field"): text is cleared with "", other
fields with null, and Wave's handling of a null is undocumented, so the Wave sandbox plays all
three answers (`null_in_patch`): it clears, it refuses the patch (didSucceed: false), or it
answers a GraphQL error. Under each the merge stays correct: a clear Wave takes is not lost, one
it does not take is agreed on Wave's value and reported, and nothing bounces."""
from __future__ import annotations

import pytest

from tests.memory import world  # noqa: F401 - fixture
from tests.memory.seeds import ADA

MODES = ("clears", "input_error", "graphql_error")


def linked_ada(world):
    customer = world.shop.create("customers", ADA)
    world.settle()
    world.reset_counters()
    return customer


def quiet(world) -> bool:
    world.reset_counters()
    world.settle()
    return world.wave_writes == 0 and world.shop_writes == 0


@pytest.mark.parametrize("mode", MODES)
def test_given_text_cleared_in_the_shop_when_synced_under_any_null_answer_then_wave_clears_it_in_one_write(world, mode):
    customer = linked_ada(world)
    world.wave.null_in_patch(mode)
    world.shop.update("customers", customer["id"], {"phone": None, "notes": ""})

    world.run("customer_to_wave")

    wave = world.wave_record("customer", customer["id"])
    assert not wave["phone"] and not wave["internalNotes"]  # "" is no value, on both sides
    assert world.wave_writes == 1 and world.store.conflicts("customer") == []
    assert quiet(world)
    shop = world.shop.get("customers", customer["id"])
    assert (shop["phone"], shop["notes"]) in ((None, None), (None, ""))  # the clear stayed


def test_given_a_currency_cleared_in_the_shop_when_wave_takes_a_null_then_wave_clears_it_and_nothing_bounces(world):
    customer = linked_ada(world)
    world.shop.update("customers", customer["id"], {"currency": None, "phone": "+1 416 555 0199"})

    world.run("customer_to_wave")

    wave = world.wave_record("customer", customer["id"])
    assert wave["currency"] is None and wave["phone"] == "+1 416 555 0199"
    assert world.wave_writes == 1 and world.store.conflicts("customer") == []
    assert quiet(world)
    assert world.shop.get("customers", customer["id"])["currency"] is None


@pytest.mark.parametrize("mode", ["input_error", "graphql_error"])
def test_given_a_currency_cleared_in_the_shop_when_wave_refuses_the_null_then_the_rest_lands_the_pair_agrees_on_wave_s_currency_and_nothing_bounces(world, mode):
    customer = linked_ada(world)
    world.wave.null_in_patch(mode)
    world.shop.update("customers", customer["id"], {"currency": None, "phone": "+1 416 555 0199"})

    report = world.run("customer_to_wave")

    wave = world.wave_record("customer", customer["id"])
    assert report.parked == 0 and wave["phone"] == "+1 416 555 0199"  # sent again without the null
    assert wave["currency"]["code"] == "CAD" and world.link("customer", customer["id"]).state["currency"] == "CAD"
    assert world.wave_writes == 2  # the refused patch and the one without its null
    [conflict] = world.store.conflicts("customer")
    assert conflict["field"] == "currency" and conflict["winner"] == "wave"
    assert quiet(world)  # no write either way: the shop keeps its clear, Wave its currency
    assert world.shop.get("customers", customer["id"])["currency"] is None


@pytest.mark.parametrize("mode", ["input_error", "graphql_error"])
def test_given_wave_refused_a_null_once_when_the_next_clear_comes_then_no_null_is_sent_again(world, mode):
    customer, other = linked_ada(world), world.shop.create("customers", {**ADA, "email": "bo@example.com"})
    world.settle()
    world.wave.null_in_patch(mode)
    world.shop.update("customers", customer["id"], {"currency": None})
    world.run("customer_to_wave")
    world.reset_counters()
    world.shop.update("customers", other["id"], {"currency": None, "phone": None})

    world.run("customer_to_wave")

    wave = world.wave_record("customer", other["id"])
    assert world.wave_writes == 1 and not wave["phone"] and wave["currency"]["code"] == "CAD"
    assert len(world.store.conflicts("customer")) == 2


@pytest.mark.parametrize("mode", MODES)
def test_given_a_billing_country_and_region_cleared_in_the_shop_when_synced_then_wave_ends_without_them_and_nothing_bounces(world, mode):
    customer = linked_ada(world)
    world.wave.null_in_patch(mode)
    world.shop.update("customers", customer["id"], {"billing_address": {**ADA["billing_address"], "country": None,
                                                                        "region": None}})

    world.run("customer_to_wave")

    address = world.wave_record("customer", customer["id"])["address"]
    # Wave replaces an address whole: one sent without its nulls has no country or province either
    assert address["country"] is None and address["province"] is None and address["city"] == "Toronto"
    assert world.store.conflicts("customer") == []
    assert quiet(world)
