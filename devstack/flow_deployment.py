"""What the deployment must declare for each flow of the registry (shopwave.flows.FLOWS), and the
checks that template.yaml, functions/ and events/ declare exactly that.

    from devstack.flow_deployment import template_disagreements
    template_disagreements(FLOWS, load_template())   # [] when they agree, else one sentence each

Each flow is one Lambda function, named after the flow (`customer_to_wave` ->
`CustomerToWaveFunction`, code in `functions/customer_to_wave/`, whose app.py is the one-line
handler), on a schedule of its own (`CustomerToWaveSchedule`, staggered). A flow that reads
the webshop also takes its webhooks: a `POST /webhooks/<resource>` route in the WebhookApi's
OpenAPI DefinitionBody, a permission for API Gateway to invoke it on that route, an output with
the URL to give the webshop, and an event `events/webhook_<noun>.json`. Each function's role
reaches the links and state tables and the Wave and webshop secrets; a webhook function also the
idempotency table and the webhook secret; nothing more.

The registry and the template are arguments, so a test can check a flow it declares itself
against a template fragment for it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from devstack.template import ROOT, _referenced_names, api_definition_routes, resources_of_type
from shopwave.mapping import SHOP
from shopwave.webhook import event_noun

TABLES = frozenset({"LinksTable", "StateTable"})
WEBHOOK_TABLES = frozenset({"IdempotencyTable"})  # Powertools idempotency: a delivery has one effect
SECRETS = frozenset({"WaveTokenParameterName", "WebshopApiKeyParameterName"})
# the previous webhook secret is reachable only when one is named (a condition; AWS::NoValue otherwise)
WEBHOOK_SECRETS = frozenset({"WebhookSecretParameterName", "WebhookSecretPreviousParameterName"})
PSEUDO_PARAMETERS = frozenset({"AWS::Partition", "AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::URLSuffix"})
WEBHOOK_EVENT_SECRET = "whsec_local_test"  # what the files in events/ are signed with (events/README.md)


RECONCILE_PARAMETER = "ReconcileSchedule"


def reconciling(event: dict) -> bool:
    """A Schedule event whose Input asks for the reconciliation pass (events/reconcile.json)."""
    text = event.get("Properties", {}).get("Input")
    try:
        detail = json.loads(text).get("detail") if isinstance(text, str) else None
    except ValueError:
        return False
    return isinstance(detail, dict) and detail.get("sweep") == "reconcile"


def camel(name: str) -> str:
    """"customer_to_wave" -> "CustomerToWave"."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


@dataclass(frozen=True)
class FlowFunction:
    """One flow's function, as the template must declare it."""
    flow: str  # "customer_to_wave"
    function: str  # "CustomerToWaveFunction"
    code_uri: str  # "functions/customer_to_wave/"
    schedule_parameter: str  # "CustomerToWaveSchedule": one per flow, so the sweeps can be staggered
    webhook_route: str | None  # "/webhooks/customers" for a flow that reads the webshop, else None
    webhook_noun: str | None  # "customer": its events are customer.created/updated/deleted
    tables: frozenset[str]
    secrets: frozenset[str]
    # A flow that reads Wave runs a reconciliation pass on its own schedule (README "Operating it");
    # the webshop's keyset feed is exact (docs/CONTRACT.md), so a flow that reads it needs none.
    reconciles: bool = False

    @property
    def webhook_event_file(self) -> str | None:
        return f"webhook_{self.webhook_noun}.json" if self.webhook_noun else None


def flow_functions(flows: Mapping[str, Any]) -> dict[str, FlowFunction]:
    """Every flow's function, by logical id, in the registry's order."""
    out = {}
    for name, flow in flows.items():
        resource = flow.entity.shop.resource if flow.source == SHOP else None
        function = FlowFunction(
            flow=name,
            function=f"{camel(name)}Function",
            code_uri=f"functions/{name}/",
            schedule_parameter=f"{camel(name)}Schedule",
            webhook_route=f"/webhooks/{resource}" if resource else None,
            webhook_noun=event_noun(resource) if resource else None,
            tables=TABLES | (WEBHOOK_TABLES if resource else frozenset()),
            secrets=SECRETS | (WEBHOOK_SECRETS if resource else frozenset()),
            reconciles=flow.source != SHOP,
        )
        out[function.function] = function
    return out


