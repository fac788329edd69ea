"""template.yaml: lints clean, transforms offline, and says what the rest of the project expects."""
from __future__ import annotations

import ast
import copy
import hashlib
import hmac
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import boto3
import pytest
from cfnlint.api import lint_file
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from devstack.flow_deployment import events_disagreements, flow_functions, template_disagreements
from devstack.gateway import sign
from devstack.template import ROOT, api_definition_routes, functions, load_template
from shopwave.flows import FLOWS

TEMPLATE = ROOT / "template.yaml"
# One function per flow of the registry: (code folder, schedule parameter, webhook route or None).
FLOW_FUNCTIONS = {f.function: (f.flow, f.schedule_parameter, f.webhook_route) for f in flow_functions(FLOWS).values()}
FUNCTIONS = tuple(FLOW_FUNCTIONS)
WEBHOOK_FUNCTIONS = tuple(f for f, (_, _, route) in FLOW_FUNCTIONS.items() if route)
TABLES = ("LinksTable", "StateTable", "IdempotencyTable")
SECRET_PARAMS = ("WaveTokenParameterName", "WebshopApiKeyParameterName", "WebhookSecretParameterName")
TEST_SECRET = "whsec_local_test"
PARAMETER_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${%s}"


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template(TEMPLATE)


@pytest.fixture(scope="module")
def transformed(template) -> dict:
    """The SAM transform, offline: a region from a boto3 session, code URIs as s3:// placeholders."""
    sam = copy.deepcopy(template)
    for resource in sam["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://placeholder-bucket/{props[key].strip('/')}.zip"
    session = boto3.session.Session(region_name="us-east-1")
    return Translator({}, Parser(), boto_session=session).translate(
        sam, parameter_values={}, get_managed_policy_map=lambda: {})


def of_type(cfn: dict, resource_type: str) -> dict[str, dict]:
    return {k: v for k, v in cfn["Resources"].items() if v["Type"] == resource_type}


def referenced_names(node) -> set[str]:
    """Every logical id / parameter a node refers to via Ref, GetAtt or ${...} in Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref":
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else value.split(".")[0])
            elif key == "Fn::Sub" and isinstance(value, str):
                found |= set(re.findall(r"\$\{([^}.!]+)", value))
            else:
                found |= referenced_names(value)
    elif isinstance(node, list):
        for item in node:
            found |= referenced_names(item)
    return found


def role_statements(transformed: dict, function: str) -> list[dict]:
    role = transformed["Resources"][f"{function}Role"]
    return [statement for policy in role["Properties"].get("Policies", [])
            for statement in policy["PolicyDocument"]["Statement"]]


def actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


# ------------------------------------------------------------------------------- lint, transform
def test_given_template_when_cfn_lint_runs_then_it_reports_no_errors():
    errors = [m for m in lint_file(TEMPLATE) if m.rule.id.startswith("E")]
    assert errors == [], "\n".join(str(m) for m in errors)


def test_given_template_when_transformed_offline_then_both_functions_share_the_globals(transformed):
    lambdas = of_type(transformed, "AWS::Lambda::Function")
    assert set(lambdas) == set(FUNCTIONS)
    layer_ids = set(of_type(transformed, "AWS::Lambda::LayerVersion"))
    for name, fn in lambdas.items():
        props = fn["Properties"]
        assert props["Runtime"] == "python3.12"
        assert props["Handler"] == "app.lambda_handler"
        assert props["Architectures"] == ["arm64"]
        assert props["MemorySize"] == 512 and props["Timeout"] == 120
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert [layer["Ref"] for layer in props["Layers"]] == list(layer_ids)
        env = props["Environment"]["Variables"]
        assert env["LINKS_TABLE"] == {"Ref": "LinksTable"}
        assert env["STATE_TABLE"] == {"Ref": "StateTable"}
        assert env["IDEMPOTENCY_TABLE"] == {"Ref": "IdempotencyTable"}
        assert env["WAVE_TOKEN_PARAM"] == {"Ref": "WaveTokenParameterName"}
        assert env["WEBSHOP_API_KEY_PARAM"] == {"Ref": "WebshopApiKeyParameterName"}
        assert env["WEBHOOK_SECRET_PARAM"] == {"Ref": "WebhookSecretParameterName"}
        assert env["POWERTOOLS_SERVICE_NAME"] == "shopwave"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Shopwave"
        assert {"WAVE_API_URL", "WAVE_BUSINESS_ID", "WEBSHOP_API_URL", "POWERTOOLS_LOG_LEVEL",
                "LOG_LEVEL"} <= set(env)


def test_given_template_when_transformed_then_code_locations_and_layer_are_as_agreed(template, transformed):
    resources = template["Resources"]
    for function, (folder, _, _) in FLOW_FUNCTIONS.items():
        assert resources[function]["Properties"]["CodeUri"] == f"functions/{folder}/"
        assert (ROOT / "functions" / folder / "app.py").is_file()
    layer = resources["SyncLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"] == "layers/shopwave/"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert "build-SyncLayer:" in (ROOT / "layers/shopwave/Makefile").read_text()
    [built] = of_type(transformed, "AWS::Lambda::LayerVersion").values()
    assert built["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    assert (ROOT / "layers/shopwave/requirements.lock").is_file()


STAGGERED = {"CustomerToWaveSchedule": 0, "ProductToWaveSchedule": 1, "OrderToWaveSchedule": 2,
             "CustomerToWebshopSchedule": 3, "ProductToWebshopSchedule": 4, "InvoiceToWebshopSchedule": 4}


def test_given_template_when_transformed_then_each_function_has_a_schedule_rule(template, transformed):
    # every flow every 5 minutes, at its own minute: the sweeps do not queue at the Wave budget together
    assert {schedule for _, schedule, _ in FLOW_FUNCTIONS.values()} == set(STAGGERED)
    for name, minute in STAGGERED.items():
        assert template["Parameters"][name]["Default"] == f"cron({minute}/5 * * * ? *)"
    rules = of_type(transformed, "AWS::Events::Rule").values()
    targets = {target["Arn"]["Fn::GetAtt"][0]: rule["Properties"]["ScheduleExpression"]
               for rule in rules for target in rule["Properties"]["Targets"]}
    assert targets == {fn: {"Ref": schedule} for fn, (_, schedule, _) in FLOW_FUNCTIONS.items()}


def test_given_template_when_read_then_every_function_shares_one_wave_budget_of_two_by_default(template):
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["WAVE_MAX_CONCURRENCY"] == {"Ref": "WaveMaxConcurrency"} and env["WAVE_MAX_RPS"] == {"Ref": "WaveMaxRps"}
    parameters = template["Parameters"]
    assert (parameters["WaveMaxConcurrency"]["Default"], parameters["WaveMaxRps"]["Default"]) == (2, 0)
    specs = functions(template, {"WaveBusinessId": "biz"})
    assert {(s.env["WAVE_MAX_CONCURRENCY"], s.env["WAVE_MAX_RPS"]) for s in specs} == {("2", "0")}


def test_given_template_when_transformed_then_each_webhook_route_reaches_its_to_wave_function(transformed):
    [api] = of_type(transformed, "AWS::ApiGateway::RestApi").values()
    paths = api["Properties"]["Body"]["paths"]
    assert set(paths) == {route for _, _, route in FLOW_FUNCTIONS.values() if route}
    for function in WEBHOOK_FUNCTIONS:
        integration = paths[FLOW_FUNCTIONS[function][2]]["post"]["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
        assert function in json.dumps(integration["uri"])
    [stage] = of_type(transformed, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["StageName"] == "live"


def test_given_template_when_transformed_then_tables_have_agreed_keys_ttl_pitr_and_sse(transformed):
    tables = of_type(transformed, "AWS::DynamoDB::Table")
    assert set(tables) == set(TABLES)
    expected_keys = {"LinksTable": [("pk", "HASH")],
                     "StateTable": [("pk", "HASH"), ("sk", "RANGE")],
                     "IdempotencyTable": [("id", "HASH")]}
    expected_ttl = {"LinksTable": None, "StateTable": "expires_at", "IdempotencyTable": "expiration"}
    for name, table in tables.items():
        props = table["Properties"]
        assert [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]] == expected_keys[name]
        assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {
            key: "S" for key, _ in expected_keys[name]}
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert "GlobalSecondaryIndexes" not in props
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        ttl = props.get("TimeToLiveSpecification")
        assert (ttl["AttributeName"] if ttl and ttl["Enabled"] else None) == expected_ttl[name]


def test_given_template_when_transformed_then_failed_async_invocations_go_to_the_queue(transformed):
    configs = of_type(transformed, "AWS::Lambda::EventInvokeConfig").values()
    assert {c["Properties"]["FunctionName"]["Ref"] for c in configs} == set(FUNCTIONS)
    for config in configs:
        on_failure = config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
        assert on_failure == {"Fn::GetAtt": ["FailedInvocationsQueue", "Arn"]}
    for fn in FUNCTIONS:
        sends = [s for s in role_statements(transformed, fn) if "sqs:SendMessage" in actions(s)]
        assert referenced_names(sends) == {"FailedInvocationsQueue"}


# ------------------------------------------------------------------------------------------ IAM
@pytest.mark.parametrize("function, tables, secrets", [
    (fn, {"LinksTable", "StateTable", "IdempotencyTable"}, set(SECRET_PARAMS)) for fn in WEBHOOK_FUNCTIONS] + [
    (fn, {"LinksTable", "StateTable"}, {"WaveTokenParameterName", "WebshopApiKeyParameterName"})
    for fn in FUNCTIONS if fn not in WEBHOOK_FUNCTIONS])
def test_given_a_function_when_its_role_is_read_then_it_reaches_only_its_tables_and_secrets(
        template, transformed, function, tables, secrets):
    statements = role_statements(transformed, function)
    dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in actions(s))]
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in actions(s))]
    assert referenced_names([s["Resource"] for s in dynamo]) == tables
    resources = [resource for s in ssm for resource in s["Resource"]]
    previous = [r for r in resources if "Fn::If" in r]
    assert referenced_names([r for r in resources if "Fn::If" not in r]) == secrets | {
        "AWS::Partition", "AWS::Region", "AWS::AccountId"}
    if function in WEBHOOK_FUNCTIONS:
        # The previous webhook secret (rotation) is optional: readable only where one is named.
        assert previous == [{"Fn::If": ["HasPreviousWebhookSecret", {"Fn::Sub": PARAMETER_ARN % "WebhookSecretPreviousParameterName"},
                                        {"Ref": "AWS::NoValue"}]}]
        assert template["Conditions"]["HasPreviousWebhookSecret"] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": "WebhookSecretPreviousParameterName"}, ""]}]}
        assert template["Parameters"]["WebhookSecretPreviousParameterName"]["Default"] == ""
    else:
        assert previous == []
    for statement in dynamo + ssm:
        assert statement["Effect"] == "Allow"
        assert "*" not in json.dumps(statement["Resource"])
        assert not any(a.endswith(":*") or a in ("dynamodb:Scan", "dynamodb:DeleteTable") for a in actions(statement))
    for statement in ssm:
        assert set(actions(statement)) <= {"ssm:GetParameter", "ssm:GetParameters"}
        for resource in statement["Resource"]:  # names start with "/": no slash after "parameter"
            if "Fn::If" not in resource:
                assert re.fullmatch(re.escape(PARAMETER_ARN).replace("%s", r"\w+ParameterName"), resource["Fn::Sub"])


@pytest.mark.parametrize("function", [fn for fn in FUNCTIONS if fn not in WEBHOOK_FUNCTIONS])
def test_given_a_sweep_only_function_when_its_role_is_read_then_it_cannot_read_the_webhook_secret(transformed, function):
    assert "WebhookSecretParameterName" not in json.dumps(role_statements(transformed, function))
    assert "WebhookSecretPreviousParameterName" not in json.dumps(role_statements(transformed, function))
    assert "IdempotencyTable" not in json.dumps(role_statements(transformed, function))


# ---------------------------------------------------------------------------- parameters, outputs
def test_given_parameters_when_read_then_no_default_is_a_secret_value(template):
    params = template["Parameters"]
    for name in SECRET_PARAMS:
        assert params[name]["Default"].startswith("/shopwave/"), name
    for name, spec in params.items():
        default = str(spec.get("Default", ""))
        assert not re.search(r"whsec_|sk_|token_|Bearer|^[A-Za-z0-9+/]{32,}$", default), name
    assert params["WaveApiUrl"]["Default"] == "https://gql.waveapps.com/graphql/public"


def test_given_template_when_outputs_read_then_webhook_url_and_table_names_are_exported(template):
    outputs = template["Outputs"]
    for function in WEBHOOK_FUNCTIONS:
        flow = FLOWS[FLOW_FUNCTIONS[function][0]]
        route = FLOW_FUNCTIONS[function][2]
        assert outputs[f"{flow.entity.name.capitalize()}WebhookUrl"]["Value"]["Fn::Sub"].endswith(route)
    assert {outputs[f"{t}Name"]["Value"]["Ref"] for t in TABLES} == set(TABLES)


def test_given_samconfig_when_parsed_then_default_profile_deploys_shopwave():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert config["version"] == 0.1
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["stack_name"] == "shopwave" and deploy["resolve_s3"] is True
    assert deploy["capabilities"] == "CAPABILITY_IAM" and deploy["region"] == "us-east-1"
    assert deploy["confirm_changeset"] is True
    assert config["default"]["build"]["parameters"] == {"cached": True, "parallel": True}
    assert config["default"]["validate"]["parameters"]["lint"] is True


# ------------------------------------------------------------------------------- local reading
def test_given_real_template_when_devstack_reads_functions_then_routes_schedules_env_match(template):
    specs = {spec.logical_id: spec for spec in functions(template, {"WaveBusinessId": "biz"})}
    assert set(specs) == set(FUNCTIONS)
    for function, (folder, _, route) in FLOW_FUNCTIONS.items():
        assert specs[function].routes == ([("POST", route)] if route else [])
        # staggered per flow; a flow that reads Wave also runs its daily reconciliation pass, the event its Input
        assert specs[function].schedules == ([f"cron({STAGGERED[function[:-len('Function')] + 'Schedule']}/5 * * * ? *)"]
                                             + ([] if route else ["rate(1 day)"]))
        assert [json.loads(i)["detail"] if i else None for i in specs[function].schedule_inputs] == (
            [None] + ([] if route else [{"sweep": "reconcile"}]))
        assert specs[function].code_dir == ROOT / "functions" / folder
    wave = specs["CustomerToWaveFunction"]
    assert wave.code_dir == ROOT / "functions/customer_to_wave"
    assert wave.env["LINKS_TABLE"] == "shopwave-local-LinksTable"
    assert wave.env["WAVE_BUSINESS_ID"] == "biz"
    assert wave.env["WEBHOOK_SECRET_PARAM"] == "/shopwave/webhook-secret"
    assert wave.env["POWERTOOLS_LOG_LEVEL"] == "INFO" and wave.env["LOG_LEVEL"] == "INFO"
    assert (wave.timeout, wave.memory_size) == (120, 512)


# ------------------------------------------------------------------------------- the registry
def test_given_the_flows_registry_when_the_template_is_checked_against_it_then_they_agree(template):
    assert len(FLOW_FUNCTIONS) == len(FLOWS) and len(WEBHOOK_FUNCTIONS) == 3
    assert template_disagreements(FLOWS, template) == []


def test_given_the_flows_registry_when_events_are_checked_against_it_then_each_webshop_resource_has_a_signed_event():
    assert events_disagreements(FLOWS, ROOT / "events") == []


def a_flow_the_template_lacks():
    """A refund flow: a webshop resource of its own, read from the webshop (so it takes webhooks)."""
    import dataclasses

    order_to_wave = FLOWS["order_to_wave"]
    refund = dataclasses.replace(order_to_wave.entity, name="refund",
                                 shop=dataclasses.replace(order_to_wave.entity.shop, resource="refunds"))
    return {**FLOWS, "refund_to_wave": dataclasses.replace(order_to_wave, name="refund_to_wave", entity=refund)}


def test_given_a_flow_added_to_the_registry_only_when_checked_then_its_missing_function_and_event_are_named(template):
    flows = a_flow_the_template_lacks()
    assert template_disagreements(flows, template) == ["RefundToWaveFunction (refund_to_wave) is not in the template"]
    assert events_disagreements(flows, ROOT / "events") == [
        "events/webhook_refund.json (refund_to_wave's webhook event) does not exist"]


def test_given_a_function_removed_from_the_registry_only_when_checked_then_the_template_is_said_to_run_it(template):
    flows = {name: flow for name, flow in FLOWS.items() if name != "product_to_webshop"}
    assert template_disagreements(flows, template) == [
        "ProductToWebshopFunction is in the template but no flow in the registry runs it"]


def test_given_a_template_drifting_from_the_registry_when_checked_then_each_drift_is_named(template):
    drifted = copy.deepcopy(template)
    resources = drifted["Resources"]
    del resources["WebhookApi"]["Properties"]["DefinitionBody"]["paths"]["/webhooks/products"]
    sweep_only = resources["CustomerToWebshopFunction"]["Properties"]
    sweep_only["Policies"][0]["Statement"][0]["Resource"].append({"Fn::GetAtt": ["IdempotencyTable", "Arn"]})
    resources["OrderToWaveFunction"]["Properties"]["Events"]["Sweep"]["Properties"]["Schedule"] = {
        "Ref": "ProductToWaveSchedule"}
    resources["InvoiceToWebshopFunction"]["Properties"]["LoggingConfig"]["LogGroup"] = {"Ref": "OrderToWaveLogGroup"}
    found = template_disagreements(FLOWS, drifted)
    assert len(found) == 4, found
    assert found[0].startswith("CustomerToWebshopFunction (customer_to_webshop): its role reaches the tables "
                               "['IdempotencyTable', 'LinksTable', 'StateTable']")
    assert found[1].startswith("ProductToWaveFunction (product_to_wave): its routes are [], not [('POST', '/webhooks/products')]")
    assert found[2].startswith("OrderToWaveFunction (order_to_wave): its schedule is [{'Ref': 'ProductToWaveSchedule'}]")
    assert found[3] == ("InvoiceToWebshopFunction (invoice_to_webshop): it shares the log group OrderToWaveLogGroup "
                        "with OrderToWaveFunction")


def test_given_a_wave_reading_function_without_its_reconcile_schedule_or_a_shop_reading_one_with_it_when_checked_then_both_are_named(template):
    drifted = copy.deepcopy(template)
    resources = drifted["Resources"]
    reconcile = resources["InvoiceToWebshopFunction"]["Properties"]["Events"].pop("Reconcile")
    resources["OrderToWaveFunction"]["Properties"]["Events"]["Reconcile"] = reconcile
    assert template_disagreements(FLOWS, drifted) == [
        "OrderToWaveFunction (order_to_wave): its reconciliation schedules are [{'Ref': 'ReconcileSchedule'}], not none",
        "InvoiceToWebshopFunction (invoice_to_webshop): its reconciliation schedules are [], not one on !Ref ReconcileSchedule"]


def test_given_the_reconcile_event_when_read_then_it_is_the_schedules_input_a_scheduled_event_asking_for_the_pass(template):
    from shopwave.engine import SweepMode
    from shopwave.flow_runner import parse_event, sweep_mode

    event = json.loads((ROOT / "events/reconcile.json").read_text())
    inputs = {json.dumps(json.loads(v["Properties"]["Events"]["Reconcile"]["Properties"]["Input"]), sort_keys=True)
              for v in template["Resources"].values() if "Reconcile" in v.get("Properties", {}).get("Events", {})}
    assert inputs == {json.dumps(event, sort_keys=True)}
    assert sweep_mode(parse_event(event)) is SweepMode.RECONCILE
    assert sweep_mode(parse_event(json.loads((ROOT / "events/schedule.json").read_text()))) is SweepMode.INCREMENTAL


# ------------------------------------------------------------------------------------- events/
def test_given_events_folder_when_loaded_then_every_json_file_is_valid():
    files = sorted((ROOT / "events").glob("*.json"))
    assert {f.name for f in files} >= {"schedule.json", "webhook_customer.json", "env.local.json"}
    for file in files:
        json.loads(file.read_text())


def test_given_schedule_event_when_read_then_it_is_an_eventbridge_scheduled_event():
    event = json.loads((ROOT / "events/schedule.json").read_text())
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert event["resources"][0].startswith("arn:aws:events:")


def test_given_webhook_event_when_signature_checked_with_test_secret_then_it_verifies():
    event = json.loads((ROOT / "events/webhook_customer.json").read_text())
    assert (event["httpMethod"], event["path"], event["resource"]) == ("POST", "/webhooks/customers",
                                                                       "/webhooks/customers")
    assert event["isBase64Encoded"] is False
    fields = dict(part.split("=", 1) for part in event["headers"]["Webshop-Signature"].split(","))
    expected = hmac.new(TEST_SECRET.encode(), f"{fields['t']}.{event['body']}".encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    body = json.loads(event["body"])
    assert body["type"].startswith("customer.") and set(body) == {"id", "type", "occurred_at", "data"}
    assert set(body["data"]) == {"id", "updated_at"}


def test_given_contract_test_vector_when_signed_then_header_matches():
    body = ('{"id":"dlv_0001","type":"customer.updated","occurred_at":"2025-11-25T12:00:00Z",'
            '"data":{"id":"c_1042","updated_at":"2025-11-25T11:59:59.250Z"}}')
    assert sign("whsec_5f1c0ffee", body, 1764072000) == (
        "t=1764072000,v1=f9ded0870b7201ff878eb28b255b523c5a058ee59f30e4c58d299c0bc3fe7b8d")


def test_given_env_file_when_read_then_it_sets_only_variables_the_template_declares(template):
    declared = set(template["Globals"]["Function"]["Environment"]["Variables"])
    env = json.loads((ROOT / "events/env.local.json").read_text())
    for section in env.values():
        assert set(section) <= declared


# ------------------------------------------------------------------------------ operator alarms
def test_given_template_when_read_then_parked_records_and_failed_invocations_raise_alarms(template):
    alarms = {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    parked = alarms["ParkedRecordsAlarm"]
    assert (parked["Namespace"], parked["MetricName"]) == ("Shopwave", "ParkedRecords")
    failed = alarms["FailedInvocationsAlarm"]
    assert failed["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["FailedInvocationsQueue", "QueueName"]}
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_given_the_layers_custom_metrics_when_the_alarms_are_read_then_each_has_its_alarm_at_the_service_dimension(template):
    """Custom metrics exist only for alarms (shopwave/observability.py), published only when
    non-zero: each has an alarm on the service dimension, and a period without data is a quiet one."""
    from shopwave.observability import ALARM_METRICS

    env = template["Globals"]["Function"]["Environment"]["Variables"]
    namespace, service = env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]
    alarms = [v["Properties"] for v in template["Resources"].values() if v["Type"] == "AWS::CloudWatch::Alarm"]
    ours = {a["MetricName"]: a for a in alarms if a["Namespace"] == namespace}
    assert set(ours) == set(ALARM_METRICS)
    for name, alarm in ours.items():
        assert alarm["Dimensions"] == [{"Name": "service", "Value": service}], name
        assert alarm["TreatMissingData"] == "notBreaching" and alarm["Statistic"] == "Sum", name
    swept = ours["SweepsFailed"]
    # one failed run is no news (the next run goes on); failures in 15 minutes in a row are
    assert (swept["Period"], swept["EvaluationPeriods"], swept["DatapointsToAlarm"]) == (300, 3, 3)




# =============================================================================== issue 13
# Deploy traps of a fresh AWS account, each with the check that would have caught it.
PSEUDO_PARAMETERS = {"AWS::Partition", "AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::URLSuffix"}
NO_VALUE = object()


def evaluate(node, conditions: dict[str, bool]):
    """A property value with Fn::If resolved for the given condition values; NO_VALUE for AWS::NoValue."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        condition, if_true, if_false = node["Fn::If"]
        return evaluate(if_true if conditions[condition] else if_false, conditions)
    if node == {"Ref": "AWS::NoValue"}:
        return NO_VALUE
    return node


def sub_text(node) -> str:
    """An Fn::Sub's template string with its own variables put in (intrinsics as ${Name})."""
    value = node["Fn::Sub"]
    text, variables = (value, {}) if isinstance(value, str) else value
    for name, replacement in variables.items():
        if not isinstance(replacement, str):
            replacement = "${%s}" % next(iter(referenced_names(replacement)))
        text = text.replace("${%s}" % name, replacement)
    return text


# ---------------------------------------------------------------- 1. alarms reach their topic
def test_given_alarm_topic_when_read_then_cloudwatch_may_publish_to_it(template):
    resources = template["Resources"]
    key = resources["AlarmTopic"]["Properties"].get("KmsMasterKeyId")
    if key is None:
        return  # not encrypted with a KMS key (the template says why): CloudWatch can publish
    # Otherwise only a customer-managed key of this template whose policy lets CloudWatch use it:
    # an AWS-managed key such as alias/aws/sns never does, and its alarms are never delivered.
    assert isinstance(key, dict), f"CloudWatch cannot use {key!r}"
    [key_id] = referenced_names(key) - PSEUDO_PARAMETERS
    statements = resources[key_id]["Properties"]["KeyPolicy"]["Statement"]
    for_cloudwatch = [s for s in statements
                      if s["Effect"] == "Allow" and "cloudwatch.amazonaws.com" in json.dumps(s.get("Principal"))]
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= {a for s in for_cloudwatch for a in actions(s)}


# ---------------------------------------------------------------- 2. one stage, scoped permissions
def test_given_template_when_transformed_then_the_live_stage_is_the_only_stage(transformed):
    stages = of_type(transformed, "AWS::ApiGateway::Stage").values()
    assert [stage["Properties"]["StageName"] for stage in stages] == ["live"]
    for deployment in of_type(transformed, "AWS::ApiGateway::Deployment").values():
        # A Deployment's StageName creates that stage too (SAM's implicit "Stage").
        assert "StageName" not in deployment["Properties"]


def test_given_webhook_functions_when_transformed_then_api_gateway_may_invoke_them_on_the_live_stage_only(transformed):
    [stage_id] = of_type(transformed, "AWS::ApiGateway::Stage")
    granted: dict[str, list[tuple[str, str]]] = {}
    for permission in of_type(transformed, "AWS::Lambda::Permission").values():
        props = permission["Properties"]
        if props["Principal"] != "apigateway.amazonaws.com":
            continue
        [function] = referenced_names(props["FunctionName"])
        arn = sub_text(props["SourceArn"])
        for pseudo, value in (("AWS::Partition", "aws"), ("AWS::Region", "us-east-1"), ("AWS::AccountId", "1")):
            arn = arn.replace("${%s}" % pseudo, value)
        api, stage, method, path = re.fullmatch(r"arn:aws:execute-api:us-east-1:1:([^/]+)/([^/]+)/([^/]+)(/.*)", arn).groups()
        assert (api, stage) in {("${WebhookApi}", "${%s}" % stage_id), ("${WebhookApi}", "live")}, arn
        assert "*" not in arn, arn
        granted.setdefault(function, []).append((method, path))
    assert granted == {fn: [("POST", FLOW_FUNCTIONS[fn][2])] for fn in WEBHOOK_FUNCTIONS}


def test_given_api_definition_routes_when_devstack_reads_them_then_each_reaches_the_function_it_invokes():
    uri = "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${%s.Arn}/invocations"
    toy = {"Resources": {
        "Api": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": {"openapi": "3.0.1", "paths": {
            "/hooks/a": {"post": {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": {"Fn::Sub": uri % "A"}}}},
            "/items/{id}": {"x-amazon-apigateway-any-method": {
                "x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": {"Fn::Sub": uri % "B"}}}},
            "/mock": {"get": {"x-amazon-apigateway-integration": {"type": "mock"}}}}}}},
        "A": {"Type": "AWS::Serverless::Function", "Properties": {}},
        "B": {"Type": "AWS::Serverless::Function", "Properties": {}}}}
    assert api_definition_routes(toy) == {"A": [("POST", "/hooks/a")], "B": [("ANY", "/items/{id}")]}


