"""System-wide failures stop the run; only a record's own refusal parks it (issue 11, item 2).
A token or key revoked mid-sweep (Wave: HTTP 401, 403 or UNAUTHENTICATED inside a 200; the
webshop: 401) and Wave's INTERNAL_SERVER_ERROR inside a 200 stop the sweep through the real
handler: nothing is parked, the watermark stays where the last committed page left it, one
SweepsFailed and one log line say so (no secret in them), and once the token is back the next run
syncs everything."""
from __future__ import annotations

import json

import pytest

from shopwave import flow_runner
from shopwave.flows import FLOWS

from .conftest import WEBHOOK_SECRET
from .handlers import Context, load_handler, sample_event, webhook_event
from .hostile_helpers import idempotency_items
from .test_outages import emf_metrics, fresh_process, logs  # noqa: F401 - fixture

RECORDS = 10


@pytest.fixture
def small_pages(stack, monkeypatch):
    """Pages of 3, so a sweep of 10 records commits pages before the fault and has pages after it."""
    monkeypatch.setenv("SYNC_PAGE_SIZE", "3")
    monkeypatch.setenv("HTTP_BACKOFF_FACTOR", "0.01")
    fresh_process()
    return stack


def seed(stack, flow: str) -> list[str]:
    if flow == "customer_to_wave":
        return [stack.shop.create("customers", {"email": f"c{i}@example.com", "first_name": f"C{i}"})["email"]
                for i in range(RECORDS)]
    return [stack.wave.create_customer(name=f"Wave {i}", email=f"w{i}@example.com")["email"] for i in range(RECORDS)]


def synced(stack, flow: str) -> list[str]:
    records = stack.wave.customers() if flow == "customer_to_wave" else stack.shop.all("customers")
    return sorted(r["email"] for r in records)


FAULTS = {
    # name: (switch it on, switch it off)
    "Wave token revoked (401)": (lambda s: s.wave.revoke_token(401), lambda s: s.wave.restore_token()),
    "Wave token revoked (403)": (lambda s: s.wave.revoke_token(403), lambda s: s.wave.restore_token()),
    "Wave UNAUTHENTICATED in a 200": (lambda s: s.wave.revoke_token(200), lambda s: s.wave.restore_token()),
    "webshop key revoked (401)": (lambda s: s.shop.revoke_key(), lambda s: s.shop.restore_key()),
    "Wave INTERNAL_SERVER_ERROR in a 200": (lambda s: s.wave.inject_graphql_error("INTERNAL_SERVER_ERROR"),
                                            lambda s: None),
}
CASES = {
    # case: (flow, fault, the system that stops the sweep, its credentials refused?)
    "Wave token revoked while writing to Wave": ("customer_to_wave", "Wave token revoked (401)", "Wave", True),
    "Wave token revoked while reading Wave": ("customer_to_webshop", "Wave token revoked (403)", "Wave", True),
    "UNAUTHENTICATED in a 200 while writing to Wave": ("customer_to_wave", "Wave UNAUTHENTICATED in a 200", "Wave", True),
    "webshop key revoked while writing to the webshop": ("customer_to_webshop", "webshop key revoked (401)", "the webshop", True),
    "webshop key revoked while reading the webshop": ("customer_to_wave", "webshop key revoked (401)", "the webshop", True),
    "INTERNAL_SERVER_ERROR while writing to Wave": ("customer_to_wave", "Wave INTERNAL_SERVER_ERROR in a 200", "Wave", False),
    "INTERNAL_SERVER_ERROR while reading Wave": ("customer_to_webshop", "Wave INTERNAL_SERVER_ERROR in a 200", "Wave", False),
}


