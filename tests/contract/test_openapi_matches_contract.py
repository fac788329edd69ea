"""docs/webshop-openapi.yaml describes exactly docs/CONTRACT.md: every field, nested field, enum,
event field and the error shape, in both directions, so neither can drift from the other."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "CONTRACT.md"
SHARED_CONTRACT = ROOT.parent / "shared" / "customwebshop" / "CONTRACT.md"
OPENAPI = ROOT / "docs" / "webshop-openapi.yaml"

# resource -> (request body schema, answer schema, CONTRACT.md heading)
RESOURCES = {
    "customers": ("CustomerFields", "Customer", "Customer"),
    "products": ("ProductFields", "Product", "Product"),
    "orders": ("OrderFields", "Order", "Order"),
}


# -- CONTRACT.md ------------------------------------------------------------------------------

def contract_text():
    return CONTRACT.read_text(encoding="utf-8")


def section(text, heading):
    """The text under a markdown heading, up to the next heading."""
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#+ |\Z)", text, re.S | re.M)
    assert match, f"CONTRACT.md has no section {heading!r}"
    return match.group(1)


def parse_fields(spec):
    """'a, b {x, y}, c [{z}]' -> {"a": None, "b": {"x": None, "y": None}, "c": {"z": None}}."""
    fields, position = {}, 0

    def parse(pos, closer):
        out = {}
        while pos < len(spec):
            match = re.compile(r"\s*,?\s*(\w+)\s*").match(spec, pos)
            if match is None:
                break
            name, pos = match.group(1), match.end()
            nested = None
            if spec.startswith("[{", pos):
                nested, pos = parse(pos + 2, "}]")
            elif spec.startswith("{", pos):
                nested, pos = parse(pos + 1, "}")
            out[name] = nested
            rest = re.compile(r"\s*").match(spec, pos).end()
            if closer and spec.startswith(closer, rest):
                return out, rest + len(closer)
            pos = rest
        assert not closer, f"unbalanced {closer!r} in {spec!r}"
        return out, pos

    fields, position = parse(0, None)
    return fields


def contract_fields(heading):
    """A resource's fields as CONTRACT.md lists them (its first sentence), with the fields
    every record carries."""
    body = re.sub(r"\([^()]*\)", "", section(contract_text(), heading))
    listing = body.split(".\n")[0]
    tokens = re.findall(r"`([^`]+)`", listing)
    fields = parse_fields(", ".join(tokens))
    return {**fields, **record_fields()}


def record_fields():
    sentence = re.search(r"Every record carries (.*?)\.\n", contract_text(), re.S).group(1)
    return {name: None for name in re.findall(r"`(\w+)`", re.sub(r"\([^()]*\)", "", sentence))}


def contract_enums(heading):
    """`field` (`a`, `b`, ...) lists in a resource's section -> {field: [a, b, ...]}."""
    return {field: re.findall(r"`(\w+)`", values) for field, values in
            re.findall(r"`(\w+)` \(((?:`\w+`,?\s*)+)\)", section(contract_text(), heading))}


# -- the OpenAPI document -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def object_parts(spec, schema):
    """The object schemas a schema is made of (itself, its allOf parts, its array items)."""
    schema = resolve(spec, schema)
    if schema.get("type") == "array":
        return object_parts(spec, schema["items"])
    parts = [schema] if "properties" in schema else []
    for part in schema.get("allOf", []):
        parts += object_parts(spec, part)
    return parts


def tree(spec, schema):
    """A schema's fields as the same nested {name: None | {...}} shape parse_fields gives."""
    out = {}
    for part in object_parts(spec, schema):
        for name, field in part["properties"].items():
            out[name] = tree(spec, field) if object_parts(spec, field) else None
    return out


def closed_everywhere(spec, schema, where):
    """Every object in the schema refuses fields it does not name."""
    problems = []
    for part in object_parts(spec, schema):
        if part.get("additionalProperties") is not False:
            problems.append(where)
        for name, field in part["properties"].items():
            problems += closed_everywhere(spec, field, f"{where}.{name}")
    return problems


def read_only(spec, schema):
    return {name for part in object_parts(spec, schema) for name, field in part["properties"].items()
            if field.get("readOnly")}