# ---------------------------------------------------------------- 3. reserved concurrency optional
def test_given_reserve_concurrency_when_off_or_on_then_functions_reserve_nothing_or_their_share(template):
    param = template["Parameters"]["ReserveConcurrency"]
    assert param["Default"] == "false" and set(param["AllowedValues"]) == {"true", "false"}
    assert "lease" in param["Description"]  # why off is safe: sweeps of a flow never overlap anyway
    assert template["Conditions"]["ReservesConcurrency"] == {"Fn::Equals": [{"Ref": "ReserveConcurrency"}, "true"]}
    for on in (False, True):
        for function in FUNCTIONS:
            props = template["Resources"][function]["Properties"]
            reserved = evaluate(props.get("ReservedConcurrentExecutions", {"Ref": "AWS::NoValue"}),
                                {"ReservesConcurrency": on})
            if not on:
                assert reserved is NO_VALUE, function
            else:
                assert reserved == ({"Ref": "WebhookConcurrency"} if function in WEBHOOK_FUNCTIONS else 1), function


# ---------------------------------------------------------------- 6. throttling sized with concurrency
PLANNED_DELIVERY_SECONDS = 2  # what one webhook delivery is planned to take (WebhookApi's comment)


def test_given_webhook_concurrency_when_api_throttling_derived_then_api_gateway_answers_429_before_lambda_throttles(template):
    param = template["Parameters"]["WebhookConcurrency"]
    [setting] = template["Resources"]["WebhookApi"]["Properties"]["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")  # per method: a bucket per route
    for key, column in (("ThrottlingBurstLimit", "Burst"), ("ThrottlingRateLimit", "Rate")):
        assert setting[key] == {"Fn::FindInMap": ["WebhookThrottle", {"Ref": "WebhookConcurrency"}, column]}
    table = template["Mappings"]["WebhookThrottle"]
    allowed = range(int(param["MinValue"]), int(param["MaxValue"]) + 1)
    assert set(table) == {str(c) for c in allowed} and int(param["Default"]) in allowed
    for concurrency in allowed:
        slots = concurrency - 1  # one execution stays free for the route's own sweep
        assert table[str(concurrency)]["Burst"] == slots
        # Little's law: deliveries in flight = rate x duration, never more than the slots.
        assert table[str(concurrency)]["Rate"] * PLANNED_DELIVERY_SECONDS == slots


