"""A read-only resource on the in-memory systems: customers kept in Wave and mirrored to the shop,
declared with no Wave `write` part. Wave's records reach the shop; nothing travels the other way:
a shop-side record or edit is skipped ("not in this direction"), never written to Wave and never
parked, and the Wave side refuses a write if asked."""
from __future__ import annotations

import dataclasses

import pytest

from shopwave.clients.errors import Refused
from shopwave.engine import Flow
from shopwave.flows.customers import CUSTOMER
from shopwave.mapping import SHOP, WAVE
from tests.memory import world  # noqa: F401 - fixture
from tests.memory.seeds import ADA

MIRRORED = dataclasses.replace(CUSTOMER, name="mirrored_customer", wave=dataclasses.replace(CUSTOMER.wave, write=None))
TO_SHOP = Flow("mirrored_customer_to_webshop", MIRRORED, WAVE)
TO_WAVE = Flow("mirrored_customer_to_wave", MIRRORED, SHOP)


@pytest.fixture
def mirrored(world):
    """A Wave customer synced to the shop; the counters reset after."""
    wave = world.wave.create_customer(name="Ada Lovelace", firstName="Ada", lastName="Lovelace", email="ada@example.com")
    report = world.engine.sweep(TO_SHOP)
    assert report.created == 1 and report.parked == 0
    world.reset_counters()
    link = world.store.get_link(MIRRORED.name, WAVE, wave["id"])
    return world.shop.get("customers", link.shop_id), wave


def test_given_a_read_only_wave_resource_when_a_wave_record_syncs_then_it_reaches_the_shop(world, mirrored):
    shop, wave = mirrored
    assert shop["email"] == "ada@example.com" and shop["first_name"] == "Ada"
    world.wave.update_customer(wave["id"], phone="+44 20 0000")

    report = world.engine.sweep(TO_SHOP)

    assert report.updated == 1 and world.shop.get("customers", shop["id"])["phone"] == "+44 20 0000"
    assert world.wave_writes == 0


def test_given_a_read_only_wave_resource_when_the_shop_changes_then_nothing_is_written_to_wave_or_parked(world, mirrored):
    shop, wave = mirrored
    world.shop.update("customers", shop["id"], {"phone": "+1 555 0100"})  # an edit of the linked record
    new = world.shop.create("customers", {**ADA, "email": "grace@example.com"})  # a record Wave does not have

    report = world.engine.sweep(TO_WAVE)

    assert (report.read, report.skipped, report.parked, report.writes) == (2, 2, 0, 0)
    assert world.wave_writes == 0 and len(world.wave.customers()) == 1
    assert world.wave.get_customer(wave["id"])["phone"] is None
    assert world.store.parked(TO_WAVE.name) == [] and world.store.get_link(MIRRORED.name, SHOP, new["id"]) is None
    assert world.engine.sweep(TO_WAVE).read == 0  # skipped, not held back: the watermark moved past them
    assert world.engine.sync_ids(TO_WAVE, [new["id"], shop["id"]]).skipped == 2  # a webhook's delivery: the same
    assert world.store.parked(TO_WAVE.name) == [] and world.wave_writes == 0


def test_given_a_read_only_wave_resource_when_its_side_is_asked_to_write_then_it_refuses(world, mirrored):
    shop, wave = mirrored
    side = world.sides[WAVE]
    assert not side.writable(MIRRORED) and side.writable(CUSTOMER)
    with pytest.raises(Refused):
        side.create(MIRRORED, {"name": "Grace Hopper"}, "c_9999")
    with pytest.raises(Refused):
        side.update(MIRRORED, world.wave.get_customer(wave["id"]), {"phone": "+1 555 0100"})
    assert world.wave_writes == 0 and len(world.wave.customers()) == 1
