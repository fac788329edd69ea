"""Webhook and input hardening: hostile deliveries on all three routes, hostile text that must
travel verbatim, absurd numbers that must be parked rather than sent. No bad input may answer
5xx, change state or put a secret in the logs."""
from __future__ import annotations

import copy
import json
import traceback
from decimal import Decimal

import pytest

from devstack.webshop_sandbox.errors import ApiError

from .handlers import Context, load_handler
from .hostile_helpers import (BAD_DELIVERIES, MISSING_IDS, ROUTES, capture_logs, delivery, dynamo_snapshot,
                              expected_digests, idempotency_items, seed, shop_writes, signature_header,
                              wave_mutations)

# ----------------------------------------------------------------------------- fixtures


@pytest.fixture
def logs(capsys, caplog, monkeypatch):
    return capture_logs(capsys, caplog, monkeypatch)


@pytest.fixture
def wave_bodies(stack, monkeypatch):
    """Every GraphQL request body the Wave sandbox receives (query text and variables)."""
    bodies, original = [], stack.wave._handle

    def recording(path, headers, body):
        try:
            bodies.append(json.loads(body))
        except ValueError:
            bodies.append({"query": body.decode("utf-8", "replace"), "variables": None})
        return original(path, headers, body)

    monkeypatch.setattr(stack.wave, "_handle", recording)
    return bodies


def invoke(handler, event, logs) -> dict:
    """As API Gateway sees it: an exception escaping the function is a 502, and the Lambda
    runtime logs its message and traceback (so those count as logged too)."""
    try:
        return handler(event, Context())
    except Exception as exc:  # noqa: BLE001
        logs._seen.append(traceback.format_exc())
        return {"statusCode": 502, "body": json.dumps({"error": f"unhandled {type(exc).__name__}: {exc}"})}


def error_reason(response: dict) -> str:
    body = json.loads(response["body"])
    assert isinstance(body.get("error"), str) and body["error"].strip(), body
    return body["error"]


def assert_nothing_changed(stack, before: dict, *, ignore: tuple[str, ...] = ()) -> None:
    assert stack.wave.requests == [], f"Wave was called: {stack.wave.requests}"
    assert shop_writes(stack) == [], f"the webshop was written: {shop_writes(stack)}"
    after = dynamo_snapshot(stack.tables)
    for table in ignore:
        before.pop(table, None), after.pop(table, None)
    assert after == before, "a refused delivery changed DynamoDB state"
    assert stack.wave.customers() == [] and stack.wave.products() == [] and stack.wave.invoices() == []


def assert_logs_clean(logs, event: dict) -> str:
    return logs.assert_no_secrets(signature_header(event) or "", *expected_digests(event))


# ---------------------------------------------------------------------- hostile deliveries
# Cases that currently crash the handler (see the reasons; the lead fixes the layer).


def _delivery_params():
    for route in ROUTES:
        for case in BAD_DELIVERIES:
            yield pytest.param(route, case, id=f"{route}-{case}")


@pytest.mark.parametrize("route_name, case", list(_delivery_params()))
def test_given_a_bad_delivery_on_any_route_when_received_then_it_is_refused_with_a_4xx_reason_and_nothing_changes(
        stack, logs, route_name, case):
    route = ROUTES[route_name]
    record = seed(stack, route.resource)
    build, status = BAD_DELIVERIES[case]
    event = build(route, record["id"])
    before = dynamo_snapshot(stack.tables)
    stack.reset_counters()

    response = invoke(load_handler(route.function), event, logs)

    assert response["statusCode"] == status, response
    assert 400 <= response["statusCode"] < 500
    assert error_reason(response)
    assert_nothing_changed(stack, before)
    text = assert_logs_clean(logs, event)
    assert "webhook refused" in text  # the capture really sees the function's log


# Ids no record can have are refused as malformed (400) before anything is fetched.
MALFORMED_IDS = ("single dot", "100 000 characters")


