"""A system the sync depends on is unavailable (Wave, the webshop, DynamoDB, the parameter
store), through the real handlers with signed events and the schedule event in events/:
a webhook answers 503 naming the system and is not remembered, so the webshop's retry syncs it;
a sweep keeps its watermark, parks nothing, says which system stopped it, emits SweepsFailed and
fails the invocation, so Lambda's retries, the on-failure destination and the alarms see it."""
from __future__ import annotations

import json
import logging
import socket

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from shopwave import flow_runner, idempotency

from .conftest import WEBHOOK_SECRET
from .handlers import Context, load_handler, sample_event, webhook_event
from .hostile_helpers import capture_logs, dynamo_snapshot, idempotency_items

ADA = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}


@pytest.fixture
def logs(capsys, caplog, monkeypatch):
    captured = capture_logs(capsys, caplog, monkeypatch)
    # botocore's own DEBUG wire log prints every response body, a decrypted SSM parameter
    # included (a deployment must never run botocore at DEBUG); everything else stays at DEBUG.
    caplog.set_level(logging.INFO, logger="botocore")
    return captured


@pytest.fixture
def quick(stack, monkeypatch):
    """Retries that give up in well under a second (the same code path as in Lambda)."""
    monkeypatch.setenv("HTTP_BACKOFF_FACTOR", "0.01")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    fresh_process()
    return stack


def fresh_process():
    """A new Lambda execution environment: runtime, idempotency store and SSM client built again."""
    from shopwave import runtime

    runtime.current.cache_clear()
    idempotency._handled_once.cache_clear()
    parameters.clear_caches()


def closed_port_url() -> str:
    """An endpoint nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def body(response: dict) -> dict:
    return json.loads(response["body"])


def emf_metrics(text: str) -> dict[str, float]:
    """Metric name -> value from the CloudWatch EMF documents Powertools printed."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = document[metric["Name"]]
                    found[metric["Name"]] = found.get(metric["Name"], 0) + (sum(value) if isinstance(value, list) else value)
    return found


# ------------------------------------------------------------------------------- webhooks
def test_given_the_webshop_down_when_a_signed_delivery_arrives_then_503_naming_it_and_the_retry_after_it_is_back_syncs(
        quick, logs):
    stack = quick
    customer = stack.shop.create("customers", ADA)
    handler = load_handler("customer_to_wave")
    event = webhook_event(WEBHOOK_SECRET, customer["id"], delivery_id="dlv_shop_down")
    stack.shop.set_fault_rate(1.0, statuses=(503,))

    response = handler(event, Context())

    assert response["statusCode"] == 503, response
    assert "webshop" in body(response)["error"]
    assert idempotency_items(stack) == []  # not remembered as done
    assert stack.wave.customers() == [] and list(stack.store.all_links()) == []
    text = logs.assert_no_secrets()
    assert "webhook not synced now: the webshop unavailable" in text

    stack.shop.set_fault_rate(0)
    retry = handler(webhook_event(WEBHOOK_SECRET, customer["id"], delivery_id="dlv_shop_down"), Context())
    assert retry["statusCode"] == 200, retry
    assert [c["displayId"] for c in stack.wave.customers()] == [customer["id"]]


def test_given_dynamodb_unreachable_when_a_signed_delivery_arrives_then_503_naming_it_and_state_is_unchanged(
        quick, logs, monkeypatch):
    stack = quick
    customer = stack.shop.create("customers", ADA)
    handler = load_handler("customer_to_wave")
    before = dynamo_snapshot(stack.tables)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", closed_port_url())  # every table, idempotency included
    fresh_process()

    response = handler(webhook_event(WEBHOOK_SECRET, customer["id"], delivery_id="dlv_ddb_down"), Context())

    assert response["statusCode"] == 503, response
    assert "DynamoDB" in body(response)["error"]
    assert stack.wave.customers() == [] and stack.wave.requests == []
    assert "webhook not synced now: DynamoDB unavailable" in logs.assert_no_secrets()

    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
    fresh_process()
    assert dynamo_snapshot(stack.tables) == before
    retry = handler(webhook_event(WEBHOOK_SECRET, customer["id"], delivery_id="dlv_ddb_down"), Context())
    assert retry["statusCode"] == 200, retry
    assert len(stack.wave.customers()) == 1


