"""devstack: tables from the template in moto, the local gateway's routes and schedules."""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

import boto3
import pytest
from moto import mock_aws

from devstack.gateway import LocalGateway, build_webhook_event, rest_api_event
from devstack.lambda_context import LambdaContext
from devstack.template import create_tables, dynamodb_table_specs, load_template, parse_rate

TOY_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  ToySchedule:
    Type: String
    Default: rate(1 hour)
Globals:
  Function:
    Runtime: python3.12
    Handler: app.lambda_handler
    Timeout: 30
    Environment:
      Variables:
        TOY_TABLE: !Ref ToyTable
        TOY_MODE: !Ref ToySchedule
Resources:
  ToyTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Environment:
        Variables:
          ECHO_ONLY: "yes"
      Events:
        Hook:
          Type: Api
          Properties: {Path: /webhooks/toys, Method: post}
        Item:
          Type: Api
          Properties: {Path: "/items/{id}", Method: get}
        Sweep:
          Type: Schedule
          Properties: {Schedule: !Ref ToySchedule}
        Reconcile:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
            Input: '{"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {"sweep": "reconcile"}}'
  OtherFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: other/
      Events:
        Boom:
          Type: Api
          Properties: {Path: /boom, Method: any}
"""

ECHO_APP = """\
import os
import helper

CALLS = []

def lambda_handler(event, context):
    CALLS.append(event)
    if event.get("source") == "aws.events":
        return {"kind": "schedule", "event": event, "remaining": context.get_remaining_time_in_millis()}
    return {"statusCode": 201, "headers": {"X-Toy": helper.NAME, "X-Table": os.environ["TOY_TABLE"]},
            "body": event["body"] if event["body"] is not None else json_dumps(event["pathParameters"])}

def json_dumps(value):
    import json
    return json.dumps(value)
"""

OTHER_APP = """\
import helper

def lambda_handler(event, context):
    if helper.NAME != "other":
        return {"statusCode": 500, "body": "helper from another function"}
    raise RuntimeError("boom")