# ---------------------------------------------------------------- 7. failed sweeps notify every time
def test_given_failed_sweep_alarm_when_read_then_it_counts_new_messages_not_the_undrained_depth(template):
    alarm = template["Resources"]["FailedInvocationsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/SQS", "NumberOfMessagesSent", "Sum")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["TreatMissingData"] == "notBreaching" and alarm["EvaluationPeriods"] == 1


# ---------------------------------------------------------------- 8. logs with retention, access logs
VALID_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                        2922, 3288, 3653}


def test_given_functions_when_transformed_then_each_logs_to_its_own_group_with_retention(template, transformed):
    param = template["Parameters"]["LogRetentionInDays"]
    assert set(param["AllowedValues"]) <= VALID_RETENTION_DAYS and param["Default"] in param["AllowedValues"]
    groups = of_type(transformed, "AWS::Logs::LogGroup")
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    used = []
    for function, fn in of_type(transformed, "AWS::Lambda::Function").items():
        [group] = referenced_names(fn["Properties"]["LoggingConfig"]["LogGroup"])
        assert group in groups, function
        used.append(group)
    assert len(set(used)) == len(FUNCTIONS)


def test_given_the_live_stage_when_transformed_then_it_writes_a_json_access_log_without_headers(transformed):
    [stage] = of_type(transformed, "AWS::ApiGateway::Stage").values()
    setting = stage["Properties"]["AccessLogSetting"]
    [group] = referenced_names(setting["DestinationArn"]) - PSEUDO_PARAMETERS
    assert transformed["Resources"][group]["Type"] == "AWS::Logs::LogGroup"
    assert transformed["Resources"][group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    log_format = setting["Format"]
    json.loads(re.sub(r"\$context\.[A-Za-z.]+", "x", log_format))  # one JSON object per request
    fields = set(re.findall(r"\$context\.([A-Za-z.]+)", log_format))
    assert {"identity.sourceIp", "requestId", "status", "resourcePath"} <= fields
    assert not re.search(r"header|signature|\$input|\$method\.request", log_format, re.IGNORECASE)


def test_given_api_gateway_logging_role_when_created_then_kept_and_the_api_waits_for_it(template):
    param = template["Parameters"]["ApiGatewayCloudWatchRole"]
    assert param["Default"] == "create" and set(param["AllowedValues"]) == {"create", "existing"}
    resources = template["Resources"]
    [(account_id, account)] = of_type(template, "AWS::ApiGateway::Account").items()
    assert account["Condition"] == "CreatesApiGatewayCloudWatchRole"
    [role_id] = referenced_names(account["Properties"]["CloudWatchRoleArn"])
    role = resources[role_id]
    assert role["Condition"] == "CreatesApiGatewayCloudWatchRole"
    assert "AmazonAPIGatewayPushToCloudWatchLogs" in json.dumps(role["Properties"]["ManagedPolicyArns"])
    for resource in (account, role):  # other APIs of the account may log through them
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    # The stage must not be created before the account setting; DependsOn cannot name a
    # conditional resource, so the API depends on an unconditional handle that refers to it.
    depends_on = resources["WebhookApi"]["DependsOn"]
    handles = [depends_on] if isinstance(depends_on, str) else depends_on
    assert any("Condition" not in resources[h] and account_id in referenced_names(resources[h].get("Metadata"))
               for h in handles)


# ---------------------------------------------------------------- 9. no deploy without real values
REQUIRED_PARAMETERS = {"WaveBusinessId", "WebshopApiUrl"}
A_BUSINESS_ID = "QnVzaW5lc3M6" + "MTIzNGFiY2QtMTIzNC00MTIzLTgxMjMtMTIzNDU2Nzg5MGFi"  # base64 "Business:<uuid>"


def allowed(spec: dict, value: str) -> bool:
    """CloudFormation's check of a String parameter (AllowedPattern must match the whole value)."""
    if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
        return False
    return "AllowedPattern" not in spec or re.fullmatch(spec["AllowedPattern"], value) is not None


def test_given_parameters_when_read_then_the_merchants_values_are_required_and_checked(template):
    params = template["Parameters"]
    assert {name for name, spec in params.items() if "Default" not in spec} == REQUIRED_PARAMETERS
    business = params["WaveBusinessId"]
    assert allowed(business, A_BUSINESS_ID)
    for bad in ("REPLACE-WITH-WAVE-BUSINESS-ID", "", "biz", "QnVzaW5lc3M6", " " + A_BUSINESS_ID,
                "Q3VzdG9tZXI6MTIzNGFiY2QtMTIzNC00MTIzLTgxMjMtMTIzNDU2Nzg5MGFi"):  # the last: a Customer id
        assert not allowed(business, bad), bad
    for name in ("WebshopApiUrl", "WaveApiUrl"):
        assert allowed(params[name], "https://shop.example.org/api/v1") and allowed(params[name], "https://x.io")
        for bad in ("", "http://shop.example.org/api/v1", "shop.example.org", "https://", "https://a b/c"):
            assert not allowed(params[name], bad), (name, bad)
    for name in SECRET_PARAMS:
        assert allowed(params[name], "/prod/shop-1/wave_token.v2")
        for bad in ("", "wave-token", "/", "/a b", "/a//b", "/a/"):
            assert not allowed(params[name], bad), (name, bad)
    for name, spec in params.items():
        if "Default" in spec:
            assert allowed(spec, str(spec["Default"])), name


def test_given_samconfig_when_parsed_then_it_holds_no_placeholder_to_deploy_with(template):
    deploy = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]["deploy"]["parameters"]
    overrides = dict(item.split("=", 1) for item in shlex.split(deploy.get("parameter_overrides", "")))
    assert not re.search(r"REPLACE|placeholder|example\.(com|org|net)|changeme", json.dumps(overrides), re.IGNORECASE)
    for name, value in overrides.items():  # values saved by `sam deploy --guided` must be real ones
        assert allowed(template["Parameters"][name], value), name