def _missing_params():
    for route in ROUTES:
        for case in MISSING_IDS:
            yield pytest.param(route, case, id=f"{route}-{case}")


OTHER_RESOURCE = {"customers": "products", "products": "customers", "orders": "customers"}


@pytest.mark.parametrize("route_name, case", list(_missing_params()))
def test_given_a_delivery_for_a_record_id_that_does_not_exist_when_received_then_404_and_nothing_is_written(
        stack, logs, route_name, case):
    route = ROUTES[route_name]
    seed(stack, route.resource)
    record_id = MISSING_IDS[case] or seed(stack, OTHER_RESOURCE[route_name], tag="other")["id"]
    event = delivery(route, record_id, delivery_id=f"dlv_missing_{route_name}")
    before = dynamo_snapshot(stack.tables)
    stack.reset_counters()

    response = invoke(load_handler(route.function), event, logs)

    assert response["statusCode"] == (400 if case in MALFORMED_IDS else 404), response
    assert error_reason(response)
    # (the idempotency table is the subject of the retry test below)
    assert_nothing_changed(stack, before, ignore=(stack.tables["IDEMPOTENCY_TABLE"],))
    assert_logs_clean(logs, event)


@pytest.mark.parametrize("route_name", list(ROUTES))
def test_given_a_delivery_that_answered_404_when_the_record_appears_and_the_webshop_retries_then_it_syncs(
        stack, logs, route_name):
    route = ROUTES[route_name]
    template = seed(stack, route.resource, tag="template")
    fields = {k: v for k, v in template.items()
              if k not in ("id", "created_at", "updated_at", "version", "deleted", "number",
                           "discount_total", "subtotal", "tax_total", "total")}
    if route_name == "customers":
        fields["email"] = "late@example.com"
    if route_name == "products":
        fields.update(sku="LATE-1", name="Late widget")
    if route_name == "orders":
        fields["lines"] = [{k: v for k, v in line.items() if k != "id"} for line in fields["lines"]]
    late_id = {"customers": "c_9001", "products": "p_9001", "orders": "o_9001"}[route_name]
    handler = load_handler(route.function)
    first = invoke(handler, delivery(route, late_id, delivery_id="dlv_late"), logs)
    assert first["statusCode"] == 404, first

    stack.shop.create(route.resource, {"id": late_id, **fields})  # the record becomes visible
    retry = invoke(handler, delivery(route, late_id, delivery_id="dlv_late"), logs)  # same delivery, re-signed

    assert retry["statusCode"] == 200, retry
    assert stack.store.get_link(route.noun, "shop", late_id) is not None
    logs.assert_no_secrets()


@pytest.mark.parametrize("route_name", list(ROUTES))
def test_given_the_same_delivery_replayed_when_received_again_then_the_same_2xx_and_no_second_wave_write(
        stack, logs, route_name):
    route = ROUTES[route_name]
    record = seed(stack, route.resource)
    handler = load_handler(route.function)
    event = delivery(route, record["id"], delivery_id=f"dlv_replay_{route_name}")
    first = invoke(handler, event, logs)
    assert first["statusCode"] == 200, first
    created = {"customers": len(stack.wave.customers()), "products": len(stack.wave.products()),
               "invoices": len(stack.wave.invoices())}
    assert created[route.resource if route_name != "orders" else "invoices"] == 1
    if route_name == "customers":
        stack.shop.update("customers", record["id"], {"phone": "555-0199"})  # a replay must not sync this
    stack.reset_counters()

    exact = invoke(handler, copy.deepcopy(event), logs)  # the same bytes, the same signature
    resigned = invoke(handler, delivery(route, record["id"], delivery_id=f"dlv_replay_{route_name}"), logs)

    for again in (exact, resigned):
        assert again["statusCode"] == first["statusCode"] and json.loads(again["body"]) == json.loads(first["body"])
    assert wave_mutations(stack) == [] and shop_writes(stack) == []
    assert {"customers": len(stack.wave.customers()), "products": len(stack.wave.products()),
            "invoices": len(stack.wave.invoices())} == created
    assert len(idempotency_items(stack)) == 1
    assert_logs_clean(logs, event)


