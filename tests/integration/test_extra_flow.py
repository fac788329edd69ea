"""A seventh and eighth flow declared in this file only: the webshop's bookable services, which
are products in Wave. Nothing outside this file knows them, yet the engine syncs them both ways
on the sandboxes, a webhook delivery for one reaches its function, the convergence checker checks
them from their declaration, and the template check takes them with a template fragment and
handler files for them (the registry is the one place a flow is declared)."""
from __future__ import annotations

import copy
import importlib.util
import json
import shutil
from decimal import Decimal

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

from devstack.convergence import check
from devstack.flow_deployment import WEBHOOK_EVENT_SECRET, events_disagreements, template_disagreements
from devstack.gateway import build_webhook_event
from devstack.template import ROOT, load_template
from devstack.webshop_sandbox import WebshopSandbox
from devstack.webshop_sandbox.errors import invalid
from devstack.webshop_sandbox.schemas import CONTRACT_RESOURCES, Resource
from devstack.webshop_sandbox.values import check_str, money
from devstack.webshop_sandbox.webhooks import event_body
from shopwave.engine import Entity, Flow, ShopResource
from shopwave.engine.declarations import DuplicateKey, WaveResource, WaveWrite
from shopwave.flows import FLOWS
from shopwave.flows.products import PRODUCT
from shopwave.mapping import SHOP, WAVE, Mapping, values

from .conftest import SHOP_KEY, WEBHOOK_SECRET
from .handlers import Context
from .test_order_sync import seed_order


# ------------------------------------------------------------------ the webshop's fourth resource
def normalize_service(data, lookup=None, previous=None):
    if data.get("price") is None:
        raise invalid("price is required")
    return {"name": check_str(data.get("name"), "name", required=True),
            "description": check_str(data.get("description"), "description", max_len=5000),
            "price": money(data["price"], "price")}


SERVICES = Resource("services", "service", "s", 4001, ("name", "description", "price"), normalize_service)


# ------------------------------------------------------------------------- the declared flows
def prices_agree(records: dict) -> str | None:
    shop_price, wave_price = records[SHOP].get("price"), records[WAVE].get("unitPrice")
    if values.decimal(shop_price) != values.decimal(wave_price):
        return f"service price {shop_price} but Wave unit price {wave_price}"
    return None


SERVICE = Entity(
    name="service",
    mapping=Mapping(f for f in PRODUCT.mapping.fields if f.name in ("name", "description", "price")),
    shop=ShopResource("services"),  # read by the contract's feed (cursor `updated_at`), written through it
    # A service is a product in Wave: listed, fetched and adopted (by name) as products are; written
    # by the product mutations, with no archiving (services have no `archived` field).
    wave=WaveResource("Product", read=PRODUCT.wave.read, adopt=PRODUCT.wave.adopt,
                      write=WaveWrite(create="productCreate", patch="productPatch", output="product",
                                      create_extras=PRODUCT.wave.write.create_extras)),
    creates_in=frozenset({WAVE}),
    verify=prices_agree,
    duplicate_key=DuplicateKey("name"),
)
SERVICE_FLOWS = {"service_to_wave": Flow("service_to_wave", SERVICE, SHOP),
                 "service_to_webshop": Flow("service_to_webshop", SERVICE, WAVE)}
HANDLER = '''"""Lambda handler: the {flow} flow (declared in shopwave.flows, run by the shared engine)."""
from shopwave.lambda_entry import flow_handler

lambda_handler = flow_handler("{flow}")
'''


@pytest.fixture(autouse=True)
def services_declared(monkeypatch):
    for name, flow in SERVICE_FLOWS.items():
        monkeypatch.setitem(FLOWS, name, flow)


@pytest.fixture
def shop(tmp_path):
    """The webshop sandbox serving the contract's resources and services."""
    sandbox = WebshopSandbox(db_path=str(tmp_path / "shop.sqlite"), api_key=SHOP_KEY, webhook_secret=WEBHOOK_SECRET,
                             resources=CONTRACT_RESOURCES + (SERVICES,))
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def code_dir(tmp_path):
    """functions/ as it is, plus the two handler files an engineer adds for the services' flows."""
    root = tmp_path / "code"
    shutil.copytree(ROOT / "functions", root / "functions")
    for name in SERVICE_FLOWS:
        (root / "functions" / name).mkdir()
        (root / "functions" / name / "app.py").write_text(HANDLER.format(flow=name))
    return root


def wave_product(stack, shop_record):
    return next(p for p in stack.wave.products() if p["id"] == stack.store.get_link("service", SHOP, shop_record["id"]).wave_id)


@pytest.fixture
def settled(stack):
    """The six flows' records and two services, every flow run until nothing moves."""
    seed_order(stack)
    fitting = stack.shop.create("services", {"name": "Bike fitting", "description": "One hour", "price": "80.00"})
    tuneup = stack.shop.create("services", {"name": "Tune-up", "price": "45.50"})
    stack.settle(flows=tuple(FLOWS))
    return {"fitting": fitting, "tuneup": tuneup}