def body_schema(spec, path, method):
    return spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def answer_schema(spec, path, method, status):
    response = spec["paths"][path][method]["responses"][status]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response["content"]["application/json"]["schema"]


# -- the comparison ----------------------------------------------------------------------------

@pytest.mark.parametrize("resource", list(RESOURCES))
def test_given_contract_and_openapi_when_compared_then_each_answer_has_exactly_the_contract_fields(spec, resource):
    _, answer, heading = RESOURCES[resource]
    assert tree(spec, {"$ref": f"#/components/schemas/{answer}"}) == contract_fields(heading)
    for path, method, status in ((f"/{resource}/{{id}}", "get", "200"), (f"/{resource}/{{id}}", "patch", "200"),
                                 (f"/{resource}/{{id}}", "delete", "200"), (f"/{resource}", "post", "201")):
        assert answer_schema(spec, path, method, status) == {"$ref": f"#/components/schemas/{answer}"}, path
    page = resolve(spec, answer_schema(spec, f"/{resource}", "get", "200"))
    assert set(page["properties"]) == set(page["required"]) == {"data", "next_cursor"}
    assert page["properties"]["data"]["items"] == {"$ref": f"#/components/schemas/{answer}"}


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_given_contract_and_openapi_when_compared_then_each_request_body_has_the_contract_fields_a_client_writes(
        spec, resource):
    fields, answer, heading = RESOURCES[resource]
    answer_schema_ = {"$ref": f"#/components/schemas/{answer}"}
    written = contract_fields(heading)
    for name in read_only(spec, answer_schema_):
        written.pop(name)
    assert tree(spec, {"$ref": f"#/components/schemas/{fields}"}) == written
    assert set(read_only(spec, answer_schema_)) - set(record_fields()) == (
        {"discount_total", "subtotal", "tax_total", "total"} if resource == "orders" else set())
    for method in ("post", "patch"):
        assert tree(spec, body_schema(spec, f"/{resource}" + ("/{id}" if method == "patch" else ""), method)) == written


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_given_openapi_when_read_then_every_body_and_answer_refuses_fields_it_does_not_name(spec, resource):
    fields, answer, _ = RESOURCES[resource]
    assert closed_everywhere(spec, {"$ref": f"#/components/schemas/{fields}"}, fields) == []
    assert closed_everywhere(spec, {"$ref": f"#/components/schemas/{answer}"}, answer) == []


def test_given_contract_and_openapi_when_compared_then_order_enums_match(spec):
    enums = contract_enums("Order")
    assert set(enums) == {"status", "payment_status"}
    for schema in ("OrderFields", "Order"):
        properties = resolve(spec, {"$ref": f"#/components/schemas/{schema}"})["properties"]
        assert {name: properties[name]["enum"] for name in enums} == enums, schema


def test_given_the_order_discount_the_sync_once_wrote_when_openapi_is_read_then_no_schema_has_it(spec):
    assert "order_discount" not in json.dumps(spec["components"]["schemas"])
    assert "order_discount" not in json.dumps(spec["paths"])


def test_given_contract_and_openapi_when_compared_then_money_and_quantities_are_never_json_numbers(spec):
    numbers = []

    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") in ("number", "integer") and not where.endswith(("version", "Limit.schema")):
                numbers.append(where)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
    walk(spec["components"]["schemas"], "schemas")
    walk(spec["components"]["parameters"], "parameters")
    assert numbers == []


def test_given_contract_and_openapi_when_compared_then_webhook_event_fields_and_types_match(spec):
    webhooks = section(contract_text(), "Webhooks (webshop to sync)")
    example = re.search(r"```\n(.*?)```", webhooks, re.S).group(1)
    event = {key: None for key in re.findall(r'"(\w+)":', example.split('"data"')[0])}
    event["data"] = {key: None for key in re.findall(r'"(\w+)":', example.split('"data"')[1])}
    assert tree(spec, {"$ref": "#/components/schemas/WebhookEvent"}) == event
    nouns = re.findall(r"\b(\w+)\.created", example) + re.findall(r"\b(\w+)\.\*", example)
    actions = re.findall(r"customer\.(\w+)", example)
    assert sorted(resolve(spec, {"$ref": "#/components/schemas/WebhookEvent"})["properties"]["type"]["enum"]) == \
        sorted(f"{noun}.{action}" for noun in nouns for action in actions)
    signature = re.search(r"Header `Webshop-Signature: ([^`]+)`", webhooks).group(1)
    assert signature in spec["components"]["parameters"]["WebshopSignature"]["description"]