# ------------------------------------------------------------------------ hostile text
GRAPHQL = '"} mutation { customerDelete(input:{id:"x"}) { didSucceed } } #'
UNICODE = "Zoë 🧑\u200d💻 שלום עולם e\u0301 \u202eevil\u202c 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ﷽"
QUOTES = "O'Brien \"the\" `tick` \\ back\\slash \\n \\u0041 literal ${jndi:x} {{x}} %s"
NEWLINES = "first\nsecond\r\nthird\ttab\u2028sep\u2029para"
INJECTIONS = "'; DROP TABLE customers; -- <script>alert(1)</script> {\"$where\": \"1==1\"}"
PADDED = "  padded both ends  "
LONG = "ab€𝄞\"'\\\n" * 250  # 2000 characters


def no_query_text(bodies: list[dict], *values: str) -> None:
    """Variables only: hostile text never appears in any GraphQL document sent to Wave."""
    assert bodies, "no request reached Wave"
    for body in bodies:
        for value in values:
            assert value not in body.get("query", ""), f"text was built into the query: {body.get('query')[:200]}"


def assert_expected_wave_operations(stack, allowed: set[str]) -> None:
    kinds = {r["kind"] for r in stack.wave.requests}
    assert kinds <= {"query", "mutation"}, stack.wave.requests
    assert set(wave_mutations(stack)) <= allowed, wave_mutations(stack)
    assert all(r["status"] == 200 for r in stack.wave.requests), stack.wave.requests


HOSTILE_CUSTOMER = {
    "email": "hostile@example.com",
    "first_name": "Zoë e\u0301 O'Brien",
    "last_name": "\u05db\u05d4\u05df \"Cohen\" \\",
    "company": GRAPHQL,
    "notes": LONG + GRAPHQL + UNICODE,
    "phone": "555-0100",
    "website": "https://example.com/?q=\"x\"&y='z'",
    "billing_address": {"line1": UNICODE, "line2": QUOTES, "city": PADDED, "postal_code": "M5V 2T6",
                        "region": "ON", "country": "CA"},
    "shipping": {"name": INJECTIONS, "phone": "555-0101", "instructions": NEWLINES,
                 "address": {"line1": GRAPHQL, "line2": NEWLINES, "city": "Montréal", "postal_code": "H2X 1Y4",
                             "region": "QC", "country": "CA"}},
}


def test_given_a_customer_with_hostile_text_when_synced_and_edited_in_wave_then_every_text_field_round_trips_verbatim(
        stack, logs, wave_bodies):
    customer = stack.shop.create("customers", HOSTILE_CUSTOMER)
    assert stack.run("customer_to_wave").created == 1

    [in_wave] = stack.wave.customers()
    expected_wave = {
        "name": GRAPHQL, "firstName": HOSTILE_CUSTOMER["first_name"], "lastName": HOSTILE_CUSTOMER["last_name"],
        "internalNotes": HOSTILE_CUSTOMER["notes"], "website": HOSTILE_CUSTOMER["website"],
        "address": (UNICODE, QUOTES, PADDED), "shipping": (INJECTIONS, NEWLINES, GRAPHQL, NEWLINES),
    }
    got_wave = {
        "name": in_wave["name"], "firstName": in_wave["firstName"], "lastName": in_wave["lastName"],
        "internalNotes": in_wave["internalNotes"], "website": in_wave["website"],
        "address": (in_wave["address"]["addressLine1"], in_wave["address"]["addressLine2"], in_wave["address"]["city"]),
        "shipping": (in_wave["shippingDetails"]["name"], in_wave["shippingDetails"]["instructions"],
                     in_wave["shippingDetails"]["address"]["addressLine1"], in_wave["shippingDetails"]["address"]["addressLine2"]),
    }
    assert got_wave == expected_wave

    stack.wave.update_customer(in_wave["id"], mobile="555-0199")  # an edit of another field in Wave
    assert stack.run("customer_to_webshop").updated == 1
    after = stack.shop.get("customers", customer["id"])
    assert after["mobile"] == "555-0199"
    for field in ("first_name", "last_name", "company", "notes", "phone", "website", "billing_address", "shipping"):
        assert after[field] == customer[field], field
    stack.settle()
    [again] = stack.wave.customers()
    assert {k: again[k] for k in ("name", "internalNotes", "address", "shippingDetails")} == \
        {k: in_wave[k] for k in ("name", "internalNotes", "address", "shippingDetails")}

    assert len(stack.wave.customers()) == 1 and "customerDelete" not in wave_mutations(stack)
    assert_expected_wave_operations(stack, {"customerCreate", "customerPatch"})
    no_query_text(wave_bodies, GRAPHQL, UNICODE, QUOTES, NEWLINES, INJECTIONS, LONG)
    logs.assert_no_secrets()


