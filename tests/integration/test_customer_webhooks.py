"""The customer webhook route, through the real handler with events/ files."""
from __future__ import annotations

import json
import threading

import pytest

from .conftest import WEBHOOK_SECRET
from .handlers import Context, load_handler, sample_event, webhook_event

ADA = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}


@pytest.fixture
def to_wave(stack):
    return load_handler("customer_to_wave")


def test_given_a_signed_delivery_when_received_then_the_customer_is_in_wave(stack, to_wave):
    customer = stack.shop.create("customers", ADA)
    response = to_wave(webhook_event(WEBHOOK_SECRET, customer["id"]), Context())
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["created"] == 1
    assert [c["displayId"] for c in stack.wave.customers()] == [customer["id"]]


def test_given_the_same_delivery_twice_when_received_then_the_second_has_no_effect(stack, to_wave):
    customer = stack.shop.create("customers", ADA)
    event = webhook_event(WEBHOOK_SECRET, customer["id"], delivery_id="dlv_twice")
    first = to_wave(event, Context())
    stack.shop.update("customers", customer["id"], {"phone": "123"})  # a replay must not sync this
    stack.reset_counters()
    second = to_wave(event, Context())
    assert second["statusCode"] == 200 and json.loads(second["body"]) == json.loads(first["body"])
    assert stack.wave.requests == [] and stack.shop.requests == []


def test_given_a_delivery_for_an_unknown_record_when_received_then_404_and_nothing_changes(stack, to_wave):
    response = to_wave(webhook_event(WEBHOOK_SECRET, "c_nope"), Context())
    assert response["statusCode"] == 404
    assert stack.wave.customers() == []


BAD = {
    "missing signature": (lambda e: e["headers"].pop("Webshop-Signature"), 401),
    "wrong signature": (lambda e: e["headers"].update({"Webshop-Signature": "t=1,v1=" + "0" * 64}), 401),
    "stale timestamp": (None, 401),
    "body over 256 KiB": (None, 413),
    "malformed json": (None, 400),
    "wrong content type": (lambda e: e["headers"].update({"Content-Type": "text/plain"}), 415),
    "event for another resource": (None, 422),
}


@pytest.mark.parametrize("case", BAD)
def test_given_a_bad_delivery_when_received_then_it_is_refused_and_nothing_changes(stack, to_wave, case):
    customer = stack.shop.create("customers", ADA)
    stack.reset_counters()
    edit, status = BAD[case]
    if case == "stale timestamp":
        event = webhook_event(WEBHOOK_SECRET, customer["id"], timestamp=1764072000)
    elif case == "body over 256 KiB":
        event = webhook_event(WEBHOOK_SECRET, customer["id"], body=b'{"pad":"' + b"x" * (256 * 1024) + b'"}')
    elif case == "malformed json":
        event = webhook_event(WEBHOOK_SECRET, customer["id"], body=b'{"id": "dlv_1", "type":')
    elif case == "event for another resource":
        event = webhook_event(WEBHOOK_SECRET, customer["id"], event_type="order.updated")
    else:
        event = webhook_event(WEBHOOK_SECRET, customer["id"])
        edit(event)
    response = to_wave(event, Context())
    assert response["statusCode"] == status
    assert json.loads(response["body"])["error"]
    assert stack.wave.requests == [] and stack.shop.requests == []
    assert stack.wave.customers() == [] and list(stack.store.all_links()) == []
    # (that no secret reaches a log line is checked for every route in test_hostile_input.py)


def test_given_the_sample_schedule_event_when_invoked_then_the_sweep_runs(stack):
    stack.shop.create("customers", ADA)
    result = load_handler("customer_to_wave")(sample_event("schedule.json"), Context())
    assert result["created"] == 1 and len(stack.wave.customers()) == 1
    back = load_handler("customer_to_webshop")(sample_event("schedule.json"), Context())
    assert back["echoes"] == 1 and back["writes"] == 0


def test_given_a_webhook_and_a_sweep_racing_on_a_new_customer_when_both_run_then_wave_has_exactly_one(stack, to_wave):
    customer = stack.shop.create("customers", ADA)
    stack.wave.set_latency(0.3)  # both read "no link" before either writes
    results = {}
    webhook = threading.Thread(target=lambda: results.setdefault("hook", to_wave(webhook_event(WEBHOOK_SECRET, customer["id"]), Context())))
    sweep = threading.Thread(target=lambda: results.setdefault("sweep", stack.run("customer_to_wave")))
    webhook.start(); sweep.start(); webhook.join(); sweep.join()
    stack.wave.set_latency(0)
    assert results["hook"]["statusCode"] == 200
    assert len(stack.wave.customers()) == 1
    body = json.loads(results["hook"]["body"])
    assert body["created"] + results["sweep"].created == 1
    assert stack.run("customer_to_wave").writes == 0
