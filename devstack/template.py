"""Read template.yaml once, for the local stack and for the tests, so local and deployed agree.

Everything the local stack knows about tables, functions, routes, schedules and environment
comes from here; nothing is repeated by hand elsewhere.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
DEFAULT_TABLE_PREFIX = "shopwave-local-"
LOCAL_PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "shopwave-local",
}


def load_template(path: str | Path = TEMPLATE_PATH) -> dict:
    """The template as plain dicts; short tags become {"Ref": ...}, {"Fn::GetAtt": [...]}..."""
    return yaml_parse(Path(path).read_text(encoding="utf-8"))


def resources_of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {logical_id: resource for logical_id, resource in template.get("Resources", {}).items()
            if resource.get("Type") == resource_type}


def parameter_values(template: dict, overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """Parameter defaults, then overrides; a parameter with neither resolves to ""."""
    values = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    values.update({name: str(value) for name, value in (overrides or {}).items()})
    return values


# ------------------------------------------------------------------------------------ tables
def _global_env(template: dict) -> dict[str, Any]:
    return template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})


def _env_var_referencing(template: dict, logical_id: str) -> str | None:
    """The environment variable whose value is !Ref logical_id (Globals first, then functions)."""
    candidates = [_global_env(template)] + [
        fn.get("Properties", {}).get("Environment", {}).get("Variables", {})
        for fn in resources_of_type(template, "AWS::Serverless::Function").values()]
    for variables in candidates:
        for name, value in variables.items():
            if value == {"Ref": logical_id}:
                return name
    return None


def dynamodb_table_specs(template: dict, prefix: str = "") -> list[dict]:
    """One entry per AWS::DynamoDB::Table, with boto3 create_table kwargs (TableName=prefix+id)."""
    specs = []
    for logical_id, resource in resources_of_type(template, "AWS::DynamoDB::Table").items():
        props = resource.get("Properties", {})
        kwargs: dict[str, Any] = {
            "TableName": prefix + logical_id,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for optional in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
            if optional in props:
                kwargs[optional] = props[optional]
        ttl = props.get("TimeToLiveSpecification") or {}
        specs.append({
            "logical_id": logical_id,
            "env_var": _env_var_referencing(template, logical_id),
            "create_table_kwargs": kwargs,
            "ttl_attribute": ttl.get("AttributeName") if ttl.get("Enabled", True) else None,
        })
    return specs


def create_tables(dynamodb_client, template: dict, prefix: str = DEFAULT_TABLE_PREFIX) -> dict[str, str]:
    """Create every table (tables that already exist are kept) and enable TTL.

    Returns {env var: table name}, e.g. {"LINKS_TABLE": "shopwave-local-LinksTable"}; a table no
    environment variable refers to is keyed by its logical id.
    """
    env = {}
    for spec in dynamodb_table_specs(template, prefix):
        name = spec["create_table_kwargs"]["TableName"]
        try:
            dynamodb_client.create_table(**spec["create_table_kwargs"])
        except dynamodb_client.exceptions.ResourceInUseException:
            pass
        dynamodb_client.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        if spec["ttl_attribute"]:
            ttl = dynamodb_client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                dynamodb_client.update_time_to_live(TableName=name, TimeToLiveSpecification={
                    "AttributeName": spec["ttl_attribute"], "Enabled": True})
        env[spec["env_var"] or spec["logical_id"]] = name
    return env


# --------------------------------------------------------------------------------- functions
@dataclass
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str                                   # "app.lambda_handler"
    routes: list[tuple[str, str]] = field(default_factory=list)     # [("POST", "/webhooks/customers")]
    schedules: list[str] = field(default_factory=list)              # ["rate(5 minutes)"]
    schedule_rules: list[str] = field(default_factory=list)         # rule names, same order
    schedule_inputs: list[str | None] = field(default_factory=list)  # each rule's Input (the event sent), same order
    env: dict[str, str] = field(default_factory=dict)
    timeout: int = 3
    memory_size: int = 128


def resolve(value: Any, names: dict[str, str]) -> str:
    """A template value as the string Lambda would see (Ref and Sub over `names` only)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, dict) and set(value) == {"Ref"}:
        if value["Ref"] not in names:
            raise ValueError(f"cannot resolve !Ref {value['Ref']} locally")
        return names[value["Ref"]]
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        def substitute(match: re.Match) -> str:
            return resolve({"Ref": match.group(1)}, names)
        return re.sub(r"\$\{([^}!]+)\}", substitute, value["Fn::Sub"])
    raise ValueError(f"cannot resolve {value!r} locally")