def test_given_a_product_with_hostile_name_and_description_when_synced_and_repriced_in_wave_then_both_round_trip_verbatim(
        stack, logs, wave_bodies):
    name = GRAPHQL + " " + UNICODE + " " + QUOTES
    description = LONG + NEWLINES + INJECTIONS
    product = stack.shop.create("products", {"sku": "H-1", "name": name, "description": description,
                                             "price": "19.90", "currency": "CAD"})
    assert stack.run("product_to_wave").created == 1
    [in_wave] = stack.wave.products()
    assert (in_wave["name"], in_wave["description"]) == (name, description)

    stack.wave.update_product(in_wave["id"], unitPrice="25.5")
    assert stack.run("product_to_webshop").updated == 1
    after = stack.shop.get("products", product["id"])
    assert after["price"] == "25.50"
    assert (after["name"], after["description"]) == (name, description)
    stack.settle()
    [again] = stack.wave.products()
    assert (again["name"], again["description"]) == (name, description)

    assert_expected_wave_operations(stack, {"productCreate", "productPatch"})
    no_query_text(wave_bodies, GRAPHQL, UNICODE, QUOTES, NEWLINES, INJECTIONS, LONG)
    logs.assert_no_secrets()


def test_given_an_order_with_hostile_note_po_and_line_text_when_synced_and_edited_in_wave_then_they_round_trip_verbatim(
        stack, logs, wave_bodies):
    customer = stack.shop.create("customers", {"email": "ord@example.com", "first_name": "Ord", "currency": "CAD"})
    product = stack.shop.create("products", {"sku": "O-1", "name": "Plain", "price": "5.00", "currency": "CAD"})
    note = LONG + GRAPHQL + NEWLINES
    po_number = "PO \"7\" 'x' \\ {number} 🧾"
    line_text = UNICODE + " " + GRAPHQL
    order = stack.shop.create("orders", {"customer_id": customer["id"], "currency": "CAD", "order_date": "2026-11-20",
                                         "po_number": po_number, "note": note,
                                         "lines": [{"product_id": product["id"], "quantity": "2", "unit_price": "5.00",
                                                    "description": line_text}]})
    assert stack.run("order_to_wave").created == 1
    [invoice] = stack.wave.invoices()
    assert (invoice["memo"], invoice["poNumber"], invoice["items"][0]["description"]) == (note, po_number, line_text)
    assert Decimal(invoice["total"]["value"]) == Decimal(order["total"])

    stack.wave.update_invoice(invoice["id"], dueDate="2027-01-31")
    assert stack.run("invoice_to_webshop").updated == 1
    after = stack.shop.get("orders", order["id"])
    assert after["due_date"] == "2027-01-31"
    assert (after["note"], after["po_number"], after["lines"][0]["description"]) == (note, po_number, line_text)
    stack.settle()
    [again] = stack.wave.invoices()
    assert (again["memo"], again["poNumber"], again["items"][0]["description"]) == (note, po_number, line_text)

    assert "customerDelete" not in wave_mutations(stack) and len(stack.wave.customers()) == 1
    assert_expected_wave_operations(stack, {"customerCreate", "customerPatch", "productCreate", "productPatch",
                                            "invoiceCreate", "invoicePatch"})
    no_query_text(wave_bodies, GRAPHQL, UNICODE, NEWLINES, LONG, po_number)
    logs.assert_no_secrets()