def test_given_readme_deploy_section_when_read_then_it_names_what_a_first_deploy_asks_for(template):
    section = (ROOT / "README.md").read_text().split("\n## Deploy", 1)[1].split("\n## ", 1)[0]
    assert "sam deploy --guided" in section
    for name in sorted(REQUIRED_PARAMETERS) + ["ApiGatewayCloudWatchRole", "ReserveConcurrency"]:
        assert name in section, name


# ---------------------------------------------------------------- 12. the layer and its permissions
LAYER_DIR = ROOT / "layers/shopwave"
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six"}
DYNAMODB_ACTIONS = {  # what the layer really calls, and where
    "dynamodb:GetItem": "StateItem.get (watermarks, parked records); Powertools idempotency's get_item",
    "dynamodb:PutItem": "Model.save and TransactWrite puts (claims, links, watermarks, parked, conflicts)",
    "dynamodb:UpdateItem": "Powertools idempotency's update_item",
    "dynamodb:DeleteItem": "Model.delete and TransactWrite deletes (claims released, replaced link keys)",
    "dynamodb:Query": "StateItem.query (parked records, conflicts)",
    "dynamodb:BatchGetItem": "LinkItem.batch_get (a page's links)",
}


def test_given_the_layers_dynamodb_calls_when_roles_read_then_they_grant_those_actions_and_no_more(transformed):
    source = "\n".join(path.read_text() for path in (LAYER_DIR / "shopwave").rglob("*.py"))
    assert not re.search(r"batch_write|BatchWriteItem|condition_check|ConditionCheck|transact_get|TransactGet", source)
    for function in FUNCTIONS:
        granted = {a for s in role_statements(transformed, function) for a in actions(s) if a.startswith("dynamodb:")}
        assert granted == set(DYNAMODB_ACTIONS), function