def test_given_contract_and_openapi_when_compared_then_the_error_shape_and_statuses_match(spec):
    transport = section(contract_text(), "Transport")
    shape = re.search(r"Errors: `([^`]+)`", transport).group(1)
    assert tree(spec, {"$ref": "#/components/schemas/Error"}) == {
        "error": {key: None for key in re.findall(r'"(\w+)":', shape.split('"error":')[1])}}
    statuses = set(re.findall(r"\b([1-5](?:\d\d|xx))\b", transport.split("Errors:")[1]))
    contract_statuses = {s.upper() if s.endswith("xx") else s for s in statuses}
    answered = {status for item in spec["paths"].values() for operation in item.values()
                if isinstance(operation, dict) and "responses" in operation for status in operation["responses"]}
    # 415 is the one status the document adds (optional server behaviour the sync never relies on)
    assert answered - {"200", "201"} == contract_statuses | {"415"}


def test_given_contract_and_openapi_when_compared_then_every_resource_has_the_contract_operations(spec):
    for resource in RESOURCES:
        assert set(spec["paths"][f"/{resource}"]) == {"get", "post"}
        assert set(spec["paths"][f"/{resource}/{{id}}"]) - {"parameters"} == {"get", "patch", "delete"}
    assert set(spec["paths"]) == {f"/{r}" for r in RESOURCES} | {f"/{r}/{{id}}" for r in RESOURCES}
    parameters = {p["$ref"].rsplit("/", 1)[1] for p in spec["paths"]["/customers"]["get"]["parameters"]}
    assert {spec["components"]["parameters"][p]["name"] for p in parameters} == {"updated_after", "limit", "cursor"}


def test_given_the_shared_contract_when_present_then_the_project_copy_is_identical():
    if not SHARED_CONTRACT.exists():
        pytest.skip("../shared/customwebshop/CONTRACT.md is not beside this clone")
    assert CONTRACT.read_text(encoding="utf-8") == SHARED_CONTRACT.read_text(encoding="utf-8")


def test_given_the_sandbox_when_its_field_lists_are_compared_with_the_document_then_it_accepts_exactly_its_fields(
        spec):
    from devstack.webshop_sandbox import schemas as sandbox

    for resource, (fields, _, _) in RESOURCES.items():
        body = tree(spec, {"$ref": f"#/components/schemas/{fields}"})
        assert set(sandbox.WRITABLE[resource]) == set(body), resource
    order_body = tree(spec, {"$ref": "#/components/schemas/OrderFields"})
    customer_body = tree(spec, {"$ref": "#/components/schemas/CustomerFields"})
    assert set(sandbox.LINE_FIELDS) == set(order_body["lines"])
    assert set(sandbox.ADDRESS_FIELDS) == set(customer_body["billing_address"])
    assert set(sandbox.SHIPPING_FIELDS) == set(customer_body["shipping"])
    assert set(sandbox.ORDER_COMPUTED) == read_only(spec, {"$ref": "#/components/schemas/Order"}) - set(record_fields())
    assert set(sandbox.META_FIELDS) == set(record_fields())
    assert not set(sandbox.MERCHANT_ONLY["orders"]) & set(contract_fields("Order"))


def test_given_the_document_when_validated_against_the_openapi_3_0_schema_then_it_is_valid(spec):
    import schemathesis

    schemathesis.openapi.from_path(OPENAPI).validate()
    # a comma in an unquoted {flow: mapping} value silently turns the rest into keys without values
    nulls = []

    def walk(node, where):
        for key, value in node.items() if isinstance(node, dict) else enumerate(node if isinstance(node, list) else ()):
            if value is None:
                nulls.append(f"{where}.{key}")
            walk(value, f"{where}.{key}")
    walk(spec, "")
    assert nulls == []
