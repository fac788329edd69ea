"""The demo end to end (as the CLI, in a subprocess), and its report's verdict rules."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
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
