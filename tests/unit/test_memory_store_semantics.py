"""The in-memory state store keeps the DynamoDB store's semantics: the same scenarios, run on
both (state/store.py on moto in-process, tables from template.yaml, and tests/memory/store.py),
must end the same way. The rule tests trust the in-memory store because of these."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws

from devstack.template import create_tables, load_template
from shopwave.state import Link, LinkRaced, StateStore, Watermark
from shopwave.state import store as dynamodb_store
from shopwave.state.models import bind
from tests.memory import MemoryStore
from tests.memory.clock import WallClock


@pytest.fixture(scope="module")
def tables():
    with mock_aws():
        yield create_tables(boto3.client("dynamodb", region_name="us-east-1"), load_template(), prefix="semantics-")


@pytest.fixture(params=["dynamodb", "memory"])
def store(request, tables, monkeypatch):
    """(store, clock): the clock moves the store's "now" on (leases, backoff)."""
    clock = WallClock()
    settings = {"park_backoff": timedelta(seconds=60), "park_max_attempts": 3}
    if request.param == "memory":
        return MemoryStore(clock=clock, **settings), clock
    bind(tables["LINKS_TABLE"], tables["STATE_TABLE"])
    monkeypatch.setattr(dynamodb_store, "_now", clock.now)
    return StateStore(**settings), clock


def unique(name: str) -> str:
    """Keys no other test (the tables live for the module) has used."""
    return f"{name}-{datetime.now(timezone.utc).timestamp()}"


def new_link(entity="customer", shop_id=None, wave_id=None) -> Link:
    link = Link.between(entity, {"shop": shop_id or unique("c"), "wave": wave_id or unique("W")})
    link.state, link.state_hash = {"email": "ada@example.com"}, "h1"
    return link


def test_given_a_saved_link_when_read_by_either_id_then_both_give_it_at_revision_one(store):
    store, _ = store
    link = new_link()
    store.save_link(link)

    by_shop, by_wave = store.get_link("customer", "shop", link.shop_id), store.get_link("customer", "wave", link.wave_id)

    assert link.revision == by_shop.revision == by_wave.revision == 1
    assert by_shop.state == by_wave.state == {"email": "ada@example.com"}


def test_given_two_writers_of_one_link_when_the_second_saves_then_it_raced_and_the_first_ones_state_stays(store):
    store, _ = store
    link = new_link()
    store.save_link(link)
    first, second = store.get_link("customer", "shop", link.shop_id), store.get_link("customer", "shop", link.shop_id)
    first.state = {"email": "first@example.com"}
    store.save_link(first)
    second.state = {"email": "second@example.com"}

    with pytest.raises(LinkRaced):
        store.save_link(second)

    assert store.get_link("customer", "wave", link.wave_id).state == {"email": "first@example.com"}


def test_given_a_wave_record_linked_already_when_another_new_link_names_it_then_it_raced(store):
    store, _ = store
    taken = new_link()
    store.save_link(taken)

    with pytest.raises(LinkRaced):
        store.save_link(new_link(wave_id=taken.wave_id))

    assert store.get_link("customer", "wave", taken.wave_id).shop_id == taken.shop_id


def test_given_a_replaced_counterpart_when_the_link_moves_then_the_old_id_no_longer_finds_it(store):
    store, _ = store
    link = new_link("product")
    store.save_link(link)
    old = link.wave_id
    link.set_id("wave", unique("W"))

    store.save_link(link, replaces=("wave", old))

    assert store.get_link("product", "wave", old) is None
    assert store.get_link("product", "shop", link.shop_id).wave_id == link.wave_id
    assert store.get_link("product", "wave", link.wave_id).revision == 2


def test_given_a_held_claim_when_another_owner_asks_then_it_waits_for_the_lease_to_run_out_and_only_the_owner_releases(store):
    store, clock = store
    key = unique("customer#shop#c")
    assert store.claim(key, "one", timedelta(seconds=60))

    refused = store.claim(key, "two", timedelta(seconds=60))
    store.release(key, "two")  # not its claim: nothing happens
    still_refused = store.claim(key, "two", timedelta(seconds=60))
    clock.advance(62)
    after_the_lease = store.claim(key, "two", timedelta(seconds=60))
    store.release(key, "one")  # its lease ran out: not its claim any more

    assert (refused, still_refused, after_the_lease) == (False, False, True)
    assert store.claim(key, "three", timedelta(seconds=60)) is False


def test_given_a_record_parked_again_and_again_when_listed_then_the_wait_doubles_and_the_last_attempt_gives_up(store):
    store, clock = store
    flow, record = unique("flow"), "c_1001"

    first = store.park(flow, record, "Refused: no")
    due_now = store.parked(flow, due_only=True)
    clock.advance(61)
    due_later = store.parked(flow, due_only=True)
    second = store.park(flow, record, "Refused: still no")
    third = store.park(flow, record, "Refused: never")

    def wait(parked):
        return (datetime.fromisoformat(parked.due_at.replace("Z", "+00:00")) - clock.now()).total_seconds()
    assert (first.attempts, second.attempts, third.attempts) == (1, 2, 3)
    assert due_now == [] and [p.source_id for p in due_later] == [record]
    assert 119 < wait(second) <= 120 and third.due_at.startswith("9999")
    assert store.parked_one(flow, record).reason == "Refused: never"
    store.unpark(flow, record)
    assert store.parked(flow) == []


def test_given_a_watermark_and_conflicts_when_read_back_then_they_are_as_saved_oldest_conflict_first(store):
    store, clock = store
    flow, entity = unique("flow"), unique("entity")
    store.save_watermark(flow, Watermark("2026-11-20T10:00:00.000000Z", ["c_1", "c_2"]))
    store.record_conflict(entity, "c_1", "phone", {"flow": flow, "winner": "wave", "shop": "1", "wave": "2"})
    clock.advance(1)
    store.record_conflict(entity, "c_1", "@adopt", {"flow": flow, "candidates": "W1, W2"})

    mark, conflicts = store.watermark(flow), store.conflicts(entity)

    assert (mark.ts, mark.ids) == ("2026-11-20T10:00:00.000000Z", ["c_1", "c_2"])
    assert [(c["field"], c["shop_id"]) for c in conflicts] == [("phone", "c_1"), ("@adopt", "c_1")]
    assert conflicts[0]["winner"] == "wave" and conflicts[1]["candidates"] == "W1, W2"
    assert store.watermark(unique("never")).ts is None