# ------------------------------------------------------------------------------- template.yaml
def _statements(function: dict) -> list[dict]:
    return [statement for policy in function.get("Properties", {}).get("Policies", []) if isinstance(policy, dict)
            for statement in policy.get("Statement", [])]


def _actions(statement: dict) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def _reached(function: dict, service: str) -> set[str]:
    """Tables / parameters the function's policy statements for `service` ("dynamodb:", "ssm:") name."""
    statements = [s for s in _statements(function) if any(a.startswith(service) for a in _actions(s))]
    return _referenced_names([s.get("Resource") for s in statements]) - PSEUDO_PARAMETERS


def _sub_text(node: Any) -> str:
    value = node.get("Fn::Sub") if isinstance(node, dict) else node
    if isinstance(value, list):
        value = value[0]
    return value if isinstance(value, str) else json.dumps(node)


def _routes(template: dict, logical_id: str, function: dict) -> list[tuple[str, str]]:
    routes = list(api_definition_routes(template).get(logical_id, []))
    for event in function.get("Properties", {}).get("Events", {}).values():
        if event.get("Type") in ("Api", "HttpApi"):
            props = event.get("Properties", {})
            routes.append((str(props.get("Method", "ANY")).upper(), props.get("Path")))
    return routes


def _invoke_permissions(template: dict, logical_id: str) -> list[str]:
    """The SourceArns of API Gateway's permissions to invoke the function."""
    return [_sub_text(p["Properties"].get("SourceArn"))
            for p in resources_of_type(template, "AWS::Lambda::Permission").values()
            if p.get("Properties", {}).get("Principal") == "apigateway.amazonaws.com"
            and logical_id in _referenced_names(p["Properties"].get("FunctionName"))]


def _handler_problem(base_dir: Path, expected: FlowFunction) -> str | None:
    app = base_dir / expected.code_uri / "app.py"
    if not app.is_file():
        return f"{expected.flow}: {expected.code_uri}app.py does not exist"
    if not re.search(r'^lambda_handler = flow_handler\("%s"\)$' % re.escape(expected.flow), app.read_text(), re.MULTILINE):
        return f'{expected.flow}: {expected.code_uri}app.py is not `lambda_handler = flow_handler("{expected.flow}")`'
    return None


