"""The sandboxes' random fault modes the chaos suite relies on."""
from __future__ import annotations

import random
import time

import requests

from tests.integration.conftest import SHOP_KEY, WAVE_TOKEN

QUERY = {"query": "query { user { id } }"}


def wave_post(wave, body, timeout=5):
    return requests.post(wave.url, json=body, headers={"Authorization": f"Bearer {WAVE_TOKEN}"}, timeout=timeout)


def test_given_a_wave_fault_rate_when_requests_come_then_they_fail_as_chosen_and_rate_zero_stops_it(wave):
    wave.set_fault_rate(1.0, random.Random(1), kinds=("429",))
    response = wave_post(wave, QUERY)
    assert response.status_code == 429 and response.headers["Retry-After"] == "0"
    wave.set_fault_rate(1.0, random.Random(1), kinds=("500",))
    assert wave_post(wave, QUERY).status_code == 500
    wave.set_fault_rate(1.0, random.Random(1), kinds=("error_200",))
    inside = wave_post(wave, QUERY)
    assert inside.status_code == 200 and inside.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    wave.set_fault_rate(0)
    assert wave_post(wave, QUERY).status_code == 200


def test_given_wave_timeouts_when_a_mutation_times_out_then_it_may_have_been_executed(wave):
    customer = wave.create_customer(name="Ada")
    mutation = {"query": "mutation($input: CustomerPatchInput!) { customerPatch(input: $input) { didSucceed } }"}
    executed = 0
    wave.set_fault_rate(1.0, random.Random(3), kinds=("timeout",), delay=0.3)
    for n in range(8):
        started = time.monotonic()
        try:
            wave_post(wave, {**mutation, "variables": {"input": {"id": customer["id"], "phone": str(n)}}}, timeout=0.1)
            raise AssertionError("no timeout")
        except requests.Timeout:
            pass
        time.sleep(0.35)
        executed += wave.get_customer(customer["id"])["phone"] == str(n)
        assert time.monotonic() - started >= 0.3
    wave.set_fault_rate(0)
    assert 0 < executed < 8  # some before the wait (not done), some after (done, answer lost)


def test_given_a_shop_fault_rate_when_requests_come_then_503_until_rate_zero(shop):
    headers = {"Authorization": f"Bearer {SHOP_KEY}"}
    shop.set_fault_rate(1.0, random.Random(1))
    assert requests.get(f"{shop.base_url}/customers", headers=headers, timeout=5).status_code == 503
    shop.set_fault_rate(0)
    assert requests.get(f"{shop.base_url}/customers", headers=headers, timeout=5).status_code == 200


def test_given_pending_events_when_taken_then_they_are_returned_in_order_and_no_longer_pending(shop):
    first = shop.create("customers", {"email": "a@example.com"})
    shop.update("customers", first["id"], {"phone": "1"})
    taken = shop.take_outbox()
    assert [(r, e["type"], e["data"]["id"]) for r, e in taken] == [
        ("customers", "customer.created", first["id"]), ("customers", "customer.updated", first["id"])]
    assert shop.outbox == [] and shop.take_outbox() == []