"""


@pytest.fixture
def toy(tmp_path):
    (tmp_path / "template.yaml").write_text(TOY_TEMPLATE)
    for name, app in (("echo", ECHO_APP), ("other", OTHER_APP)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(app)
        (tmp_path / name / "helper.py").write_text(f"NAME = {name!r}\n")
    return tmp_path


@pytest.fixture
def gateway(toy):
    gw = LocalGateway(toy / "template.yaml", env={"EXTRA": "1"})
    yield gw
    gw.stop()


def request(method: str, url: str, body: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# ------------------------------------------------------------------------------------- tables
@pytest.fixture
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def test_given_real_template_when_tables_created_in_moto_then_key_schemas_equal_the_templates(aws_env):
    template = load_template()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        env = create_tables(client, template, prefix="t-")
        assert env == {"LINKS_TABLE": "t-LinksTable", "STATE_TABLE": "t-StateTable",
                       "IDEMPOTENCY_TABLE": "t-IdempotencyTable"}
        for spec in dynamodb_table_specs(template, prefix="t-"):
            kwargs = spec["create_table_kwargs"]
            table = client.describe_table(TableName=kwargs["TableName"])["Table"]
            props = template["Resources"][spec["logical_id"]]["Properties"]
            assert table["KeySchema"] == props["KeySchema"]
            assert sorted(table["AttributeDefinitions"], key=str) == sorted(props["AttributeDefinitions"], key=str)
            assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
            ttl = client.describe_time_to_live(TableName=kwargs["TableName"])["TimeToLiveDescription"]
            expected = props.get("TimeToLiveSpecification", {}).get("AttributeName")
            assert ttl.get("AttributeName") == expected
            assert (ttl["TimeToLiveStatus"] == "ENABLED") == (expected is not None)
        assert create_tables(client, template, prefix="t-") == env  # existing tables are kept


def test_given_real_template_when_table_specs_read_then_env_vars_and_ttl_are_found():
    specs = {s["logical_id"]: s for s in dynamodb_table_specs(load_template())}
    assert {k: (s["env_var"], s["ttl_attribute"]) for k, s in specs.items()} == {
        "LinksTable": ("LINKS_TABLE", None), "StateTable": ("STATE_TABLE", "expires_at"),
        "IdempotencyTable": ("IDEMPOTENCY_TABLE", "expiration")}
    assert specs["LinksTable"]["create_table_kwargs"]["TableName"] == "LinksTable"


# --------------------------------------------------------------------------------- parse_rate
@pytest.mark.parametrize("expression, seconds", [
    ("rate(5 minutes)", 300), ("rate(1 minute)", 60), ("rate(1 hour)", 3600),
    ("rate(2 hours)", 7200), ("rate(1 day)", 86400), (" rate( 10 minutes ) ", 600)])
def test_given_rate_expression_when_parsed_then_seconds(expression, seconds):
    assert parse_rate(expression) == seconds


@pytest.mark.parametrize("expression", ["cron(0 12 * * ? *)", "rate(5 fortnights)", "5 minutes", ""])
def test_given_non_rate_expression_when_parsed_then_value_error(expression):
    with pytest.raises(ValueError):
        parse_rate(expression)


# --------------------------------------------------------------------------------- cron
@pytest.mark.parametrize("expression, after, fires", [
    ("cron(2/5 * * * ? *)", "2026-12-03T10:00:30", "2026-12-03T10:02:00"),
    ("cron(2/5 * * * ? *)", "2026-12-03T10:02:00", "2026-12-03T10:07:00"),   # strictly after
    ("cron(0/5 * * * ? *)", "2026-12-03T10:58:10", "2026-12-03T11:00:00"),
    ("cron(0 3 * * ? *)", "2026-12-03T03:00:00", "2026-12-04T03:00:00"),      # daily at 03:00 UTC
    ("cron(15 6 ? * MON-FRI *)", "2026-12-04T07:00:00", "2026-12-07T06:15:00"),  # Friday -> Monday
    ("cron(0,30 * * * ? *)", "2026-12-03T10:10:00", "2026-12-03T10:30:00")])
def test_given_cron_expression_when_next_fire_asked_then_the_next_matching_minute_utc(expression, after, fires):
    from datetime import datetime, timezone

    from devstack.schedule import next_fire

    moment = datetime.fromisoformat(after).replace(tzinfo=timezone.utc)
    assert next_fire(expression, moment) == datetime.fromisoformat(fires).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("expression", ["cron(0 12 L * ? *)", "cron(0 12 * *)", "cron(61 * * * ? *)", "rate(5)"])
def test_given_unsupported_schedule_when_parsed_then_value_error(expression):
    from devstack.schedule import period

    with pytest.raises(ValueError):
        period(expression)


def test_given_staggered_cron_schedules_when_waits_computed_then_each_fires_at_its_own_minute_every_five():
    from datetime import datetime, timezone
    from itertools import islice

    from devstack.schedule import waits

    start = datetime(2026, 12, 3, 10, 0, 30, tzinfo=timezone.utc)
    assert list(islice(waits("cron(1/5 * * * ? *)", speedup=60, start=start), 3)) == [0.5, 5.0, 5.0]
    assert list(islice(waits("cron(4/5 * * * ? *)", speedup=1, start=start), 2)) == [210.0, 300.0]


def test_given_cron_schedule_when_schedules_started_with_speedup_then_it_fires(toy):
    gw = LocalGateway(toy / "template.yaml", env={}, schedule_overrides={"EchoFunction": "cron(* * * * ? *)"})
    assert gw.schedule_interval("EchoFunction") == 60
    calls = gw.handler("EchoFunction").__globals__["CALLS"]
    gw.start_schedules(speedup=600)          # at most 60 s / 600 = 0.1 s to the next minute
    deadline = time.monotonic() + 3
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    gw.stop()
    assert len(calls) >= 2


# ------------------------------------------------------------------------------------ gateway
def test_given_toy_function_when_route_requested_then_handler_status_headers_and_body_come_back(gateway):
    url = gateway.start(port=0)
    assert url.startswith("http://127.0.0.1:")
    status, headers, body = request("POST", gateway.webhook_url("toys"), b'{"hello": "w\xc3\xb6rld"}',
                                    {"Content-Type": "application/json"})
    assert status == 201
    assert body == b'{"hello": "w\xc3\xb6rld"}'
    assert headers["X-Toy"] == "echo" and headers["X-Table"] == "shopwave-local-ToyTable"
    [event] = gateway.handler("EchoFunction").__globals__["CALLS"]
    assert (event["httpMethod"], event["path"], event["resource"]) == ("POST", "/webhooks/toys", "/webhooks/toys")
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert event["isBase64Encoded"] is False and isinstance(event["body"], str)
    assert event["requestContext"]["stage"] == "local" and event["requestContext"]["requestId"]


def test_given_path_parameter_route_when_requested_then_event_carries_path_and_query(gateway):
    gateway.start()
    status, _, body = request("GET", f"{gateway.url}/items/abc?x=1&x=2&y=3")
    assert (status, json.loads(body)) == (201, {"id": "abc"})
    event = gateway.handler("EchoFunction").__globals__["CALLS"][-1]
    assert event["resource"] == "/items/{id}" and event["path"] == "/items/abc"
    assert event["queryStringParameters"] == {"x": "2", "y": "3"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["3"]}


def test_given_unknown_route_or_method_when_requested_then_404_json(gateway):
    gateway.start()
    for method, path in (("POST", "/webhooks/nothing"), ("GET", "/webhooks/toys"), ("POST", "/")):
        status, headers, body = request(method, f"{gateway.url}{path}", b"{}" if method == "POST" else None)
        assert status == 404 and headers["Content-Type"] == "application/json"
        assert json.loads(body)["message"] == "Not Found"


def test_given_failing_handler_when_requested_then_502_and_helpers_are_not_shared(gateway):
    gateway.start()
    status, _, body = request("DELETE", f"{gateway.url}/boom")   # Method: any
    assert status == 502 and json.loads(body) == {"message": "Internal server error"}
    assert gateway.handler("EchoFunction").__globals__["helper"].NAME == "echo"


def test_given_schedule_when_fired_then_handler_gets_a_scheduled_event_and_a_context(gateway):
    result = gateway.fire_schedule("EchoFunction")
    event = result["event"]
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert event["detail"] == {} and event["resources"][0].endswith(":rule/shopwave-local-EchoFunctionSweep")
    assert set(event) >= {"version", "id", "account", "time", "region"}
    assert 29_000 < result["remaining"] <= 30_000   # Timeout: 30 from Globals


def test_given_a_schedule_with_an_input_when_fired_then_the_handler_gets_that_input_as_its_event(gateway):
    # EventBridge sends a target's Input as the event itself (the Reconcile schedule in template.yaml)
    by_name = gateway.fire_schedule("EchoFunction", "Reconcile")["event"]
    by_index = gateway.fire_schedule("EchoFunction", 1)["event"]

    assert by_name == by_index == {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events",
                                   "detail": {"sweep": "reconcile"}}
    assert gateway.schedule_interval("EchoFunction", 1) == 86400


def test_given_gateway_when_invoked_then_env_comes_from_template_and_caller_and_stop_restores_it(toy):
    os.environ.pop("TOY_TABLE", None)
    gw = LocalGateway(toy / "template.yaml", env={"TOY_MODE": "override"})
    gw.invoke("EchoFunction", {"source": "aws.events"})
    assert os.environ["TOY_TABLE"] == "shopwave-local-ToyTable" and os.environ["ECHO_ONLY"] == "yes"
    assert os.environ["TOY_MODE"] == "override" and os.environ["POWERTOOLS_TRACE_DISABLED"] == "true"
    gw.stop()
    assert "TOY_TABLE" not in os.environ and "ECHO_ONLY" not in os.environ


def test_given_schedule_override_when_schedules_started_then_they_fire_until_stopped(toy):
    gw = LocalGateway(toy / "template.yaml", env={}, schedule_overrides={"EchoFunction": 0.05})
    assert gw.schedule_interval("EchoFunction") == 0.05
    assert LocalGateway(toy / "template.yaml", env={}).schedule_interval("EchoFunction") == 3600
    calls = gw.handler("EchoFunction").__globals__["CALLS"]
    gw.start_schedules()
    deadline = time.monotonic() + 3
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    gw.stop()
    assert len(calls) >= 2 and all(c["source"] == "aws.events" for c in calls)
    count = len(calls)
    time.sleep(0.15)
    assert len(calls) == count


def test_given_speedup_when_schedules_started_then_rate_is_divided(toy):
    gw = LocalGateway(toy / "template.yaml", env={}, schedule_overrides={"EchoFunction": "rate(1 minute)"})
    calls = gw.handler("EchoFunction").__globals__["CALLS"]
    gw.start_schedules(speedup=600)          # 60 s / 600 = 0.1 s
    deadline = time.monotonic() + 3
    while not calls and time.monotonic() < deadline:
        time.sleep(0.02)
    gw.stop()
    assert calls


def test_given_two_gateways_when_handlers_loaded_then_modules_are_fresh(toy):
    first, second = LocalGateway(toy / "template.yaml", {}), LocalGateway(toy / "template.yaml", {})
    first.invoke("EchoFunction", {"source": "aws.events"})
    assert first.handler("EchoFunction") is not second.handler("EchoFunction")
    assert second.handler("EchoFunction").__globals__["CALLS"] == []
    first.stop(), second.stop()


# ---------------------------------------------------------------------------- events, context
def test_given_signed_webhook_event_when_built_then_it_is_a_rest_proxy_post():
    event = build_webhook_event("s", {"id": "d1", "type": "customer.created", "occurred_at": "x",
                                      "data": {"id": "c1", "updated_at": "x"}}, 1700000000)
    assert event["headers"]["Webshop-Signature"].startswith("t=1700000000,v1=")
    assert event["body"].startswith('{"id":"d1",')
    assert event == {**event, "httpMethod": "POST", "path": "/webhooks/customers", "isBase64Encoded": False}


def test_given_binary_body_when_event_built_then_it_is_base64_encoded():
    event = rest_api_event("POST", "/x", "/x", [], b"\xff\x00")
    assert event["isBase64Encoded"] is True and event["body"] == "/wA="


def test_given_lambda_context_when_time_passes_then_remaining_time_counts_down():
    context = LambdaContext("fn", deadline=time.monotonic() + 0.5, memory_limit_in_mb=256)
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    assert 0 < context.get_remaining_time_in_millis() < first <= 500
    assert context.invoked_function_arn.endswith(":function:fn") and context.memory_limit_in_mb == 256
    assert len(context.aws_request_id) == 36
    assert LambdaContext("fn", deadline=time.monotonic() - 1).get_remaining_time_in_millis() == 0