def template_disagreements(flows: Mapping[str, Any], template: dict, base_dir: str | Path = ROOT) -> list[str]:
    """Where the template (and the functions' code under `base_dir`) disagrees with the registry:
    functions, code, handlers, schedules, webhook routes and their permissions and outputs, each
    function's tables and secrets, log groups and reserved concurrency. One sentence per finding."""
    expected = flow_functions(flows)
    declared = resources_of_type(template, "AWS::Serverless::Function")
    found = [f"{fn} ({e.flow}) is not in the template" for fn, e in expected.items() if fn not in declared]
    found += [f"{fn} is in the template but no flow in the registry runs it" for fn in declared if fn not in expected]
    parameters = template.get("Parameters", {})
    log_groups: dict[str, str] = {}
    for logical_id, flow_function in expected.items():
        if logical_id not in declared:
            continue
        function, props = declared[logical_id], declared[logical_id].get("Properties", {})
        where = f"{logical_id} ({flow_function.flow})"
        if props.get("CodeUri") != flow_function.code_uri:
            found.append(f"{where}: CodeUri is {props.get('CodeUri')!r}, not {flow_function.code_uri!r}")
        problem = _handler_problem(Path(base_dir), flow_function)
        if problem:
            found.append(problem)
        events = [e for e in props.get("Events", {}).values() if e.get("Type") == "Schedule"]
        schedules = [e.get("Properties", {}).get("Schedule") for e in events if not reconciling(e)]
        passes = [e.get("Properties", {}).get("Schedule") for e in events if reconciling(e)]
        if passes != ([{"Ref": RECONCILE_PARAMETER}] if flow_function.reconciles else []):
            found.append(f"{where}: its reconciliation schedules are {passes}, not "
                         + (f"one on !Ref {RECONCILE_PARAMETER}" if flow_function.reconciles else "none"))
        if schedules != [{"Ref": flow_function.schedule_parameter}]:
            found.append(f"{where}: its schedule is {schedules}, not one Schedule event on !Ref "
                         f"{flow_function.schedule_parameter}")
        if flow_function.schedule_parameter not in parameters:
            found.append(f"{where}: the parameter {flow_function.schedule_parameter} is not declared")
        route = flow_function.webhook_route
        routes = _routes(template, logical_id, function)
        if routes != ([("POST", route)] if route else []):
            found.append(f"{where}: its routes are {routes}, not {[('POST', route)] if route else []}")
        permissions = _invoke_permissions(template, logical_id)
        if route and not (len(permissions) == 1 and permissions[0].endswith(f"/POST{route}")):
            found.append(f"{where}: API Gateway may invoke it {permissions or 'nowhere'}, not on POST {route} only")
        if not route and permissions:
            found.append(f"{where}: takes no webhooks, yet API Gateway may invoke it ({permissions})")
        if route and not any(_sub_text(output.get("Value")).endswith(route) for output in template.get("Outputs", {}).values()):
            found.append(f"{where}: no output gives the webshop the URL of {route}")
        for service, wanted, what in (("dynamodb:", flow_function.tables, "tables"),
                                      ("ssm:", flow_function.secrets, "secrets")):
            reached = _reached(function, service) - PSEUDO_PARAMETERS - {"AWS::NoValue"}
            if reached != wanted:
                found.append(f"{where}: its role reaches the {what} {sorted(reached)}, not {sorted(wanted)}")
        groups = _referenced_names(props.get("LoggingConfig", {}).get("LogGroup"))
        log_group = next(iter(groups)) if len(groups) == 1 else None
        if log_group not in resources_of_type(template, "AWS::Logs::LogGroup"):
            found.append(f"{where}: it logs to no log group of its own")
        elif log_group in log_groups:
            found.append(f"{where}: it shares the log group {log_group} with {log_groups[log_group]}")
        else:
            log_groups[log_group] = logical_id
        reserved = {"Fn::If": ["ReservesConcurrency", {"Ref": "WebhookConcurrency"} if route else 1,
                               {"Ref": "AWS::NoValue"}]}
        if props.get("ReservedConcurrentExecutions") != reserved:
            found.append(f"{where}: ReservedConcurrentExecutions is {props.get('ReservedConcurrentExecutions')}, "
                         f"not {reserved}")
    return found


# ------------------------------------------------------------------------------------- events/
def events_disagreements(flows: Mapping[str, Any], events_dir: str | Path = ROOT / "events") -> list[str]:
    """A signed webhook event per webshop resource some flow reads (`webhook_<noun>.json`, the
    shape API Gateway hands the function, signed with WEBHOOK_EVENT_SECRET), and none for others."""
    from shopwave.webhook import Rejected, parse

    events_dir = Path(events_dir)
    expected = {f.webhook_event_file: f for f in flow_functions(flows).values() if f.webhook_route}
    found = [f"events/{name} is there but no flow takes webhooks for it"
             for name in sorted(p.name for p in events_dir.glob("webhook_*.json")) if name not in expected]
    for name, flow_function in expected.items():
        path = events_dir / name
        if not path.is_file():
            found.append(f"events/{name} ({flow_function.flow}'s webhook event) does not exist")
            continue
        event = json.loads(path.read_text(encoding="utf-8"))
        route = flow_function.webhook_route
        if (event.get("httpMethod"), event.get("path"), event.get("resource")) != ("POST", route, route):
            found.append(f"events/{name}: not a POST to {route}")
        resource = route.rsplit("/", 1)[1]
        signed_at = re.search(r"t=(\d+)", (event.get("headers") or {}).get("Webshop-Signature", ""))
        try:
            parse(APIGatewayProxyEvent(event), WEBHOOK_EVENT_SECRET, resource,
                  now=int(signed_at[1]) if signed_at else None)
        except Rejected as refused:
            found.append(f"events/{name}: {flow_function.flow} would refuse it ({refused.status} {refused.reason})")
    return found
