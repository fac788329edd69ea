"""The deployment-wide Wave budget (state/budget.py) on moto's DynamoDB, the state table built from
template.yaml's key schema: what two Lambda containers (two SharedBudget objects) see together."""
from __future__ import annotations

import threading
import time

import boto3
import pytest
from moto import mock_aws

from devstack.template import create_tables, load_template
from shopwave.state.budget import SharedBudget
from shopwave.state.models import BudgetItem, bind


@pytest.fixture
def tables():
    with mock_aws():
        names = create_tables(boto3.client("dynamodb", region_name="us-east-1"), load_template(), prefix="budget-")
        bind(names["LINKS_TABLE"], names["STATE_TABLE"])
        yield names


def in_thread(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_given_two_containers_holding_both_slots_when_a_third_caller_acquires_then_it_waits_for_a_release(tables):
    first, second, third = (SharedBudget(max_concurrency=2) for _ in range(3))  # one per container
    first.acquire(), second.acquire()
    got_it = threading.Event()
    waiter = in_thread(lambda: (third.acquire(), got_it.set()))

    assert not got_it.wait(0.3)  # two requests in flight deployment-wide: the third waits
    first.release()
    assert got_it.wait(2)
    waiter.join()
    held = {item.sk: item.owner for item in BudgetItem.query("budget#wave") if item.owner}
    assert len(held) == 2 and set(held) <= {"slot#0", "slot#1"}


def test_given_a_container_died_holding_a_slot_when_its_lease_ends_then_another_caller_takes_it(tables):
    crashed = SharedBudget(max_concurrency=1, lease=0.5)
    warm = SharedBudget(max_concurrency=1)
    warm.acquire(), warm.release()  # a first request builds the DynamoDB client: not part of the lease
    started = time.monotonic()
    crashed.acquire()  # never released: the container was frozen or killed mid-request
    survivor = SharedBudget(max_concurrency=1, lease=0.5)
    survivor.acquire()
    assert 0.4 <= time.monotonic() - started < 3


def test_given_a_release_after_the_lease_ran_out_when_another_holds_the_slot_then_it_stays_theirs(tables):
    slow = SharedBudget(max_concurrency=1, lease=0.1)
    slow.acquire()
    time.sleep(0.15)
    other = SharedBudget(max_concurrency=1, lease=30)
    other.acquire()
    slow.release()  # too late: must not free the slot the other caller holds now
    [slot] = list(BudgetItem.query("budget#wave"))
    assert slot.owner is not None and slot.owner.startswith(other._process)


def test_given_a_429_in_one_container_when_another_acquires_then_it_waits_for_the_cool_down(tables):
    throttled, other = SharedBudget(max_concurrency=2), SharedBudget(max_concurrency=2)
    started = time.monotonic()  # the cool-down counts from the 429
    throttled.pause(0.5)
    other.acquire()
    assert time.monotonic() - started >= 0.4


def test_given_a_rate_of_ten_per_second_when_two_containers_send_twenty_then_starts_are_spaced(tables):
    budgets = [SharedBudget(max_concurrency=0, max_rps=10) for _ in range(2)]
    starts: list[float] = []

    def send(budget):
        for _ in range(10):
            budget.acquire()
            starts.append(time.monotonic())
            budget.release()

    threads = [in_thread(lambda b=b: send(b)) for b in budgets]
    for thread in threads:
        thread.join()
    assert len(starts) == 20
    assert max(starts) - min(starts) >= 1.7  # 20 starts at 10/s: 1.9 s from first to last


def test_given_no_limits_when_acquiring_then_no_dynamodb_request_is_made_beyond_the_cool_down_check(tables):
    budget = SharedBudget(max_concurrency=0, max_rps=0)
    for _ in range(50):
        budget.acquire(), budget.release()
    assert budget.calls <= 2


def test_given_one_slot_holder_when_it_acquires_and_releases_then_two_updates_per_request(tables):
    budget = SharedBudget(max_concurrency=2)
    for _ in range(20):
        budget.acquire(), budget.release()
    assert 40 <= budget.calls <= 42  # take + give back, plus the cool-down read every 0.5 s