# ------------------------------------------------------------------------------------ engine
def test_given_services_in_the_webshop_when_every_flow_settles_then_each_is_a_wave_product(stack, settled):
    fitting = wave_product(stack, settled["fitting"])
    assert (fitting["name"], fitting["description"], Decimal(fitting["unitPrice"])) == ("Bike fitting", "One hour", 80)
    assert Decimal(wave_product(stack, settled["tuneup"])["unitPrice"]) == Decimal("45.50")
    # the product flows leave them alone, and the services' flows leave products alone
    assert {p["name"] for p in stack.wave.products()} == {"Widget", "Gadget", "Discount", "Bike fitting", "Tune-up"}
    assert [s["name"] for s in stack.shop.all("services")] == ["Bike fitting", "Tune-up"]
    assert len(stack.shop.all("products")) == 2


def test_given_a_settled_service_when_edited_in_wave_then_in_the_webshop_then_each_edit_reaches_the_other(stack, settled):
    wave_id = wave_product(stack, settled["fitting"])["id"]
    stack.wave.update_product(wave_id, unitPrice="85.00")
    stack.settle(flows=tuple(FLOWS))
    assert stack.shop.get("services", settled["fitting"]["id"])["price"] == "85.00"
    stack.shop.update("services", settled["fitting"]["id"], {"description": "Ninety minutes"})
    stack.settle(flows=tuple(FLOWS))
    assert wave_product(stack, settled["fitting"])["description"] == "Ninety minutes"
    assert check(stack.runtime).ok


def test_given_a_new_service_when_its_webhook_reaches_its_function_then_it_is_in_wave(stack, code_dir):
    stack.shop.take_outbox()
    massage = stack.shop.create("services", {"name": "Sports massage", "price": "60.00"})
    [(resource, event)] = stack.shop.take_outbox()
    assert (resource, event["type"]) == ("services", "service.created")
    delivery = build_webhook_event(WEBHOOK_SECRET, event_body(event).decode(), path="/webhooks/services")
    spec = importlib.util.spec_from_file_location("fn_service_to_wave", code_dir / "functions/service_to_wave/app.py")
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    response = handler.lambda_handler(delivery, Context())
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["created"] == 1
    assert Decimal(wave_product(stack, massage)["unitPrice"]) == 60


# ---------------------------------------------------------------------------------- checker
def test_given_services_settled_when_checked_then_the_checker_finds_nothing(stack, settled):
    findings = check(stack.runtime)
    assert findings.ok, findings.summary()
    assert findings.checked["service"] == {"shop": 2, "wave": len(stack.wave.products()), "links": 2}


def test_given_a_second_wave_product_named_like_a_linked_service_when_checked_then_both_are_duplicates(stack, settled):
    linked = stack.store.get_link("service", SHOP, settled["fitting"]["id"])
    twin = stack.wave.create_product(name="Bike fitting", unitPrice="80.00")
    findings = check(stack.runtime)
    assert sorted(((f.entity, f.kind, f.shop_id, f.wave_id) for f in findings.all()), key=str) == sorted(
        [("service", "duplicate", linked.shop_id, linked.wave_id), ("service", "duplicate", None, twin["id"])], key=str)
    assert all("2 Wave records share name 'Bike fitting'" in f.detail for f in findings.duplicate)


def test_given_a_service_priced_apart_behind_the_syncs_back_when_checked_then_its_declared_check_refuses_the_pair(stack, settled):
    linked = stack.store.get_link("service", SHOP, settled["tuneup"]["id"])
    stack.wave.update_product(linked.wave_id, unitPrice="49.00")
    findings = check(stack.runtime, ["service"])
    [refused] = findings.totals
    assert (refused.shop_id, refused.wave_id) == (linked.shop_id, linked.wave_id)
    assert refused.detail == "service price 45.50 but Wave unit price 49"  # as Wave writes it
    assert [(f.shop_id, list(f.fields)) for f in findings.differing] == [(linked.shop_id, ["price"])]