@pytest.mark.parametrize("case", CASES)
def test_given_a_system_wide_failure_mid_sweep_when_it_stops_the_run_then_nothing_is_parked_the_watermark_stays_and_the_next_run_syncs_all(
        small_pages, logs, case):
    stack = small_pages
    flow, fault, system, refused = CASES[case]
    switch_on, switch_off = FAULTS[fault]
    emails = seed(stack, flow)
    committed = []  # the watermark after each committed page

    def after_a_page(point: str) -> None:
        if point == "after_watermark":
            committed.append(stack.store.watermark(flow))
            if len(committed) == 1:
                switch_on(stack)  # mid-sweep: one page is in
    stack.runtime.engine.checkpoint = after_a_page
    handler = load_handler(flow)

    with pytest.raises(flow_runner.SystemUnavailable) as failed:
        handler(sample_event("schedule.json"), Context())

    assert (failed.value.system, failed.value.credentials_refused) == (system, refused)
    assert all(stack.store.parked(name) == [] for name in FLOWS)
    assert stack.store.watermark(flow) == committed[-1]  # kept where the last committed page left it
    before = len(synced(stack, flow))
    assert 3 <= before < RECORDS
    text = logs.assert_no_secrets()
    said = (f"sweep stopped: {system} refused the sync's credentials" if refused
            else f"sweep stopped: {system} unavailable")
    assert [r.levelname for r in logs.caplog.records if r.getMessage().startswith(said)] == ["ERROR"]  # one line
    assert ("nothing was parked" in text) is refused
    assert emf_metrics(text) == {"SweepsFailed": 1}

    switch_off(stack)
    result = handler(sample_event("schedule.json"), Context())

    assert (result["created"], result["parked"], result["failures"]) == (RECORDS - before, 0, [])
    assert synced(stack, flow) == sorted(emails)


def test_given_the_wave_token_revoked_when_an_orders_new_customer_would_be_synced_first_then_neither_is_parked(stack):
    """The token goes between the page's read-ahead and the order's dependency (its customer)."""
    customer = stack.shop.create("customers", {"email": "ada@example.com", "first_name": "Ada"})
    widget = stack.shop.create("products", {"sku": "W-1", "name": "Widget", "price": "19.99", "currency": "CAD"})
    stack.settle(flows=("product_to_wave",))
    stack.shop.create("orders", {"customer_id": customer["id"], "currency": "CAD", "order_date": "2026-11-20",
                                 "lines": [{"product_id": widget["id"], "quantity": "1", "unit_price": "19.99"}]})
    engine = stack.runtime.engine
    read_ahead = engine._read_ahead

    def then_revoke(*args):
        ahead = read_ahead(*args)
        stack.wave.revoke_token()
        return ahead
    engine._read_ahead = then_revoke

    stopped = stack.run("order_to_wave")

    assert stopped.failures and stopped.credentials_refused == ["Wave"] and stopped.parked == 0
    assert all(stack.store.parked(name) == [] for name in FLOWS)
    engine._read_ahead = read_ahead
    stack.wave.restore_token()
    later = stack.run("order_to_wave")
    assert (later.created, later.dependencies, later.parked) == (1, 1, 0)


def test_given_the_wave_token_revoked_when_a_delivery_arrives_then_503_naming_the_refusal_and_the_retry_syncs(stack, logs):
    customer = stack.shop.create("customers", {"email": "ada@example.com", "first_name": "Ada"})
    handler = load_handler("customer_to_wave")
    stack.wave.revoke_token()

    response = handler(webhook_event(WEBHOOK_SECRET, customer["id"], delivery_id="dlv_revoked"), Context())

    assert response["statusCode"] == 503 and "Wave" in json.loads(response["body"])["error"]
    assert idempotency_items(stack) == [] and stack.store.parked("customer_to_wave") == []
    assert "webhook not synced now: Wave refused the sync credentials" in logs.assert_no_secrets()
    stack.wave.restore_token()
    retry = handler(webhook_event(WEBHOOK_SECRET, customer["id"], delivery_id="dlv_revoked"), Context())
    assert retry["statusCode"] == 200 and len(stack.wave.customers()) == 1