def test_given_the_state_tables_unreachable_after_the_delivery_was_taken_when_received_then_503_and_it_is_not_remembered(
        quick, logs, monkeypatch):
    """The idempotency table answers (the delivery is marked in progress), the links table does
    not: the in-progress mark is removed again, so the webshop's retry is processed."""
    stack = quick
    customer = stack.shop.create("customers", ADA)
    handler = load_handler("customer_to_wave")
    from shopwave.state.models import LinkItem, StateItem

    unreachable = closed_port_url()
    stack.runtime  # built now (bind() resets the models' connections), then pointed elsewhere
    for model in (LinkItem, StateItem):
        monkeypatch.setattr(model.Meta, "host", unreachable, raising=False)
        monkeypatch.setattr(model, "_connection", None)

    response = handler(webhook_event(WEBHOOK_SECRET, customer["id"], delivery_id="dlv_links_down"), Context())

    assert response["statusCode"] == 503, response
    assert "DynamoDB" in body(response)["error"]
    assert idempotency_items(stack) == []
    assert stack.wave.customers() == []
    logs.assert_no_secrets()

    for model in (LinkItem, StateItem):
        monkeypatch.setattr(model.Meta, "host", None, raising=False)
        monkeypatch.setattr(model, "_connection", None)
    retry = handler(webhook_event(WEBHOOK_SECRET, customer["id"], delivery_id="dlv_links_down"), Context())
    assert retry["statusCode"] == 200, retry
    assert stack.store.get_link("customer", "shop", customer["id"]) is not None


def test_given_the_parameter_store_unreachable_when_a_signed_delivery_arrives_then_503_naming_it_and_later_it_syncs(
        quick, logs, monkeypatch):
    stack = quick
    customer = stack.shop.create("customers", ADA)
    boto3.client("ssm").put_parameter(Name="/shopwave/webhook-secret", Value=WEBHOOK_SECRET, Type="SecureString")
    monkeypatch.delenv("WEBHOOK_SECRET")
    monkeypatch.setenv("WEBHOOK_SECRET_PARAM", "/shopwave/webhook-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", closed_port_url())
    fresh_process()
    handler = load_handler("customer_to_wave")

    response = handler(webhook_event(WEBHOOK_SECRET, customer["id"], delivery_id="dlv_ssm_down"), Context())

    assert response["statusCode"] == 503, response
    assert "parameter store" in body(response)["error"]
    assert idempotency_items(stack) == [] and stack.wave.customers() == []
    assert "webhook not synced now: the parameter store (SSM) unavailable" in logs.assert_no_secrets()

    monkeypatch.delenv("AWS_ENDPOINT_URL_SSM")
    fresh_process()
    retry = handler(webhook_event(WEBHOOK_SECRET, customer["id"], delivery_id="dlv_ssm_down"), Context())
    assert retry["statusCode"] == 200, retry
    assert len(stack.wave.customers()) == 1
    logs.assert_no_secrets()


def test_given_the_wave_token_in_an_unreachable_parameter_store_when_a_delivery_arrives_then_503(
        quick, logs, monkeypatch):
    """The webhook secret is at hand, the Wave token is not: the runtime cannot be built."""
    stack = quick
    customer = stack.shop.create("customers", ADA)
    monkeypatch.delenv("WAVE_TOKEN")
    monkeypatch.setenv("WAVE_TOKEN_PARAM", "/shopwave/wave-token")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", closed_port_url())
    fresh_process()

    response = load_handler("customer_to_wave")(webhook_event(WEBHOOK_SECRET, customer["id"]), Context())

    assert response["statusCode"] == 503, response
    assert "parameter store" in body(response)["error"]
    assert idempotency_items(stack) == [] and stack.wave.customers() == []
    logs.assert_no_secrets()


# --------------------------------------------------------------------------------- sweeps
SWEEP_DOWN = {
    # case: (the flow whose schedule event runs, the system that is down)
    "Wave down": ("customer_to_wave", "Wave"),
    "webshop down": ("customer_to_webshop", "the webshop"),
}


