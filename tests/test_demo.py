"""The demo end to end (as the CLI, in a subprocess), and its report's verdict rules."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from devstack.demo import FlowTotals, Outcome, render
from devstack.template import ROOT, functions, load_template

# Real-system settings in the developer's shell must not turn the demo away from the sandboxes.
REAL_SYSTEM_ENV = ("WAVE_API_URL", "WAVE_TOKEN", "WAVE_BUSINESS_ID", "WEBSHOP_API_URL", "WEBSHOP_API_KEY",
                   "WEBHOOK_SECRET", "LINKS_TABLE", "STATE_TABLE", "IDEMPOTENCY_TABLE")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[int, dict, str]:
    env = {k: v for k, v in os.environ.items() if k not in REAL_SYSTEM_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "shopwave"), str(ROOT)])
    data_dir = tmp_path_factory.mktemp("devstack")
    done = subprocess.run([sys.executable, "-m", "devstack.demo", "--json", "--data-dir", str(data_dir)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout), done.stderr


def by_flow(report: dict) -> dict[str, dict]:
    return {figures["flow"]: figures for figures in report["flows"].values()}


def test_given_the_sandboxes_when_the_demo_runs_then_it_exits_0_with_no_problems(demo_run):
    code, report, stderr = demo_run
    assert code == 0, (report["problems"], stderr)
    assert report["problems"] == [] and report["settled"]


def test_given_the_seed_when_the_demo_runs_then_the_report_shows_what_the_seed_implies(demo_run):
    _, report, _ = demo_run
    flows, expected = by_flow(report), report["expected"]["customers"]
    assert expected["adopted"] == 2 and expected["created_in_shop"] == 2
    assert flows["customer_to_wave"]["adopted"] == expected["adopted"]
    assert flows["customer_to_wave"]["created"] == expected["created_in_wave"]
    assert flows["customer_to_webshop"]["created"] == expected["created_in_shop"]
    assert flows["customer_to_wave"]["conflicts"] + flows["customer_to_webshop"]["conflicts"] == expected["conflicts"]
    assert all(f["parked"] == 0 and f["failures"] == [] for f in flows.values())


def test_given_the_seeded_products_when_the_demo_runs_then_they_reach_wave_and_wave_edits_come_back(demo_run):
    _, report, _ = demo_run
    flows, expected = by_flow(report), report["expected"]["products"]
    assert expected["adopted"] == 1 and expected["inactive"] == 1 and expected["new"] == 1
    assert flows["product_to_wave"]["adopted"] == expected["adopted"]
    # the inactive product is never created; the new one (edit step) is
    assert flows["product_to_wave"]["created"] == expected["created_in_wave"] + expected["new"]
    assert flows["product_to_wave"]["updated"] == expected["archived_in_wave"]  # made inactive: archived
    assert flows["product_to_webshop"]["updated"] == expected["price_edited_in_wave"]
    assert flows["product_to_webshop"]["created"] == 0  # products are created in Wave only


def test_given_the_seeded_orders_when_the_demo_runs_then_invoices_follow_and_the_payment_comes_back(demo_run):
    _, report, _ = demo_run
    flows, expected = by_flow(report), report["expected"]["orders"]
    assert expected["created_in_wave"] == 4 and expected["paid_in_wave"] == 1
    assert flows["order_to_wave"]["created"] == expected["created_in_wave"] + expected["new"]
    assert flows["order_to_wave"]["updated"] == expected["edited_in_shop"]
    assert flows["order_to_wave"]["deleted"] == expected["cancelled_in_shop"]  # its invoice was a draft
    assert flows["invoice_to_webshop"]["updated"] == expected["paid_in_wave"]
    assert flows["invoice_to_webshop"]["created"] == 0
    assert sum(f["conflicts"] for f in flows.values()) == report["expected"]["customers"]["conflicts"]


def test_given_the_demo_when_it_runs_then_every_flow_reads_records_and_none_fails(demo_run):
    _, report, _ = demo_run
    flows = by_flow(report)
    assert set(flows) == {"customer_to_wave", "customer_to_webshop", "product_to_wave", "product_to_webshop",
                          "order_to_wave", "invoice_to_webshop"}
    for name, figures in flows.items():
        assert figures["read"] > 0 and figures["failures"] == [] and figures["parked"] == 0, (name, figures)
    for name in ("product_to_wave", "order_to_wave"):
        assert flows[name]["webhooks"] > 0, name


def test_given_the_demo_when_it_ends_then_the_final_pass_writes_nothing(demo_run):
    _, report, _ = demo_run
    assert report["final_writes"] == 0


def test_given_the_edits_when_webhooks_are_delivered_then_every_delivery_is_2xx_and_runs_the_flow(demo_run):
    _, report, _ = demo_run
    deliveries = {int(status): n for status, n in report["webhook_deliveries"].items()}
    assert deliveries and all(200 <= status < 300 for status in deliveries)
    assert by_flow(report)["customer_to_wave"]["webhooks"] > 0
    assert sum(f["webhooks"] for f in report["flows"].values()) == sum(deliveries.values())


def test_given_the_template_when_the_demo_runs_then_every_scheduled_function_has_a_row(demo_run):
    _, report, _ = demo_run
    scheduled = [spec.logical_id for spec in functions(load_template()) if spec.schedules]
    assert list(report["flows"]) == scheduled


@pytest.fixture(scope="module")
def demo_state(tmp_path_factory):
    """The demo run in this process, then what the sandboxes hold at the end."""
    from devstack.demo import run_demo
    from devstack.localstack import LocalStack

    saved = {name: os.environ.pop(name) for name in REAL_SYSTEM_ENV if name in os.environ}
    try:
        with LocalStack(data_dir=tmp_path_factory.mktemp("devstack-state")) as stack:
            result = run_demo(stack, 8)
            shop, wave = stack.sandboxes.shop, stack.sandboxes.wave
            state = result, shop.all("products"), shop.all("orders"), wave.products(), wave.invoices()
    finally:
        os.environ.update(saved)
    return state


def test_given_the_demo_when_it_ends_then_the_sandboxes_agree(demo_state):
    result, shop_products, orders, wave_products, invoices = demo_state
    assert result.problems() == []
    by_sku = {p["sku"]: p for p in shop_products}
    wave_by_name = {p["name"]: p for p in wave_products}
    assert "Lavender Soap" not in wave_by_name  # inactive in the shop: never created
    assert wave_by_name["Wool Toque"]["isArchived"] and by_sku["TQ-WOOL"]["active"] is False
    assert by_sku["LT-100"]["price"] == "10.25"  # edited in Wave
    assert wave_by_name["Maple Syrup 500 ml"]["description"] == by_sku["MS-500"]["description"]  # adopted
    assert sum(1 for p in wave_products if p["name"] == "Maple Syrup 500 ml") == 1
    assert "Beeswax Candle" in wave_by_name
    by_number = {i["invoiceNumber"]: i for i in invoices}
    cancelled = [o for o in orders if o["status"] == "cancelled"]
    assert len(cancelled) == 1 and cancelled[0]["number"] not in by_number  # its draft invoice was deleted
    live = [o for o in orders if o["status"] != "cancelled"]
    assert sorted(by_number) == sorted(o["number"] for o in live)
    for order in live:
        invoice = by_number[order["number"]]
        assert Decimal(invoice["total"]["value"]) == Decimal(order["total"]), order["number"]
        assert invoice["memo"] == order["note"]
    paid = [o for o in orders if o["payment_status"] == "paid"]
    assert len(paid) == 2  # one by cheque in Wave, one at checkout in the shop
    for order in paid:
        assert order["amount_paid"] == order["total"] and by_number[order["number"]]["status"] == "PAID"


# ------------------------------------------------------------------------- the report's rules
def outcome(**changes) -> Outcome:
    result = Outcome(flows={"F": FlowTotals("customer_to_wave", sweeps=2, figures=Counter(created=3, read=5))},
                     deliveries=Counter({200: 4}), rounds=2, final_writes=0)
    for name, value in changes.items():
        setattr(result, name, value)
    return result


def test_given_a_clean_outcome_when_rendered_then_the_table_has_a_row_per_flow_and_says_ok():
    text = render(outcome())
    assert "customer_to_wave" in text and "total" in text
    assert "webhook deliveries : 4 (4 x 200)" in text and text.rstrip().endswith("OK")
    widths = {len(line) for line in text.splitlines()[:3]}
    assert len(widths) <= 2  # headers and rule line up


@pytest.mark.parametrize("change, problem", [
    ({"deliveries": Counter({200: 3, 503: 1})}, "503"),
    ({"deliveries": Counter({None: 1})}, "unreachable"),
    ({"settled": False, "final_writes": 2}, "did not settle"),
])
def test_given_a_failure_when_rendered_then_it_is_named_and_the_demo_fails(change, problem):
    result = outcome(**change)
    assert any(problem in p for p in result.problems())
    assert "FAILED" in render(result)


def test_given_a_parked_record_or_a_failed_run_when_judged_then_the_demo_fails():
    result = outcome()
    result.add("F", {"flow": "customer_to_wave", "parked": 1, "failures": ["customer_to_wave c1001: down"]})
    assert len(result.problems()) == 2


def test_given_a_local_stack_when_stopped_then_the_environment_is_as_before(tmp_path, monkeypatch):
    from devstack.localstack import LocalStack

    for name in REAL_SYSTEM_ENV:
        monkeypatch.delenv(name, raising=False)
    before = dict(os.environ)
    with LocalStack(data_dir=tmp_path) as stack:
        assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"].startswith("http://127.0.0.1:")
        assert stack.flow_functions() == [s.logical_id for s in functions(load_template()) if s.schedules]
        assert set(stack.webhook_urls()) >= {"customers"}
        assert stack.run(stack.flow_functions()[0])["writes"] == 0
    assert dict(os.environ) == before


def test_given_an_order_paid_at_checkout_and_a_cheque_in_wave_when_the_demo_runs_then_each_side_shows_them_paid(demo_run):
    _, report, _ = demo_run
    checkout, cheque = report["payments"]
    assert "paid at checkout" in checkout and "Wave invoice PAID" in checkout
    assert "paid by cheque in Wave" in cheque and "webshop order paid" in cheque
