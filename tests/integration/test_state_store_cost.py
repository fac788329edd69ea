"""The state store's cost per record: link writes share one DynamoDB client (a botocore client
per write cost ~100 ms of CPU and its own heap; found by the memory benchmark, BENCHMARKS.md §7)."""
from __future__ import annotations

import botocore.session
import pytest


@pytest.fixture
def botocore_clients(monkeypatch):
    created = []
    original = botocore.session.Session.create_client

    def counting(self, service_name, *args, **kwargs):
        created.append(service_name)
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    return created


def test_given_a_warm_runtime_when_thirty_customers_sync_then_no_dynamodb_client_is_built_per_record(
        stack, botocore_clients):
    stack.shop.create("customers", {"email": "warm@example.com", "first_name": "Warm", "last_name": "Up"})
    stack.run("customer_to_wave")  # the runtime's clients are built once, here
    built_while_warming = len(botocore_clients)
    for i in range(30):
        stack.shop.create("customers", {"email": f"c{i}@example.com", "first_name": "C", "last_name": str(i)})

    report = stack.run("customer_to_wave")

    assert report.created == 30 and len(stack.wave.customers()) == 31
    assert botocore_clients[built_while_warming:] == []