def _seed(stack, flow: str) -> list[str]:
    if flow == "customer_to_wave":
        return [stack.shop.create("customers", {**ADA, "email": f"c{i}@example.com"})["email"] for i in range(3)]
    return [stack.wave.create_customer(name=f"Wave {i}", email=f"w{i}@example.com")["email"] for i in range(3)]


def _down(stack, system: str, down: bool) -> None:
    if system == "Wave":
        stack.wave.set_fault_rate(1.0 if down else 0, kinds=("500",))
    else:
        stack.shop.set_fault_rate(1.0 if down else 0, statuses=(503,))


@pytest.mark.parametrize("case", SWEEP_DOWN)
def test_given_a_system_down_when_the_scheduled_sweep_runs_then_the_invocation_fails_with_a_metric_and_nothing_moves(
        quick, logs, case):
    stack = quick
    flow, system = SWEEP_DOWN[case]
    emails = _seed(stack, flow)
    handler = load_handler(flow)
    mark_before = stack.store.watermark(flow)
    _down(stack, system, True)

    with pytest.raises(flow_runner.SystemUnavailable) as failed:
        handler(sample_event("schedule.json"), Context())

    assert failed.value.system == system
    assert stack.store.watermark(flow) == mark_before
    assert stack.store.parked(flow) == []
    assert list(stack.store.all_links()) == []
    text = logs.assert_no_secrets()
    assert f"sweep stopped: {system} unavailable" in text
    assert emf_metrics(text) == {"SweepsFailed": 1}  # once (service dimension), flushed although the handler raised

    _down(stack, system, False)
    result = handler(sample_event("schedule.json"), Context())
    assert result["created"] == len(emails) and not result["failures"]
    assert stack.store.watermark(flow) != mark_before
    synced = [c["email"] for c in (stack.wave.customers() if flow == "customer_to_wave" else stack.shop.all("customers"))]
    assert sorted(synced) == sorted(emails)
    assert "SweepsFailed" not in emf_metrics(logs.text().split(f"sweep stopped: {system}")[-1])


def test_given_a_failed_sweep_when_it_raises_then_it_is_the_same_kind_of_error_as_a_failed_page_read(quick):
    """Callers that handled the clients' transport errors (a page read) see the same for a sweep
    that met the outage writing a record."""
    from shopwave.wave.client import WaveTransportError
    from shopwave.webshop.client import WebshopTransportError

    assert issubclass(flow_runner.WaveUnavailable, WaveTransportError)
    assert issubclass(flow_runner.WebshopUnavailable, WebshopTransportError)


def test_given_dynamodb_unreachable_when_the_scheduled_sweep_runs_then_the_invocation_fails_naming_it(
        quick, logs, monkeypatch):
    stack = quick
    stack.shop.create("customers", ADA)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", closed_port_url())
    fresh_process()

    with pytest.raises(flow_runner.DynamoDBUnavailable):
        load_handler("customer_to_wave")(sample_event("schedule.json"), Context())

    text = logs.assert_no_secrets()
    assert "sweep stopped: DynamoDB unavailable" in text and emf_metrics(text) == {"SweepsFailed": 1}
    assert stack.wave.customers() == []


def test_given_a_bug_rather_than_an_outage_when_it_escapes_then_it_is_not_called_an_outage():
    assert flow_runner.unavailable(ValueError("a bug")) is None
    from botocore.exceptions import ClientError

    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetParameter")
    assert flow_runner.unavailable(denied) is None


def test_given_a_bug_raised_while_handling_an_outage_when_it_escapes_then_it_is_not_called_an_outage():
    from shopwave.wave.client import WaveTransportError

    try:
        try:
            raise WaveTransportError("Wave answered HTTP 503 after retries")
        except WaveTransportError:
            raise KeyError("a bug in the handling")
    except KeyError as bug:
        assert flow_runner.unavailable(bug) is None
    try:
        raise RuntimeError("wrapped on purpose") from WaveTransportError("Wave unreachable: ConnectTimeout")
    except RuntimeError as wrapped:
        assert isinstance(flow_runner.unavailable(wrapped), flow_runner.WaveUnavailable)