def read_lock() -> dict[str, str]:
    entries = {}
    for line in (LAYER_DIR / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            match = re.fullmatch(r"([a-z0-9-]+)==(\S+) --hash=sha256:[0-9a-f]{64}", line)
            assert match, f"not an exact pin with a hash: {line!r}"
            entries[match[1]] = match[2]
    return entries


def makefile_recipe(target: str) -> list[str]:
    lines = (LAYER_DIR / "Makefile").read_text().split(f"\n{target}:", 1)[1].splitlines()[1:]
    recipe = []
    for line in lines:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_given_the_layer_lock_when_read_then_every_runtime_dependency_is_pinned_exactly_with_a_hash():
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lock = read_lock()
    assert not RUNTIME_PROVIDED & set(lock)
    for requirement in map(Requirement, tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]):
        name = canonicalize_name(requirement.name)
        if name not in RUNTIME_PROVIDED:
            assert name in lock and requirement.specifier.contains(lock[name], prereleases=True), requirement
    makefile = (LAYER_DIR / "Makefile").read_text()
    assert set(re.search(r"^RUNTIME_PROVIDED = (.*)$", makefile, re.MULTILINE)[1].split()) == RUNTIME_PROVIDED
    install = " ".join(makefile_recipe("build-SyncLayer"))
    assert "-r requirements.lock" in install and "--require-hashes" in install and "--no-deps" in install
    assert not (LAYER_DIR / "requirements.txt").exists()  # one list of what the layer ships


