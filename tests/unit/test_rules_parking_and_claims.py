"""SYNC.md rules 7 and 8 on the in-memory systems: a record that cannot be synced is parked
with backoff and given up on after the last attempt, until an operator retries it; one
writer per record, and one sweep per flow."""
from __future__ import annotations

from datetime import datetime

import pytest

from shopwave.engine import Report
from shopwave.state import LinkRaced
from tests.memory import make_world, world  # noqa: F401 - fixtures
from tests.memory.seeds import ADA

FLOW = "customer_to_wave"


def seconds_until_due(world, parked) -> float:
    return (datetime.fromisoformat(parked.due_at.replace("Z", "+00:00")) - world.wall.now()).total_seconds()


def test_given_wave_refusing_a_customer_when_swept_then_it_is_parked_with_the_reason_and_the_others_sync(world):
    refused = world.shop.create("customers", {**ADA, "email": "refused@example.com"})
    others = [world.shop.create("customers", {**ADA, "email": f"c{i}@example.com"}) for i in range(3)]
    world.sides["wave"].faults.refuse("create", "Province code 'CA-ONTARIO' is not an ISO 3166-2 code")

    report = world.run(FLOW)

    assert report.created == 3 and report.parked == 1
    [parked] = world.store.parked(FLOW)
    assert parked.source_id == refused["id"] and parked.attempts == 1 and "CA-ONTARIO" in parked.reason
    assert {c["displayId"] for c in world.wave.customers()} == {c["id"] for c in others}


def test_given_a_parked_record_when_retried_then_it_waits_its_backoff_which_doubles_each_time(make_world):
    world = make_world(park_backoff=60)
    customer = world.shop.create("customers", ADA)
    world.sides["wave"].faults.refuse("create", times=3)
    world.run(FLOW)
    [first] = world.store.parked(FLOW)
    first_wait = seconds_until_due(world, first)

    world.later(30)
    world.run(FLOW)
    [not_yet] = world.store.parked(FLOW)
    world.later(31)
    world.run(FLOW)
    [second] = world.store.parked(FLOW)
    second_wait = seconds_until_due(world, second)
    world.later(61)
    world.run(FLOW)
    [halfway] = world.store.parked(FLOW)

    assert first.attempts == 1 and 59 < first_wait <= 60
    assert not_yet.attempts == 1  # 30 s into a 60 s wait: not retried
    assert second.attempts == 2 and 119 < second_wait <= 120
    assert halfway.attempts == 2  # 61 s into a 120 s wait
    assert world.link("customer", customer["id"]) is None


def test_given_a_record_refused_on_every_attempt_when_the_last_one_fails_then_only_an_operator_retry_syncs_it(make_world):
    world = make_world(park_backoff=1, park_max_attempts=3)
    customer = world.shop.create("customers", ADA)
    world.sides["wave"].faults.refuse("create", times=3)
    for _ in range(3):
        world.run(FLOW)
        world.later(10)
    [gave_up] = world.store.parked(FLOW)
    world.later(30 * 24 * 3600)
    untouched = world.run(FLOW)
    [a_month_later] = world.store.parked(FLOW)

    retried = world.sync_ids(FLOW, [customer["id"]])  # `ops retry customer_to_wave <id>`

    assert gave_up.attempts == 3 and gave_up.due_at.startswith("9999")
    assert untouched.read == 0 and a_month_later.attempts == 3
    assert retried.created == 1 and retried.unparked == 1 and world.store.parked(FLOW) == []
    assert world.wave_record("customer", customer["id"])["email"] == "ada@example.com"


def test_given_a_parked_record_that_is_fixed_when_it_falls_due_then_it_syncs_and_leaves_the_parked_list(world):
    customer = world.shop.create("customers", ADA)
    world.sides["wave"].faults.refuse("create")
    world.run(FLOW)
    world.later(61)

    report = world.run(FLOW)

    assert report.created == 1 and report.unparked == 1
    assert world.store.parked(FLOW) == [] and world.link("customer", customer["id"]) is not None


def test_given_another_writer_holding_a_records_claim_when_swept_then_it_is_parked_busy_and_nothing_is_written(world):
    customer = world.shop.create("customers", ADA)
    assert world.store.claim(f"customer#shop#{customer['id']}", "a webhook in another Lambda", world.engine.claim_lease)

    report = world.run(FLOW)

    assert report.parked == 1 and report.created == 0 and world.wave.customers() == []
    [parked] = world.store.parked(FLOW)
    assert parked.kind == "ClaimBusy"


def test_given_a_claim_left_by_a_writer_that_died_when_its_lease_runs_out_then_the_record_syncs(world):
    customer = world.shop.create("customers", ADA)
    world.store.claim(f"customer#shop#{customer['id']}", "a process that died", world.engine.claim_lease)
    world.run(FLOW)
    world.later(world.engine.claim_lease.total_seconds() + 61)  # the lease, and the parked record's first backoff

    report = world.run(FLOW)

    assert report.created == 1 and report.unparked == 1
    assert len(world.wave.customers()) == 1


def test_given_a_sweep_of_a_flow_running_when_another_starts_then_the_second_does_nothing(world):
    world.shop.create("customers", ADA)
    assert world.store.claim(f"sweep#{FLOW}", "the running sweep", world.engine.sweep_lease)

    report: Report = world.run(FLOW)

    assert report.busy and report.read == 0 and world.wave.customers() == []


def test_given_a_webhook_syncing_a_record_while_a_sweep_has_it_in_its_page_when_the_sweep_reaches_it_then_one_counterpart(world):
    first = world.shop.create("customers", {**ADA, "email": "first@example.com"})
    second = world.shop.create("customers", {**ADA, "email": "second@example.com"})
    # the sweep has read both (and found no link for either); a webhook delivery for the second
    # syncs it while the sweep is still writing the first
    world.at("after_record", lambda: world.sync_ids(FLOW, [second["id"]]))

    report = world.run(FLOW)

    assert report.created == 1 and report.echoes == 1
    assert sorted(c["displayId"] for c in world.wave.customers()) == sorted([first["id"], second["id"]])


def test_given_two_writers_that_read_one_link_when_both_save_then_the_second_loses_the_race_and_nothing_is_overwritten(world):
    customer = world.shop.create("customers", ADA)
    world.run(FLOW)
    stale = world.link("customer", customer["id"])
    fresh = world.link("customer", customer["id"])
    fresh.state = {**fresh.state, "phone": "first writer"}
    world.store.save_link(fresh)
    stale.state = {**stale.state, "phone": "second writer"}

    with pytest.raises(LinkRaced):
        world.store.save_link(stale)

    assert world.link("customer", customer["id"]).state["phone"] == "first writer"


def test_given_a_backfill_written_four_records_at_a_time_when_it_settles_then_every_record_has_exactly_one_counterpart(make_world):
    world = make_world(concurrency=4)
    customers = [world.shop.create("customers", {**ADA, "email": f"c{i}@example.com"}) for i in range(24)]
    world.wave.create_customer(name="Ada Lovelace", email="c7@example.com")  # one to adopt

    report = world.run(FLOW)
    world.settle()

    assert (report.created, report.adopted, report.parked) == (23, 1, 0)
    assert sorted(c["email"] for c in world.wave.customers()) == sorted(c["email"] for c in customers)
    assert len({world.link("customer", c["id"]).wave_id for c in customers}) == 24
