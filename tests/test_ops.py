"""The operator CLI against moto tables and the sandboxes, the way a deployment's env points it."""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from devstack import ops
from devstack.template import create_tables, load_template
from devstack.wave_sandbox import WaveSandbox
from devstack.webshop_sandbox import WebshopSandbox
from shopwave import runtime
from shopwave.state import StateStore

ADA = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}


@pytest.fixture
def env(monkeypatch, tmp_path):
    wave, shop = WaveSandbox(token="wave-ops-token"), WebshopSandbox(db_path=str(tmp_path / "shop.sqlite"))
    wave.start(), shop.start()
    with mock_aws():
        tables = create_tables(boto3.client("dynamodb"), load_template(), prefix="ops-")
        settings = {**tables, "WAVE_API_URL": wave.url, "WAVE_TOKEN": wave.token, "WAVE_BUSINESS_ID": wave.business_id,
                    "WEBSHOP_API_URL": shop.base_url, "WEBSHOP_API_KEY": shop.api_key}
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        runtime.current.cache_clear()
        yield wave, shop
        runtime.current.cache_clear()
    wave.stop(), shop.stop()


def run_ops(capsys, *argv) -> tuple[int, str]:
    code = ops.main(list(argv))
    return code, capsys.readouterr().out


def park(record_id: str, flow: str = "customer_to_wave") -> None:
    runtime.current()  # binds the models to this environment's tables
    StateStore().park(flow, record_id, "WaveTransportError: Wave answered 503")


def test_given_a_parked_record_when_listing_parked_then_it_is_shown_with_its_reason(env, capsys):
    park("c1001")
    code, out = run_ops(capsys, "parked")
    assert code == 0
    header, _rule, row = out.splitlines()
    assert header.split() == ["flow", "id", "attempts", "due", "reason"]
    assert row.split()[:3] == ["customer_to_wave", "c1001", "1"] and "Wave answered 503" in row


def test_given_a_parked_record_when_listing_as_json_for_another_flow_then_it_is_not_there(env, capsys):
    park("c1001")
    _, out = run_ops(capsys, "parked", "--flow", "customer_to_webshop", "--json")
    assert json.loads(out) == []
    _, out = run_ops(capsys, "parked", "--json")
    assert [(p["flow"], p["id"], p["attempts"]) for p in json.loads(out)] == [("customer_to_wave", "c1001", 1)]


def test_given_a_parked_shop_customer_when_retried_then_it_reaches_wave_and_is_no_longer_parked(env, capsys):
    wave, shop = env
    customer = shop.create("customers", ADA)
    park(customer["id"])
    code, out = run_ops(capsys, "retry", "customer_to_wave", "--json")
    result = json.loads(out)
    assert code == 0 and result["created"] == 1 and result["unparked"] == 1 and result["still_parked"] == []
    assert [c["email"] for c in wave.customers()] == ["ada@example.com"]
    _, out = run_ops(capsys, "parked")
    assert out.strip() == "nothing is parked"


def test_given_a_record_that_still_fails_when_retried_then_it_stays_parked_and_the_exit_code_says_so(env, capsys):
    wave, shop = env
    customer = shop.create("customers", ADA)
    park(customer["id"])
    wave.create_customer(name="Ada One", email="ada@example.com")
    wave.create_customer(name="Ada Two", email="ada@example.com")  # ambiguous: an operator must choose
    code, out = run_ops(capsys, "retry", "customer_to_wave", customer["id"])
    assert code == 1 and f"still parked: {customer['id']}" in out
    _, out = run_ops(capsys, "conflicts", "--entity", "customer")
    assert "@adopt" in out and customer["id"] in out


def test_given_nothing_parked_when_retrying_a_flow_then_nothing_runs(env, capsys):
    wave, _ = env
    code, out = run_ops(capsys, "retry", "customer_to_webshop")
    assert code == 0 and out.strip() == "nothing is parked in customer_to_webshop"
    assert wave.requests == []


def test_given_no_table_settings_when_run_then_it_says_which_are_missing(monkeypatch):
    monkeypatch.delenv("LINKS_TABLE", raising=False)
    monkeypatch.delenv("STATE_TABLE", raising=False)
    with pytest.raises(SystemExit, match="LINKS_TABLE and STATE_TABLE"):
        ops.main(["parked"])


def sync_everything() -> None:
    from shopwave.flows import FLOWS

    engine = runtime.current().engine
    for _ in range(3):
        for flow in FLOWS.values():
            engine.sweep(flow)


def test_given_a_customer_not_yet_in_wave_when_checked_then_it_is_missing_and_the_exit_code_says_so(env, capsys):
    wave, shop = env
    customer = shop.create("customers", ADA)
    code, out = run_ops(capsys, "check")
    assert code == 1
    assert out.startswith("NOT converged (1 missing, 0 duplicate")
    assert f"customer missing   shop={customer['id']}: no Wave counterpart" in out
    assert [r["kind"] for r in wave.requests] and all(r["kind"] == "query" for r in wave.requests)
    assert all(r["method"] == "GET" for r in shop.requests)


def test_given_both_systems_in_step_when_checked_as_json_then_ok_and_exit_0(env, capsys):
    wave, shop = env
    shop.create("customers", ADA)
    shop.create("products", {"sku": "W-1", "name": "Widget", "price": "19.99", "currency": "CAD"})
    wave.create_customer(name="Bo Chen", email="bo@bolt.test")
    sync_everything()
    wave.reset_counters(), shop.reset_counters()
    code, out = run_ops(capsys, "check", "--json")
    result = json.loads(out)
    assert code == 0 and result["ok"] is True
    assert result["checked"]["customer"] == {"shop": 2, "wave": 2, "links": 2}
    assert all(result[kind] == [] for kind in ("missing", "duplicate", "differing", "orphaned", "totals", "pending"))
    assert not any(r["kind"] == "mutation" for r in wave.requests)
    assert not any(r["method"] in ("POST", "PATCH", "DELETE") for r in shop.requests)


def test_given_a_differing_product_when_checking_only_customers_then_it_is_not_looked_at(env, capsys):
    wave, shop = env
    product = shop.create("products", {"sku": "W-1", "name": "Widget", "price": "19.99", "currency": "CAD"})
    sync_everything()
    shop.update("products", product["id"], {"price": "24.99"})
    code, out = run_ops(capsys, "check", "--entity", "customer")
    assert code == 0 and out.startswith("converged") and "product" not in out
    code, out = run_ops(capsys, "check", "--entity", "product", "--json")
    [differing] = json.loads(out)["differing"]
    assert code == 1 and differing["shop_id"] == product["id"]
    assert differing["fields"]["price"] == {"shop": "24.99", "wave": "19.99", "agreed": "19.99"}


def test_given_a_parked_customer_when_checked_then_it_is_pending_not_a_failure(env, capsys):
    _, shop = env
    customer = shop.create("customers", ADA)
    park(customer["id"])
    code, out = run_ops(capsys, "check")
    assert code == 0 and "1 pending" in out
    assert f"customer pending   shop={customer['id']}: parked in customer_to_wave" in out


def test_given_no_wave_settings_when_checking_then_it_says_which_is_missing(env, monkeypatch):
    monkeypatch.delenv("WEBSHOP_API_URL")
    runtime.current.cache_clear()
    with pytest.raises(SystemExit, match="missing setting WEBSHOP_API_URL"):
        ops.main(["check"])
