"""template.yaml: lints clean, transforms offline, and says what the rest of the project expects."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import tomllib

import boto3
import pytest
from cfnlint.api import lint_file
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from devstack.gateway import sign
from devstack.template import ROOT, functions, load_template

TEMPLATE = ROOT / "template.yaml"
# One function per flow: (code folder, schedule parameter, webhook route or None).
FLOW_FUNCTIONS = {
    "CustomerToWaveFunction": ("customer_to_wave", "CustomerSyncSchedule", "/webhooks/customers"),
    "CustomerToWebshopFunction": ("customer_to_webshop", "CustomerSyncSchedule", None),
    "ProductToWaveFunction": ("product_to_wave", "ProductSyncSchedule", "/webhooks/products"),
    "ProductToWebshopFunction": ("product_to_webshop", "ProductSyncSchedule", None),
    "OrderToWaveFunction": ("order_to_wave", "OrderSyncSchedule", "/webhooks/orders"),
    "InvoiceToWebshopFunction": ("invoice_to_webshop", "OrderSyncSchedule", None),
}
FUNCTIONS = tuple(FLOW_FUNCTIONS)
WEBHOOK_FUNCTIONS = tuple(f for f, (_, _, route) in FLOW_FUNCTIONS.items() if route)
TABLES = ("LinksTable", "StateTable", "IdempotencyTable")
SECRET_PARAMS = ("WaveTokenParameterName", "WebshopApiKeyParameterName", "WebhookSecretParameterName")
TEST_SECRET = "whsec_local_test"


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
    assert (ROOT / "layers/shopwave/requirements.txt").is_file()


def test_given_template_when_transformed_then_each_function_has_a_schedule_rule(template, transformed):
    for name in ("CustomerSyncSchedule", "ProductSyncSchedule", "OrderSyncSchedule"):
        assert template["Parameters"][name]["Default"] == "rate(5 minutes)"
    rules = of_type(transformed, "AWS::Events::Rule").values()
    targets = {target["Arn"]["Fn::GetAtt"][0]: rule["Properties"]["ScheduleExpression"]
               for rule in rules for target in rule["Properties"]["Targets"]}
    assert targets == {fn: {"Ref": schedule} for fn, (_, schedule, _) in FLOW_FUNCTIONS.items()}


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
        transformed, function, tables, secrets):
    statements = role_statements(transformed, function)
    dynamo = [s for s in statements if any(a.startswith("dynamodb:") for a in actions(s))]
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in actions(s))]
    assert referenced_names([s["Resource"] for s in dynamo]) == tables
    assert referenced_names([s["Resource"] for s in ssm]) == secrets | {
        "AWS::Partition", "AWS::Region", "AWS::AccountId"}
    for statement in dynamo + ssm:
        assert statement["Effect"] == "Allow"
        assert "*" not in json.dumps(statement["Resource"])
        assert not any(a.endswith(":*") or a in ("dynamodb:Scan", "dynamodb:DeleteTable") for a in actions(statement))
    for statement in ssm:
        assert set(actions(statement)) <= {"ssm:GetParameter", "ssm:GetParameters"}
        for resource in statement["Resource"]:  # names start with "/": no slash after "parameter"
            assert re.fullmatch(r"arn:\$\{AWS::Partition\}:ssm:\$\{AWS::Region\}:\$\{AWS::AccountId\}"
                                r":parameter\$\{\w+ParameterName\}", resource["Fn::Sub"])


@pytest.mark.parametrize("function", [fn for fn in FUNCTIONS if fn not in WEBHOOK_FUNCTIONS])
def test_given_a_sweep_only_function_when_its_role_is_read_then_it_cannot_read_the_webhook_secret(transformed, function):
    assert "WebhookSecretParameterName" not in json.dumps(role_statements(transformed, function))
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
    for resource in ("Customer", "Product", "Order"):
        assert outputs[f"{resource}WebhookUrl"]["Value"]["Fn::Sub"].endswith(f"/webhooks/{resource.lower()}s")
    assert {outputs[f"{t}Name"]["Value"]["Ref"] for t in TABLES} == set(TABLES)


def test_given_samconfig_when_parsed_then_default_profile_deploys_shopwave():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert config["version"] == 0.1
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["stack_name"] == "shopwave" and deploy["resolve_s3"] is True
    assert deploy["capabilities"] == "CAPABILITY_IAM" and deploy["region"] == "us-east-1"
    assert deploy["confirm_changeset"] is True
    assert "WaveBusinessId=" in deploy["parameter_overrides"] and "WebshopApiUrl=" in deploy["parameter_overrides"]
    assert config["default"]["build"]["parameters"] == {"cached": True, "parallel": True}
    assert config["default"]["validate"]["parameters"]["lint"] is True


# ------------------------------------------------------------------------------- local reading
def test_given_real_template_when_devstack_reads_functions_then_routes_schedules_env_match(template):
    specs = {spec.logical_id: spec for spec in functions(template, {"WaveBusinessId": "biz"})}
    assert set(specs) == set(FUNCTIONS)
    for function, (folder, _, route) in FLOW_FUNCTIONS.items():
        assert specs[function].routes == ([("POST", route)] if route else [])
        assert specs[function].schedules == ["rate(5 minutes)"]
        assert specs[function].code_dir == ROOT / "functions" / folder
    wave = specs["CustomerToWaveFunction"]
    assert wave.code_dir == ROOT / "functions/customer_to_wave"
    assert wave.env["LINKS_TABLE"] == "shopwave-local-LinksTable"
    assert wave.env["WAVE_BUSINESS_ID"] == "biz"
    assert wave.env["WEBHOOK_SECRET_PARAM"] == "/shopwave/webhook-secret"
    assert wave.env["POWERTOOLS_LOG_LEVEL"] == "INFO" and wave.env["LOG_LEVEL"] == "INFO"
    assert (wave.timeout, wave.memory_size) == (120, 512)


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


def test_given_template_when_read_then_sweep_only_functions_never_run_twice_at_once(template):
    for function in FUNCTIONS:
        reserved = template["Resources"][function]["Properties"]["ReservedConcurrentExecutions"]
        assert reserved == (1 if function not in WEBHOOK_FUNCTIONS else {"Ref": "WebhookConcurrency"})
