"""Clearing a field (wave/clears.py, SYNC.md "Clearing a field"): text is cleared with "", other
fields with null, and Wave's handling of a null is undocumented, so the Wave sandbox plays all
three answers (`null_in_patch`): it clears, it refuses the patch (didSucceed: false), or it
answers a GraphQL error. Under each the merge stays correct: a clear Wave takes is not lost, one
it does not take is agreed on Wave's value and reported, and nothing bounces."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.memory import world  # noqa: F401 - fixture
from tests.memory.seeds import ADA, seed_order

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


class RecordingWave:
    """A Wave client that keeps each patch input and answers it as taken (or refuses nulls)."""
    business_id = "b"

    def __init__(self, refuse_nulls: bool = False):
        self.inputs, self.refuse_nulls = [], refuse_nulls

    def mutate(self, field, document, input_):
        from shopwave.wave.clears import has_nulls
        from shopwave.wave.client import WaveInputError

        self.inputs.append(input_)
        if self.refuse_nulls and has_nulls(input_):
            raise WaveInputError(field, [{"code": "BAD_USER_INPUT", "message": "null", "path": ["input"]}])
        return {"customer": {"id": input_["id"]}}


def test_given_clears_of_text_and_codes_when_a_patch_is_sent_then_text_is_empty_and_null_goes_only_where_wave_has_a_value():
    from shopwave.flows.customers import CUSTOMER
    from shopwave.wave.side import WaveSide

    current = {"id": "C1", "phone": "+1 416 555 0100", "currency": {"code": "CAD"},
               "address": {"addressLine1": "1 King St W", "city": "Toronto", "country": {"code": "CA"}, "province": None}}
    payload = {"phone": None, "currency": None, "address": {"addressLine1": None, "addressLine2": None, "city": "Ottawa",
                                                            "postalCode": None, "countryCode": None, "provinceCode": None}}
    wave = RecordingWave()
    WaveSide(wave).update(CUSTOMER, current, payload)
    assert wave.inputs == [{"id": "C1", "phone": "", "currency": None, "address": {
        "addressLine1": "", "addressLine2": "", "city": "Ottawa", "postalCode": "", "countryCode": None}}]

    refusing = RecordingWave(refuse_nulls=True)
    side = WaveSide(refusing)
    side.update(CUSTOMER, current, payload)
    side.update(CUSTOMER, current, payload)
    assert [("currency" in i, "countryCode" in i["address"]) for i in refusing.inputs] == [
        (True, True), (False, False), (False, False)]  # refused once, then sent without nulls at once


@pytest.mark.parametrize("mode", MODES)
def test_given_an_order_line_without_description_when_the_order_is_edited_under_any_null_answer_then_the_invoice_takes_it_in_one_write(world, mode):
    _, widget, _, order = seed_order(world)
    world.shop.update("products", widget["id"], {"description": "A widget"})  # what Wave would fill in
    world.settle()
    world.wave.null_in_patch(mode)
    lines = world.shop.get("orders", order["id"])["lines"]
    world.shop.update("orders", order["id"], {"note": None, "lines": [{**lines[0], "description": None, "quantity": "4"},
                                                                     lines[1]]})
    world.reset_counters()

    report = world.run("order_to_wave")

    invoice = world.wave_record("order", order["id"])
    assert report.parked == 0 and world.wave_writes == 1 and not invoice["memo"]
    assert Decimal(invoice["items"][0]["quantity"]) == 4 and not invoice["items"][0]["description"]
    assert quiet(world)