# ------------------------------------------------------------------------ absurd numbers
FORTY_DIGITS = "1234567890" * 4

SHOP_REFUSES = {
    "product price with 40 digits": ("products", {"sku": "A-1", "name": "Absurd", "price": FORTY_DIGITS}, "price"),
    "negative product price": ("products", {"sku": "A-1", "name": "Absurd", "price": "-5.00"}, "price"),
    "product price as a float": ("products", {"sku": "A-1", "name": "Absurd", "price": 19.9}, "price"),
    "order line with negative quantity": ("orders", {"quantity": "-3"}, "quantity"),
    "order line with zero quantity": ("orders", {"quantity": "0"}, "quantity"),
    "order line unit price with 40 digits": ("orders", {"unit_price": FORTY_DIGITS}, "unit_price"),
    "order line with negative discount": ("orders", {"discount": "-2.00"}, "discount"),
}


@pytest.mark.parametrize("case", SHOP_REFUSES)
def test_given_an_absurd_number_sent_to_the_webshop_when_saved_then_it_is_refused_with_422_and_nothing_syncs(
        stack, logs, case):
    resource, values, field = SHOP_REFUSES[case]
    if resource == "orders":
        customer = stack.shop.create("customers", {"email": "n@example.com", "first_name": "N", "currency": "CAD"})
        product = stack.shop.create("products", {"sku": "N-1", "name": "N", "price": "5.00", "currency": "CAD"})
        line = {"product_id": product["id"], "quantity": "1", "unit_price": "5.00", **values}
        payload = {"customer_id": customer["id"], "currency": "CAD", "lines": [line]}
    else:
        payload = {**values, "currency": "CAD"}
    with pytest.raises(ApiError) as refused:
        stack.shop.create(resource, payload)
    assert refused.value.status == 422 and field in refused.value.message
    assert stack.shop.all(resource) == ([] if resource == "products" else [])
    stack.reset_counters()
    stack.run("order_to_wave" if resource == "orders" else "product_to_wave")
    assert stack.wave.invoices() == [] and (resource == "orders" or stack.wave.products() == [])
    logs.assert_no_secrets()


def write_directly(stack, resource: str, record_id: str, change) -> dict:
    """Change a stored record behind the webshop's validation (a shop that accepts anything)."""
    with stack.shop.store.lock:
        stored = stack.shop.store.get(resource, record_id)
        fields = {k: v for k, v in stored.items() if k not in ("id", "created_at", "updated_at", "version", "deleted")}
        change(fields)
        stack.shop.store.replace(resource, record_id, fields)
    return stack.shop.get(resource, record_id)


ABSURD_PRICES = {
    "40 digits": FORTY_DIGITS,
    "40 digits with cents": FORTY_DIGITS + ".99",
    "negative": "-5.00",
    "exponent": "1e40",
    "not a number": "NaN",
    "infinity": "Infinity",
}