def _merged_properties(template: dict, props: dict) -> dict:
    """Function properties over Globals.Function (Environment.Variables merged key by key)."""
    merged = {**template.get("Globals", {}).get("Function", {}), **props}
    variables = {**_global_env(template),
                 **props.get("Environment", {}).get("Variables", {})}
    merged["Environment"] = {"Variables": variables}
    return merged


def _referenced_names(node: Any) -> set[str]:
    """Logical ids a value refers to: Ref, Fn::GetAtt, and ${Name} / ${Name.Attr} inside Fn::Sub."""
    if isinstance(node, list):
        return set().union(*map(_referenced_names, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found: set[str] = set()
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
        elif key == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
            found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)} - set(variables)
            found |= _referenced_names(variables)
        else:
            found |= _referenced_names(value)
    return found


def api_definition_routes(template: dict) -> dict[str, list[tuple[str, str]]]:
    """Routes declared in an API's DefinitionBody (OpenAPI), by the function their Lambda proxy
    integration invokes: {logical id: [("POST", "/webhooks/customers")]}."""
    function_ids = set(resources_of_type(template, "AWS::Serverless::Function"))
    routes: dict[str, list[tuple[str, str]]] = {}
    for api in resources_of_type(template, "AWS::Serverless::Api").values():
        body = api.get("Properties", {}).get("DefinitionBody") or {}
        for path, operations in (body.get("paths") or {}).items():
            for method, operation in (operations or {}).items():
                integration = operation.get("x-amazon-apigateway-integration") if isinstance(operation, dict) else None
                if not integration or integration.get("type") != "aws_proxy":
                    continue
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                for logical_id in sorted(_referenced_names(integration.get("uri")) & function_ids):
                    routes.setdefault(logical_id, []).append((verb, path))
    return routes


def functions(template: dict, parameter_overrides: dict[str, Any] | None = None,
              table_prefix: str = DEFAULT_TABLE_PREFIX, base_dir: str | Path = ROOT) -> list[FunctionSpec]:
    """Every AWS::Serverless::Function with routes (its `Api` events and the API DefinitionBody
    paths that invoke it), schedules and a resolved environment.

    !Ref to a parameter gives its default (or override); !Ref to a table gives the local table
    name `table_prefix + logical id`, the same name create_tables uses.
    """
    names = {**LOCAL_PSEUDO_PARAMETERS, **parameter_values(template, parameter_overrides)}
    names.update({logical_id: table_prefix + logical_id
                  for logical_id in resources_of_type(template, "AWS::DynamoDB::Table")})
    definition_routes = api_definition_routes(template)
    specs = []
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        props = _merged_properties(template, resource.get("Properties", {}))
        spec = FunctionSpec(
            logical_id=logical_id,
            code_dir=Path(base_dir) / props["CodeUri"],
            handler=props["Handler"],
            env={key: resolve(value, names) for key, value in props["Environment"]["Variables"].items()},
            timeout=int(props.get("Timeout", 3)),
            memory_size=int(props.get("MemorySize", 128)),
            routes=list(definition_routes.get(logical_id, [])),
        )
        for event_name, event in props.get("Events", {}).items():
            event_props = event.get("Properties", {})
            if event.get("Type") in ("Api", "HttpApi"):
                spec.routes.append((str(event_props.get("Method", "ANY")).upper(), event_props["Path"]))
            elif event.get("Type") in ("Schedule", "ScheduleV2"):
                expression = event_props.get("Schedule", event_props.get("ScheduleExpression"))
                spec.schedules.append(resolve(expression, names))
                spec.schedule_rules.append(logical_id + event_name)
                spec.schedule_inputs.append(event_props.get("Input"))
        specs.append(spec)
    return specs


_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def parse_rate(expression: str) -> int:
    """Seconds between runs of an EventBridge rate expression; cron(...) is not supported."""
    match = _RATE.match(expression.strip())
    if not match:
        raise ValueError(f"not a rate expression: {expression!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]
