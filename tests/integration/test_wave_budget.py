"""The deployment-wide Wave budget across containers: several runtimes (each one Lambda container,
with its own clients and its own SharedBudget) sync at once against a Wave that serves two
requests at a time and answers 429 beyond, without Retry-After (Wave documents none)."""
from __future__ import annotations

import threading
import time

import pytest

from shopwave import runtime
from shopwave.config import Config
from shopwave.flows import FLOWS


def _seed(stack, n: int = 12) -> None:
    for i in range(n):
        stack.shop.create("customers", {"email": f"b{i:02d}@example.com", "first_name": "B", "last_name": f"n{i}"})
        stack.shop.create("products", {"sku": f"SKU-{i:02d}", "name": f"Product {i}", "price": "9.50", "currency": "CAD"})
        stack.wave.create_customer(name=f"Wave customer {i}", email=f"w{i:02d}@example.com")
        stack.wave.create_product(name=f"Wave product {i}", unitPrice="4.25")


def _containers_sync_at_once(stack, containers: int) -> list:
    """Each container runs every flow (SYNC_CONCURRENCY 3: three records in flight each)."""
    reports, errors = [], []
    runtimes = [runtime.Runtime(Config.from_env()) for _ in range(containers)]

    def work(rt, order):
        try:
            for name in order:
                reports.append(rt.engine.sweep(FLOWS[name]))
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    names = list(FLOWS)
    threads = [threading.Thread(target=work, args=(rt, names[i % 2::2] + names[(i + 1) % 2::2]))
               for i, rt in enumerate(runtimes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return reports


@pytest.fixture
def capped(stack, monkeypatch):
    monkeypatch.setenv("SYNC_CONCURRENCY", "3")
    stack.wave.set_concurrency_cap(2, retry_after=None)
    stack.wave.set_latency(0.03)
    _seed(stack)
    stack.reset_counters()
    return stack


def test_given_wave_serving_two_at_a_time_when_four_containers_sync_at_once_then_nothing_parks_and_no_429(
        capped, monkeypatch):
    monkeypatch.setenv("WAVE_MAX_CONCURRENCY", "2")

    reports = _containers_sync_at_once(capped, containers=4)

    sent = len(capped.wave.requests)
    assert sum(r.parked for r in reports) == 0 and not any(r.failures for r in reports)
    assert capped.wave.peak_in_flight <= 2
    assert capped.wave.over_cap_answers <= max(1, sent // 100)  # at most 1% of Wave requests
    assert {c["email"] for c in capped.wave.customers()} >= {f"b{i:02d}@example.com" for i in range(12)}
    assert {c["email"] for c in capped.shop.all("customers")} >= {f"w{i:02d}@example.com" for i in range(12)}


def test_given_no_shared_budget_when_four_containers_sync_at_once_then_wave_answers_429s(capped, monkeypatch):
    """The control: the same load with the budget off meets the cap (so the test above can fail)."""
    monkeypatch.setenv("WAVE_MAX_CONCURRENCY", "0")

    _containers_sync_at_once(capped, containers=4)

    assert capped.wave.over_cap_answers > max(1, len(capped.wave.requests) // 100)


def test_given_a_429_with_a_fractional_retry_after_in_one_container_when_another_sends_then_it_waits_too(stack):
    from shopwave.state.budget import SharedBudget
    from shopwave.state.models import BudgetItem
    from shopwave.wave.client import WaveClient
    from tests.integration.conftest import WAVE_TOKEN

    runtime.current()  # binds the models to the test tables
    clients = [WaveClient(stack.wave.url, WAVE_TOKEN, stack.wave.business_id, budget=SharedBudget(max_concurrency=2))
               for _ in range(2)]
    query = "query($businessId: ID!) { business(id: $businessId) { id } }"
    clients[1].query(query, {})  # warm: its DynamoDB and HTTP clients are built
    stack.wave.inject_fault(status=429, retry_after=0.6)  # sent as "0.6": urllib3 alone would refuse it
    answered: dict[int, float] = {}
    started = time.monotonic()
    first = threading.Thread(target=lambda: (clients[0].query(query, {}), answered.__setitem__(0, time.monotonic())))
    first.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not BudgetItem.count("budget#wave", BudgetItem.sk == "gate"):
        time.sleep(0.005)  # the first container has met the 429 and recorded its cool-down
    clients[1].limiter._gate_read_at = float("-inf")  # a container whose last look at the gate is old
    clients[1].query(query, {})
    answered[1] = time.monotonic()
    first.join(5)

    assert clients[0].calls.throttled == 1
    assert answered[0] - started >= 0.55 and answered[1] - started >= 0.55  # both waited the cool-down