# --------------------------------------------------------------------------------- template
FRAGMENT = """
Parameters:
  ServiceToWaveSchedule:
    Type: String
    Default: cron(0/5 * * * ? *)
    Description: When the service-to-Wave sweep runs.
  ServiceToWebshopSchedule:
    Type: String
    Default: cron(3/5 * * * ? *)
    Description: When the Wave-to-webshop service sweep runs.

Resources:
  WebhookApi:
    Properties:
      DefinitionBody:
        paths:
          /webhooks/services:
            post:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${ServiceToWaveFunction.Arn}/invocations
              responses: {}

  ServiceToWaveWebhookPermission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !GetAtt ServiceToWaveFunction.Arn
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebhookApi}/${WebhookApi.Stage}/POST/webhooks/services

  ServiceToWaveLogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /aws/lambda/${AWS::StackName}/ServiceToWaveFunction
      RetentionInDays: !Ref LogRetentionInDays

  ServiceToWaveFunction:
    Type: AWS::Serverless::Function
    Properties:
      LoggingConfig:
        LogGroup: !Ref ServiceToWaveLogGroup
      ReservedConcurrentExecutions: !If [ReservesConcurrency, !Ref WebhookConcurrency, !Ref AWS::NoValue]
      Description: Webshop services to Wave products (sweep + webhook).
      CodeUri: functions/service_to_wave/
      Events:
        Sweep:
          Type: Schedule
          Properties:
            Schedule: !Ref ServiceToWaveSchedule
      Policies:
        - Statement:
            - Sid: Tables
              Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem, dynamodb:Query, dynamodb:BatchGetItem]
              Resource:
                - !GetAtt LinksTable.Arn
                - !GetAtt StateTable.Arn
                - !GetAtt IdempotencyTable.Arn
            - Sid: Secrets
              Effect: Allow
              Action: [ssm:GetParameter, ssm:GetParameters]
              Resource:
                - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${WaveTokenParameterName}
                - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${WebshopApiKeyParameterName}
                - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${WebhookSecretParameterName}
                - !If
                  - HasPreviousWebhookSecret
                  - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${WebhookSecretPreviousParameterName}
                  - !Ref AWS::NoValue

  ServiceToWebshopLogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /aws/lambda/${AWS::StackName}/ServiceToWebshopFunction
      RetentionInDays: !Ref LogRetentionInDays

  ServiceToWebshopFunction:
    Type: AWS::Serverless::Function
    Properties:
      LoggingConfig:
        LogGroup: !Ref ServiceToWebshopLogGroup
      ReservedConcurrentExecutions: !If [ReservesConcurrency, 1, !Ref AWS::NoValue]
      Description: Wave products of services to the webshop (sweep).
      CodeUri: functions/service_to_webshop/
      Events:
        Sweep:
          Type: Schedule
          Properties:
            Schedule: !Ref ServiceToWebshopSchedule
        Reconcile:
          Type: Schedule
          Properties:
            Schedule: !Ref ReconcileSchedule
            Input: '{"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {"sweep": "reconcile"}}'
      Policies:
        - Statement:
            - Sid: Tables
              Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem, dynamodb:Query, dynamodb:BatchGetItem]
              Resource:
                - !GetAtt LinksTable.Arn
                - !GetAtt StateTable.Arn
            - Sid: Secrets
              Effect: Allow
              Action: [ssm:GetParameter, ssm:GetParameters]
              Resource:
                - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${WaveTokenParameterName}
                - !Sub arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${WebshopApiKeyParameterName}

Outputs:
  ServiceWebhookUrl:
    Description: Give this URL to the webshop for service.* webhooks.
    Value: !Sub https://${WebhookApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/live/webhooks/services
"""


def merged(template: dict, fragment: dict) -> dict:
    """The template with the fragment's keys added (mappings merged key by key)."""
    out = copy.deepcopy(template)
    for key, value in fragment.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def test_given_the_services_flows_when_the_template_is_checked_without_a_fragment_then_their_functions_are_missing(code_dir):
    assert template_disagreements(FLOWS, load_template(), base_dir=code_dir) == [
        "ServiceToWaveFunction (service_to_wave) is not in the template",
        "ServiceToWebshopFunction (service_to_webshop) is not in the template"]


def test_given_the_services_flows_and_a_template_fragment_for_them_when_checked_then_template_and_registry_agree(code_dir):
    template = merged(load_template(), yaml_parse(FRAGMENT))
    assert template_disagreements(FLOWS, template, base_dir=code_dir) == []
    # and the fragment is a template SAM deploys: it transforms, with the services' functions in it
    sam = copy.deepcopy(template)
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://placeholder-bucket/{props[key].strip('/')}.zip"
    cfn = Translator({}, Parser(), boto_session=boto3.session.Session(region_name="us-east-1")).translate(
        sam, parameter_values={}, get_managed_policy_map=lambda: {})
    assert {"ServiceToWaveFunction", "ServiceToWebshopFunction"} <= {
        k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}


def test_given_the_services_flows_when_events_are_checked_then_a_signed_service_event_is_all_they_add(tmp_path):
    events = tmp_path / "events"
    shutil.copytree(ROOT / "events", events)
    assert events_disagreements(FLOWS, events) == [
        "events/webhook_service.json (service_to_wave's webhook event) does not exist"]
    body = '{"id":"dlv_0001","type":"service.updated","occurred_at":"2025-11-25T12:00:00Z",' \
           '"data":{"id":"s_4001","updated_at":"2025-11-25T11:59:59.250Z"}}'
    event = build_webhook_event(WEBHOOK_EVENT_SECRET, body, timestamp=1764072000, path="/webhooks/services")
    (events / "webhook_service.json").write_text(json.dumps(event, indent=2))
    assert events_disagreements(FLOWS, events) == []