@pytest.mark.parametrize("case", list(ABSURD_PRICES))
def test_given_a_product_with_an_absurd_price_when_swept_then_it_is_parked_with_the_reason_and_nothing_is_sent_for_it(
        stack, logs, case):
    value = ABSURD_PRICES[case]
    good = stack.shop.create("products", {"sku": "G-1", "name": "Good widget", "price": "19.90", "currency": "CAD"})
    bad = stack.shop.create("products", {"sku": "B-1", "name": "Bad widget", "price": "1.00", "currency": "CAD"})
    write_directly(stack, "products", bad["id"], lambda f: f.update(price=value))
    stack.reset_counters()

    report = stack.run("product_to_wave")

    assert report.created == 1 and report.parked == 1, report
    assert [p["name"] for p in stack.wave.products()] == ["Good widget"]
    assert wave_mutations(stack) == ["productCreate"]  # the good one only: nothing sent for the bad one
    [parked] = stack.store.parked("product_to_wave")
    assert parked.source_id == bad["id"]
    assert value in parked.reason, parked.reason
    assert stack.store.get_link("product", "shop", bad["id"]) is None
    assert stack.store.get_link("product", "shop", good["id"]) is not None
    assert "record parked" in logs.assert_no_secrets()  # (the capture sees the engine's log)


ABSURD_ORDERS = {
    "line with negative quantity": ("quantity", "-3"),
    "line quantity with 40 digits": ("quantity", FORTY_DIGITS),
    "line quantity as an exponent": ("quantity", "1e40"),
    "line quantity not a number": ("quantity", "NaN"),
    "line unit price with 40 digits": ("unit_price", FORTY_DIGITS),
    "line with negative unit price": ("unit_price", "-19.99"),
    "line with negative discount": ("discount", "-2.00"),
    "negative order discount (discount_total below the lines' discounts)": ("discount_total", "-5.00"),
}


@pytest.mark.parametrize("case", list(ABSURD_ORDERS))
def test_given_an_order_with_an_absurd_number_when_swept_then_it_is_parked_with_the_reason_and_nothing_is_sent_for_it(
        stack, logs, case):
    field, value = ABSURD_ORDERS[case]
    good = seed(stack, "orders", tag="good")
    bad = seed(stack, "orders", tag="bad")
    bad_customer = stack.shop.get("customers", bad["customer_id"])
    bad_product = stack.shop.get("products", bad["lines"][0]["product_id"])

    def absurd(fields):
        if field == "discount_total":
            fields[field] = value
        else:
            fields["lines"][0][field] = value
    write_directly(stack, "orders", bad["id"], absurd)
    stack.reset_counters()

    report = stack.run("order_to_wave")

    assert report.created == 1 and report.parked == 1, report
    assert [i["invoiceNumber"] for i in stack.wave.invoices()] == [good["number"]]
    assert wave_mutations(stack).count("invoiceCreate") == 1
    # nothing at all reached Wave for the bad order: not its invoice, customer or product
    assert bad_customer["email"] not in [c["email"] for c in stack.wave.customers()]
    assert bad_product["name"] not in [p["name"] for p in stack.wave.products()]
    [parked] = stack.store.parked("order_to_wave")
    assert parked.source_id == bad["id"]
    assert value in parked.reason, parked.reason
    assert stack.store.get_link("order", "shop", bad["id"]) is None
    assert "record parked" in logs.assert_no_secrets()  # (the capture sees the engine's log)


def test_given_records_parked_for_absurd_numbers_when_an_operator_reads_the_reason_then_it_names_the_field(stack, logs):
    product = stack.shop.create("products", {"sku": "B-1", "name": "Bad widget", "price": "1.00", "currency": "CAD"})
    write_directly(stack, "products", product["id"], lambda f: f.update(price=FORTY_DIGITS))
    order = seed(stack, "orders", tag="bad")
    write_directly(stack, "orders", order["id"], lambda f: f["lines"][0].update(quantity="-3"))
    stack.run("product_to_wave")
    stack.run("order_to_wave")
    [parked_product] = stack.store.parked("product_to_wave")
    [parked_order] = stack.store.parked("order_to_wave")
    assert "price" in parked_product.reason, parked_product.reason
    assert "quantity" in parked_order.reason, parked_order.reason
    logs.assert_no_secrets()