def test_given_the_layer_recipe_when_read_then_bytecode_is_cleaned_after_the_copy_and_compiled_by_python312_last():
    recipe = makefile_recipe("build-SyncLayer")
    copy_at = next(i for i, line in enumerate(recipe) if line.startswith("cp -R shopwave"))
    clean_at = next(i for i, line in enumerate(recipe) if "__pycache__" in line and "rm -rf" in line)
    compile_at = next(i for i, line in enumerate(recipe) if "-m compileall" in line)
    assert copy_at < clean_at < compile_at == len(recipe) - 1
    assert recipe[compile_at].startswith("$(PYTHON312) ") and "--invalidation-mode unchecked-hash" in recipe[compile_at]


def python312() -> str | None:
    candidates = [sys.executable, shutil.which("python3.12"),
                  *map(str, sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"), reverse=True))]
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 12))"],
                                        capture_output=True).returncode == 0:
            return candidate
    return None


@pytest.fixture(scope="module")
def built_layer(tmp_path_factory) -> Path:
    """`make build-SyncLayer` as sam build runs it: on a copy of the folder, stale bytecode included."""
    interpreter = python312()
    if interpreter is None:
        pytest.skip("no Python 3.12 on this machine to compile the layer with")
    source = tmp_path_factory.mktemp("layer-source") / "shopwave"
    shutil.copytree(LAYER_DIR, source)
    stale = source / "shopwave" / "__pycache__"
    stale.mkdir(exist_ok=True)
    for name in ("lambda_entry.cpython-311.pyc", "lambda_entry.cpython-312.pyc", "gone.cpython-312.pyc"):
        (stale / name).write_bytes(b"a developer's bytecode")
    (source / "shopwave" / "stray.pyc").write_bytes(b"a developer's bytecode")
    artifacts = tmp_path_factory.mktemp("layer-artifacts")
    done = subprocess.run(["make", "-s", "-C", str(source), "build-SyncLayer", f"ARTIFACTS_DIR={artifacts}",
                           f"PYTHON={sys.executable}", f"PYTHON312={interpreter}"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return artifacts / "python"


def test_given_the_built_layer_when_its_bytecode_is_read_then_it_is_python312_unchecked_hash_and_ours(built_layer):
    magic = subprocess.run([python312(), "-c", "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
                           capture_output=True, text=True, check=True).stdout
    sources = {path.relative_to(built_layer) for path in built_layer.rglob("*.py")}
    compiled = {path.relative_to(built_layer) for path in built_layer.rglob("*.pyc")}
    expected = {source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc" for source in sources}
    assert compiled == expected  # one per module, nothing from a developer's tree
    for pyc in compiled:
        header = (built_layer / pyc).read_bytes()[:16]
        assert header[:4].hex() == magic, pyc
        assert int.from_bytes(header[4:8], "little") == 0b01, pyc  # hash-based, never checked against the source


def test_given_the_built_layer_when_listed_then_it_ships_the_lock_and_shopwave_and_nothing_the_runtime_has(built_layer):
    from packaging.utils import canonicalize_name

    shipped = {}
    for info in built_layer.glob("*.dist-info"):
        name, version = info.name[:-len(".dist-info")].rsplit("-", 1)
        shipped[canonicalize_name(name)] = version
    assert shipped == read_lock()
    assert not any((built_layer / name).exists() for name in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py"))
    assert not (built_layer / "bin").exists()  # console scripts name the build machine's interpreter
    ours = {p.relative_to(LAYER_DIR / "shopwave") for p in (LAYER_DIR / "shopwave").rglob("*.py")}
    assert {p.relative_to(built_layer / "shopwave") for p in (built_layer / "shopwave").rglob("*.py")} == ours


# ---------------------------------------------------------------- the operator dashboard
def add_metric_calls() -> dict[str, int]:
    """Where the layer publishes metrics: add_metric/single_metric calls by module."""
    calls: dict[str, int] = {}
    for path in (LAYER_DIR / "shopwave").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
                    "add_metric", "single_metric"):
                calls[path.name] = calls.get(path.name, 0) + 1
    return calls


DASHBOARD_FIGURES = {  # what an operator looks at first, per flow and over time: the report fields behind it
    "records synced": {"report.created", "report.updated", "report.adopted", "report.deleted"},
    "parked": {"report.parked"},
    "conflicts": {"report.conflicts"},
    "Wave 429s": {"report.wave_throttled"},
    "Wave latency": {"report.wave_seconds", "report.wave_calls"},
}


def test_given_the_dashboard_when_read_then_logs_insights_charts_each_flows_figures_and_metrics_only_what_exists(template):
    from shopwave.engine import Report
    from shopwave.flows import FLOWS
    from shopwave.observability import ALARM_METRICS

    resources = template["Resources"]
    text = resources["OperatorDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    for reference in re.findall(r"\$\{([^}]+)\}", text):
        assert reference in PSEUDO_PARAMETERS or reference.split(".")[0] in resources, reference
    body = json.loads(re.sub(r"\$\{([^}]+)\}", r"\1", text))
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    namespace, service = env["POWERTOOLS_METRICS_NAMESPACE"], env["POWERTOOLS_SERVICE_NAME"]
    function_groups = {fn: referenced_names(resources[fn]["Properties"]["LoggingConfig"]["LogGroup"]).pop()
                       for fn in FUNCTIONS}
    report_fields = {f"report.{name}" for name in Report("x").as_dict()}

    by_flow: set[str] = set()  # figures charted per flow
    over_time: set[str] = set()  # figures charted per 5 minutes
    charted: dict[str, set[str]] = {}
    for widget in body["widgets"]:
        props = widget["properties"]
        if widget["type"] == "log":
            sources = re.findall(r"SOURCE '([^']+)'", props["query"])
            assert sorted(sources) == sorted(function_groups.values()), props["title"]  # all six, and only them
            used = set(re.findall(r"\breport\.\w+", props["query"]))
            assert used <= report_fields, used - report_fields
            if "filter message = 'flow run finished'" not in props["query"]:
                continue
            grouped = re.search(r"\bby (.+?)(?: \||$)", props["query"]).group(1)
            for figure, fields in DASHBOARD_FIGURES.items():
                if fields <= used:
                    (by_flow if "flow" in grouped else over_time if "bin(5m)" in grouped else set()).add(figure)
            assert props["view"] == "timeSeries" if grouped == "bin(5m)" else props["view"] in ("table", "bar"), props
            continue
        for metric in props.get("metrics", []):
            options = metric[-1] if isinstance(metric[-1], dict) else {}
            fields = metric[:-1] if options else metric
            name, dimensions = fields[1], dict(zip(fields[2::2], fields[3::2]))
            if fields[0] == namespace:
                assert name in ALARM_METRICS and dimensions == {"service": service}, metric
            charted.setdefault(fields[0], set()).add(name)
            if fields[0] == "AWS/Lambda":
                charted.setdefault(f"AWS/Lambda {name}", set()).add(dimensions["FunctionName"])
    assert {folder for folder, _, _ in FLOW_FUNCTIONS.values()} == set(FLOWS)
    assert by_flow == over_time == set(DASHBOARD_FIGURES)
    assert charted[namespace] == set(ALARM_METRICS)
    assert charted["AWS/Lambda Duration"] == set(FUNCTIONS)
    assert {"Count", "4XXError", "5XXError"} <= charted["AWS/ApiGateway"]
    # and the layer publishes no other metric than through observability.count
    assert add_metric_calls() == {"observability.py": 1}
