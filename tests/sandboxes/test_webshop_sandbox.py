"""The webshop sandbox honours the Customwebshop contract (docs/webshop-openapi.yaml)."""

import hashlib
import hmac
import http.client
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import yaml

from devstack.webshop_sandbox import ApiError, WebshopSandbox, sign_webhook
from devstack.webshop_sandbox.schemas import RESOURCES

KEY = "shop-sandbox-key"
SECRET = "whsec_sandbox"
OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "webshop-openapi.yaml"


@pytest.fixture
def sandbox():
    sb = WebshopSandbox(db_path=":memory:", api_key=KEY, webhook_secret=SECRET)
    sb.start(port=0)
    yield sb
    sb.stop()


@pytest.fixture
def api(sandbox):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    session.base = sandbox.base_url
    yield session
    session.close()


def call(api, method, path, **kwargs):
    return api.request(method, api.base + path, timeout=5, **kwargs)


class Receiver:
    """A tiny webhook receiver answering ``status`` and recording (headers, raw body)."""

    def __init__(self, status=200):
        self.status = status
        self.hits = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hits.append((self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def urls(self):
        return {r: f"{self.url}/webhooks/{r}" for r in ("customers", "products", "orders")}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    rcv = Receiver()
    yield rcv
    rcv.close()


def seed_order_deps(sb):
    customer = sb.create("customers", {"email": "ada@example.com", "currency": "CAD"})
    mug = sb.create("products", {"sku": "MUG", "name": "Mug", "price": "12.50"})
    tee = sb.create("products", {"sku": "TEE", "name": "T-shirt", "price": "19.99"})
    return customer, mug, tee


# -- signature ------------------------------------------------------------------------------

def test_given_contract_test_vector_when_signing_then_header_matches_exactly():
    body = (b'{"id":"dlv_0001","type":"customer.updated","occurred_at":"2025-11-25T12:00:00Z",'
            b'"data":{"id":"c_1042","updated_at":"2025-11-25T11:59:59.250Z"}}')
    assert sign_webhook("whsec_5f1c0ffee", body, 1764072000) == (
        "t=1764072000,v1=f9ded0870b7201ff878eb28b255b523c5a058ee59f30e4c58d299c0bc3fe7b8d")


# -- auth and transport ---------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"}])
def test_given_missing_or_wrong_key_when_calling_then_401_with_error_body_and_not_counted(sandbox, headers):
    response = requests.get(sandbox.base_url + "/customers", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert sandbox.requests == []


def test_given_a_revoked_key_when_calling_then_401_as_for_a_wrong_key_until_restored(sandbox, api):
    sandbox.revoke_key()
    refused = call(api, "GET", "/customers")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert sandbox.refused_keys == 1 and sandbox.requests == []
    sandbox.restore_key()
    assert call(api, "GET", "/customers").status_code == 200


def test_given_a_rotated_key_when_calling_then_the_old_one_is_refused_and_the_new_one_works(sandbox, api):
    sandbox.rotate_key("shop-rotated-key")
    assert call(api, "GET", "/customers").status_code == 401
    assert call(api, "GET", "/customers", headers={"Authorization": "Bearer shop-rotated-key"}).status_code == 200


def test_given_wrong_content_type_or_bad_json_when_posting_then_rejected_without_a_record(sandbox, api):
    as_form = call(api, "POST", "/customers", data="email=a@b.co",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    malformed = call(api, "POST", "/customers", data=b"{nope", headers={"Content-Type": "application/json"})
    not_object = call(api, "POST", "/customers", json=["a"])
    assert as_form.status_code == 415 and as_form.json()["error"]["code"] == "unsupported_media_type"
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "malformed_json"
    assert not_object.status_code == 400
    assert sandbox.all("customers") == []


def test_given_unknown_or_read_only_field_when_writing_then_400(api):
    unknown = call(api, "POST", "/customers", json={"email": "a@b.co", "favourite_colour": "red"})
    nested = call(api, "POST", "/customers", json={"email": "a@b.co", "billing_address": {"street": "x"}})
    read_only = call(api, "POST", "/products", json={"name": "A", "price": "1.00", "version": 3})
    assert [r.status_code for r in (unknown, nested, read_only)] == [400, 400, 400]
    assert unknown.json()["error"]["code"] == "unknown_field"
    assert read_only.json()["error"]["code"] == "read_only_field"


def test_given_unknown_id_or_resource_when_getting_then_404(api):
    assert call(api, "GET", "/customers/c_9999").status_code == 404
    assert call(api, "GET", "/invoices").json()["error"]["code"] == "not_found"


def test_given_injected_429_when_calling_then_retry_after_then_normal_answers(sandbox, api):
    sandbox.inject_fault(status=429, count=2, retry_after=2)
    first, second, third = (call(api, "GET", "/customers") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "2" and first.json()["error"]["code"] == "rate_limited"
    assert [r["status"] for r in sandbox.requests] == [429, 429, 200]
    sandbox.reset_counters()
    assert sandbox.requests == []


# -- record lifecycle -----------------------------------------------------------------------

def test_given_customer_when_created_patched_deleted_then_versions_and_timestamps_advance(sandbox, api):
    created = call(api, "POST", "/customers", json={
        "email": "ada@example.com", "first_name": "Ada",
        "billing_address": {"line1": "1 Main St", "city": "Toronto", "region": "ON", "country": "CA"}})
    assert created.status_code == 201
    record = created.json()
    assert record["id"] == "c_1001" and record["version"] == 1 and record["deleted"] is False
    assert record["created_at"] == record["updated_at"] and record["updated_at"].endswith("Z")

    patched = call(api, "PATCH", f"/customers/{record['id']}",
                   json={"last_name": "Lovelace", "billing_address": {"postal_code": "M5V 1A1"}}).json()
    assert patched["version"] == 2 and patched["updated_at"] > record["updated_at"]
    assert patched["first_name"] == "Ada" and patched["last_name"] == "Lovelace"
    assert patched["billing_address"] == {"line1": "1 Main St", "line2": None, "city": "Toronto",
                                          "region": "ON", "postal_code": "M5V 1A1", "country": "CA"}

    deleted = call(api, "DELETE", f"/customers/{record['id']}").json()
    assert deleted["deleted"] is True and deleted["version"] == 3 and deleted["updated_at"] > patched["updated_at"]
    fetched = call(api, "GET", f"/customers/{record['id']}").json()
    assert fetched == deleted
    feed = call(api, "GET", "/customers").json()["data"]
    assert [(r["id"], r["deleted"]) for r in feed] == [("c_1001", True)]
    assert call(api, "PATCH", f"/customers/{record['id']}", json={"notes": "x"}).status_code == 409


def test_given_patch_that_changes_nothing_when_applied_then_no_new_version_and_no_webhook(sandbox, api):
    record = sandbox.create("products", {"sku": "A", "name": "Apple", "price": "1.5"})
    assert record["price"] == "1.50"
    queued = len(sandbox.outbox)
    same = call(api, "PATCH", f"/products/{record['id']}", json={"price": "1.50", "name": "Apple"}).json()
    assert same["version"] == 1 and same["updated_at"] == record["updated_at"]
    assert len(sandbox.outbox) == queued


def test_given_null_in_nested_patch_when_applied_then_that_field_or_object_clears(sandbox, api):
    record = sandbox.create("customers", {"company": "Acme", "shipping": {
        "name": "Dock 4", "address": {"city": "Ottawa", "country": "CA"}}})
    one = call(api, "PATCH", f"/customers/{record['id']}",
               json={"shipping": {"address": {"city": None, "line1": "9 Quay"}}}).json()
    assert one["shipping"]["name"] == "Dock 4"
    assert one["shipping"]["address"]["city"] is None and one["shipping"]["address"]["line1"] == "9 Quay"
    assert one["shipping"]["address"]["country"] == "CA"
    cleared = call(api, "PATCH", f"/customers/{record['id']}", json={"shipping": None}).json()
    assert cleared["shipping"] is None and cleared["version"] == 3


def test_given_stale_if_match_when_patching_or_deleting_then_412_and_nothing_changes(sandbox, api):
    record = sandbox.create("customers", {"email": "a@b.co"})
    sandbox.update("customers", record["id"], {"first_name": "New"})
    stale = call(api, "PATCH", f"/customers/{record['id']}", json={"last_name": "X"}, headers={"If-Match": "1"})
    stale_delete = call(api, "DELETE", f"/customers/{record['id']}", headers={"If-Match": '"1"'})
    fresh = call(api, "PATCH", f"/customers/{record['id']}", json={"last_name": "X"}, headers={"If-Match": '"2"'})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "precondition_failed"
    assert stale_delete.status_code == 412
    assert fresh.status_code == 200 and fresh.json()["version"] == 3 and fresh.headers["ETag"] == '"3"'
    assert call(api, "PATCH", f"/customers/{record['id']}", json={}, headers={"If-Match": "v3"}).status_code == 400


def test_given_idempotency_key_when_post_repeated_then_first_result_and_conflict_on_other_body(sandbox, api):
    body = {"sku": "K1", "name": "Kettle", "price": "30.00"}
    first = call(api, "POST", "/products", json=body, headers={"Idempotency-Key": "k-1"})
    again = call(api, "POST", "/products", json=body, headers={"Idempotency-Key": "k-1"})
    other = call(api, "POST", "/products", json={**body, "price": "31.00"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert [p["id"] for p in sandbox.all("products")] == [first.json()["id"]]


def test_given_taken_sku_or_order_number_when_creating_then_409(sandbox, api):
    customer, mug, _ = seed_order_deps(sandbox)
    sandbox.create("orders", {"number": "A-1", "customer_id": customer["id"],
                              "lines": [{"product_id": mug["id"], "quantity": "1"}]})
    sku = call(api, "POST", "/products", json={"sku": "MUG", "name": "Other", "price": "1.00"})
    number = call(api, "POST", "/orders", json={"number": "A-1", "currency": "CAD", "lines": []})
    assert (sku.status_code, number.status_code) == (409, 409)


# -- validation -----------------------------------------------------------------------------

INVALID = [
    ("customers", {"phone": "555"}, "email or a name"),
    ("customers", {"email": "not-an-email"}, "email"),
    ("customers", {"email": "a@b.co", "currency": "cad"}, "currency"),
    ("customers", {"email": "a@b.co", "billing_address": {"country": "CAN"}}, "country"),
    ("products", {"name": "A", "price": 19.9}, "decimal string"),
    ("products", {"name": "A", "price": "-1.00"}, "negative"),
    ("products", {"name": "A", "price": "1.005"}, "2 decimal places"),
    ("products", {"name": "A", "price": "1234567890123.00"}, "too large"),
    ("products", {"name": "A", "price": "1e3"}, "decimal string"),
    ("products", {"name": "A", "price": "1.00", "active": "yes"}, "active"),
    ("products", {"price": "1.00"}, "name"),
    ("orders", {"currency": "CAD", "status": "shipped"}, "status"),
    ("orders", {"currency": "CAD", "payment_status": "free"}, "payment_status"),
    ("orders", {"currency": "CAD", "lines": [{"product_id": "p_9999", "quantity": "1"}]}, "product"),
    ("orders", {"currency": "CAD", "lines": [{"product_id": "p_2001", "quantity": "0"}]}, "greater than 0"),
    ("orders", {"currency": "CAD", "lines": [{"product_id": "p_2001", "quantity": 2}]}, "decimal string"),
    ("orders", {"currency": "CAD", "lines": [{"product_id": "p_2001", "quantity": "-1"}]}, "negative"),
    ("orders", {"currency": "CAD", "customer_id": "c_9999"}, "customer"),
    ("orders", {"currency": "CAD", "order_date": "2025-02-30"}, "date"),
    ("orders", {"lines": []}, "currency"),
]


@pytest.mark.parametrize("resource,body,words", INVALID)
def test_given_rule_breaking_input_when_posting_then_422_with_clear_message(sandbox, api, resource, body, words):
    sandbox.create("products", {"name": "Seed", "price": "1.00"})
    response = call(api, "POST", f"/{resource}", json=body)
    assert response.status_code == 422, response.text
    assert words in response.json()["error"]["message"]
    assert len(sandbox.all(resource)) == (1 if resource == "products" else 0)


def test_given_direct_create_with_bad_input_when_called_then_api_error_raised(sandbox):
    with pytest.raises(ApiError) as caught:
        sandbox.create("products", {"name": "A", "price": 1})
    assert caught.value.status == 422


# -- orders ---------------------------------------------------------------------------------

def test_given_lines_with_discounts_and_tax_when_order_created_then_totals_exact(sandbox, api):
    customer, mug, tee = seed_order_deps(sandbox)
    response = call(api, "POST", "/orders", json={
        "customer_id": customer["id"], "po_number": "PO-7",
        "lines": [
            {"product_id": mug["id"], "quantity": "3", "discount": "1.00", "tax_rate": "0.13"},
            {"product_id": tee["id"], "quantity": "1.5", "unit_price": "19.99", "tax_rate": "0.05"},
            {"product_id": mug["id"], "quantity": "2", "unit_price": "0.99"},
        ]})
    assert response.status_code == 201, response.text
    order = response.json()
    # mug: 37.50 - 1.00 = 36.50, tax 4.745 -> 4.75 ; tee: 29.985 -> 29.99, tax 1.4995 -> 1.50 ; 1.98 no tax
    assert order["subtotal"] == "69.47"
    assert order["discount_total"] == "1.00"
    assert order["tax_total"] == "6.25"
    assert order["total"] == "74.72"
    assert order["currency"] == "CAD" and order["number"] == "1001" and order["id"] == "o_3001"
    assert order["status"] == "pending" and order["payment_status"] == "unpaid" and order["amount_paid"] == "0.00"
    assert [line["id"] for line in order["lines"]] == ["l_1", "l_2", "l_3"]
    assert order["lines"][0]["sku"] == "MUG" and order["lines"][0]["unit_price"] == "12.50"


# -- the merchant's order discount: shop state, never a contract field ----------------------

def discounted_order(sandbox):
    """An order the merchant gave a 5.00 coupon in the shop's own admin (direct access)."""
    customer, mug, _ = seed_order_deps(sandbox)
    return sandbox.create("orders", {"customer_id": customer["id"], "order_discount": "5.00", "lines": [
        {"product_id": mug["id"], "quantity": "2", "discount": "1.00", "tax_rate": "0.13"}]})


def test_given_a_merchant_coupon_when_the_order_is_read_then_it_shows_only_in_discount_total_and_total(
        sandbox, api):
    order = discounted_order(sandbox)
    # 25.00 gross, 1.00 line discount, tax 24.00 x 0.13 = 3.12, coupon 5.00 after tax
    fetched = call(api, "GET", f"/orders/{order['id']}").json()
    listed = call(api, "GET", "/orders").json()["data"]
    for record in (order, fetched, listed[0]):
        assert (record["subtotal"], record["discount_total"], record["tax_total"], record["total"]) == (
            "25.00", "6.00", "3.12", "22.12")
        assert "order_discount" not in record and not any(key.startswith("_") for key in record)
    spent = Decimal(fetched["discount_total"]) - sum(Decimal(line["discount"]) for line in fetched["lines"])
    assert spent == Decimal("5.00")


def test_given_a_merchant_coupon_when_a_client_patches_the_lines_then_the_coupon_stays_in_the_totals(sandbox, api):
    order = discounted_order(sandbox)
    mug = order["lines"][0]["product_id"]
    patched = call(api, "PATCH", f"/orders/{order['id']}", json={"lines": [
        {"product_id": mug, "quantity": "4", "unit_price": "12.50", "discount": "0.00", "tax_rate": None}]})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["discount_total"], patched.json()["total"]) == ("5.00", "45.00")
    sandbox.update("orders", order["id"], {"order_discount": None})  # the merchant removes the coupon
    assert (sandbox.get("orders", order["id"])["discount_total"], sandbox.get("orders", order["id"])["total"]) == (
        "0.00", "50.00")


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_given_order_discount_in_an_api_write_when_sent_then_400_unknown_field_and_nothing_changes(
        sandbox, api, method):
    order = discounted_order(sandbox)
    before, queued = sandbox.all("orders"), len(sandbox.outbox)
    if method == "POST":
        response = call(api, "POST", "/orders", json={
            "customer_id": order["customer_id"], "order_discount": "2.00",
            "lines": [{"product_id": order["lines"][0]["product_id"], "quantity": "1"}]})
    else:
        response = call(api, "PATCH", f"/orders/{order['id']}", json={"order_discount": "0.00", "note": "x"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unknown_field" and "order_discount" in error["message"]
    assert sandbox.all("orders") == before and len(sandbox.outbox) == queued
    assert sandbox.get("orders", order["id"])["total"] == "22.12"


UNKNOWN_FIELDS = [
    ("POST", "/customers", {"email": "a@b.co", "favourite_colour": "red"}, "favourite_colour"),
    ("POST", "/customers", {"email": "a@b.co", "billing_address": {"street": "x"}}, "billing_address.street"),
    ("POST", "/customers", {"email": "a@b.co", "shipping": {"address": {"county": "x"}}}, "shipping.address.county"),
    ("POST", "/products", {"name": "A", "price": "1.00", "stock": "3"}, "stock"),
    ("POST", "/orders", {"currency": "CAD", "shipping_total": "1.00"}, "shipping_total"),
    ("POST", "/orders", {"currency": "CAD", "lines": [{"product_id": "p_2001", "quantity": "1", "vat": "x"}]},
     "lines[0].vat"),
    ("PATCH", "/customers/{customer}", {"loyalty_points": 3}, "loyalty_points"),
    ("PATCH", "/products/{product}", {"_line_seq": 7}, "_line_seq"),
    ("PATCH", "/orders/{order}", {"_order_discount": "1.00"}, "_order_discount"),
    ("PATCH", "/orders/{order}", {"lines": [{"id": "l_1", "coupon": "X"}]}, "lines[0].coupon"),
]


@pytest.mark.parametrize("method,path,body,field", UNKNOWN_FIELDS)
def test_given_any_field_the_contract_lacks_when_written_through_the_api_then_400_unknown_field_and_nothing_changes(
        sandbox, api, method, path, body, field):
    order = discounted_order(sandbox)
    ids = {"customer": order["customer_id"], "product": order["lines"][0]["product_id"], "order": order["id"]}
    before = {resource: sandbox.all(resource) for resource in RESOURCES}
    queued = len(sandbox.outbox)
    response = call(api, method, path.format(**ids), json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "unknown_field" and field in response.json()["error"]["message"]
    assert {resource: sandbox.all(resource) for resource in RESOURCES} == before and len(sandbox.outbox) == queued


def test_given_order_when_lines_patched_by_id_then_kept_lines_merge_and_totals_recompute(sandbox, api):
    customer, mug, tee = seed_order_deps(sandbox)
    order = sandbox.create("orders", {"customer_id": customer["id"], "lines": [
        {"product_id": mug["id"], "quantity": "1"}, {"product_id": tee["id"], "quantity": "1"}]})
    patched = call(api, "PATCH", f"/orders/{order['id']}", json={
        "lines": [{"id": "l_2", "quantity": "2"}, {"product_id": mug["id"], "quantity": "1", "tax_rate": "0.10"}],
        "payment_status": "partially_paid", "amount_paid": "10.00"}).json()
    assert [(l["id"], l["product_id"], l["quantity"]) for l in patched["lines"]] == [
        ("l_2", tee["id"], "2"), ("l_3", mug["id"], "1")]
    assert (patched["subtotal"], patched["tax_total"], patched["total"]) == ("52.48", "1.25", "53.73")
    assert patched["payment_status"] == "partially_paid" and patched["version"] == 2


# -- the feed -------------------------------------------------------------------------------

def test_given_records_updated_between_page_reads_when_paging_then_no_record_is_skipped(sandbox, api):
    ids = [sandbox.create("customers", {"email": f"u{i}@example.com"})["id"] for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = call(api, "GET", "/customers", params=params).json()
        seen += [r["id"] for r in page["data"]]
        pages += 1
        if pages == 1:  # move a read record and an unread one to the end of the feed
            sandbox.update("customers", ids[0], {"first_name": "Moved"})
            sandbox.update("customers", ids[4], {"first_name": "Moved"})
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert set(seen) == set(ids)
    assert seen[:3] == ids[:3] and seen[-2:] == [ids[0], ids[4]]


def test_given_updated_after_when_listing_then_strictly_later_records_only(sandbox, api):
    first, second, third = (sandbox.create("products", {"name": n, "price": "1.00"}) for n in "ABC")
    data = call(api, "GET", "/products", params={"updated_after": second["updated_at"]}).json()["data"]
    assert [r["id"] for r in data] == [third["id"]]
    as_offset = second["updated_at"].replace("Z", "+00:00")
    assert [r["id"] for r in call(api, "GET", "/products", params={"updated_after": as_offset}).json()["data"]] \
        == [third["id"]]
    everything = call(api, "GET", "/products", params={"updated_after": "2000-01-01T00:00:00Z"}).json()
    assert [r["id"] for r in everything["data"]] == [first["id"], second["id"], third["id"]]
    assert everything["next_cursor"] is None


def test_given_exactly_limit_rows_when_listing_then_next_cursor_is_null(sandbox, api):
    for n in "AB":
        sandbox.create("products", {"name": n, "price": "1.00"})
    assert call(api, "GET", "/products", params={"limit": 2}).json()["next_cursor"] is None
    assert call(api, "GET", "/products", params={"limit": 1}).json()["next_cursor"] is not None


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "201"}, {"limit": "ten"},
                                    {"updated_after": "yesterday"}, {"updated_after": "2025-11-25T12:00:00"},
                                    {"cursor": "not-a-cursor"}])
def test_given_bad_feed_parameters_when_listing_then_400(api, params):
    response = call(api, "GET", "/customers", params=params)
    assert response.status_code == 400 and "error" in response.json()


def test_given_writes_across_resources_when_stamped_then_updated_at_strictly_increases(sandbox):
    customer, mug, tee = seed_order_deps(sandbox)
    stamps = [customer["updated_at"], mug["updated_at"], tee["updated_at"]]
    for i in range(20):
        stamps.append(sandbox.update("products", mug["id"], {"name": f"Mug {i}"})["updated_at"])
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_given_file_database_when_reopened_then_records_ids_and_clock_continue(tmp_path):
    path = str(tmp_path / "shop.db")
    first = WebshopSandbox(db_path=path)
    created = first.create("customers", {"email": "a@b.co"})
    first.store.close()
    second = WebshopSandbox(db_path=path)
    assert second.get("customers", created["id"]) == created
    later = second.create("customers", {"email": "c@d.co"})
    assert later["id"] == "c_1002" and later["updated_at"] > created["updated_at"]
    assert len(second.outbox) == 2


# -- webhooks -------------------------------------------------------------------------------

def verify(headers, body):
    parts = dict(item.split("=", 1) for item in headers["Webshop-Signature"].split(","))
    expected = hmac.new(SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300


def test_given_changes_when_webhooks_delivered_then_signed_thin_events_of_right_types(sandbox, api, receiver):
    sandbox.set_webhook_urls(receiver.urls())
    customer = call(api, "POST", "/customers", json={"email": "a@b.co"}).json()
    call(api, "PATCH", f"/customers/{customer['id']}", json={"first_name": "A"})
    product = sandbox.create("products", {"name": "Mug", "price": "2.00"})
    sandbox.delete("products", product["id"])
    results = sandbox.deliver_webhooks()
    assert [status for _, status in results] == [200, 200, 200, 200]
    assert sandbox.outbox == []
    assert [path for path, _, _ in receiver.hits] == ["/webhooks/customers"] * 2 + ["/webhooks/products"] * 2
    events = [json.loads(body) for _, _, body in receiver.hits]
    assert [e["type"] for e in events] == ["customer.created", "customer.updated", "product.created",
                                          "product.deleted"]
    assert all(verify(headers, body) for _, headers, body in receiver.hits)
    assert all(headers["Content-Type"] == "application/json" for _, headers, _ in receiver.hits)
    latest = sandbox.get("products", product["id"])
    assert events[3]["data"] == {"id": product["id"], "updated_at": latest["updated_at"]}
    assert set(events[3]) == {"id", "type", "occurred_at", "data"}
    assert receiver.hits[0][2] == json.dumps(events[0], separators=(",", ":")).encode()
    assert len({e["id"] for e in events}) == 4 and all(e["id"].startswith("dlv_") for e in events)


def test_given_failing_receiver_when_delivering_then_events_stay_pending_and_retry_keeps_id(sandbox, receiver):
    sandbox.set_webhook_urls(receiver.urls())
    receiver.status = 500
    sandbox.create("customers", {"email": "a@b.co"})
    pending = sandbox.outbox
    assert [status for _, status in sandbox.deliver_webhooks()] == [500]
    assert sandbox.outbox == pending
    receiver.status = 204
    assert [status for _, status in sandbox.deliver_webhooks()] == [204]
    assert sandbox.outbox == []
    ids = [json.loads(body)["id"] for _, _, body in receiver.hits]
    assert ids == [pending[0]["id"]] * 2


def test_given_unreachable_or_missing_url_when_delivering_then_events_stay_pending(sandbox, receiver):
    sandbox.create("customers", {"email": "a@b.co"})
    assert sandbox.deliver_webhooks() == []
    receiver.close()
    sandbox.set_webhook_urls(receiver.urls())
    assert [status for _, status in sandbox.deliver_webhooks()] == [None]
    assert len(sandbox.outbox) == 1


def test_given_auto_deliver_when_a_record_changes_then_webhook_arrives_without_a_call(receiver):
    sb = WebshopSandbox(webhook_secret=SECRET, webhook_urls=receiver.urls(), auto_deliver=True)
    try:
        sb.create("orders", {"currency": "USD"})
        deadline = time.time() + 3
        while not receiver.hits and time.time() < deadline:
            time.sleep(0.02)
    finally:
        sb.stop()
    assert [json.loads(body)["type"] for _, _, body in receiver.hits] == ["order.created"]


# -- the OpenAPI document -------------------------------------------------------------------

def properties(spec, schema):
    """Every property name a schema describes, following $ref and allOf."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= properties(spec, part)
    return names


def test_given_openapi_document_when_loaded_then_every_served_path_method_and_field_is_described(sandbox, api):
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    assert spec["openapi"].startswith("3.0")
    assert any(server["url"].endswith("/api/v1") for server in spec["servers"])
    for resource in RESOURCES:
        assert {"get", "post"} <= set(spec["paths"][f"/{resource}"])
        assert {"get", "patch", "delete"} <= set(spec["paths"][f"/{resource}/{{id}}"])
        assert call(api, "PUT", f"/{resource}").status_code == 405  # nothing else is served
        assert call(api, "PUT", f"/{resource}/x").status_code == 405
    customer, mug, _ = seed_order_deps(sandbox)
    order = sandbox.create("orders", {"customer_id": customer["id"], "lines": [{"product_id": mug["id"], "quantity": "1"}]})
    schemas = spec["components"]["schemas"]
    for name, record in (("Customer", customer), ("Product", mug), ("Order", order)):
        assert set(record) <= properties(spec, {"$ref": f"#/components/schemas/{name}"}), name
    assert set(order["lines"][0]) <= properties(spec, schemas["OrderLine"])
    assert set(sandbox.outbox[0]) == set(schemas["WebhookEvent"]["required"])
    assert "Webshop-Signature" in json.dumps(spec)
    assert {"code", "message"} == set(schemas["Error"]["properties"]["error"]["properties"])


# -- strictness the fuzzing asks for (tests/contract/test_sandbox_fuzz.py) ----------------------

def raw_request(sandbox, method, path, body=b"", headers=None):
    """One request over a plain socket (so nothing fixes up the headers); (status, JSON body)."""
    connection = http.client.HTTPConnection("127.0.0.1", sandbox.port, timeout=5)
    try:
        connection.putrequest(method, "/api/v1" + path, skip_accept_encoding=True)
        for name, value in {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json",
                            "Content-Length": str(len(body)), **(headers or {})}.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None
    finally:
        connection.close()


HOSTILE = [
    ("GET", "/customers?limit=%C2%B2", b"", {}, 400),                   # a superscript two is no limit
    ("PATCH", "/customers/c_1001", b'{"notes": "x"}', {"If-Match": "\u00b2"}, 400),
    ("POST", "/customers", b'{"email": "a@b.co"}', {"Content-Length": "ten"}, 400),
    ("POST", "/customers", b'{"email": "a@b.co", "notes": "\\ud800"}', {}, 400),  # a lone surrogate
    ("POST", "/products", '{"name": "A", "price": "\u0661\u0662.50"}'.encode(), {}, 422),  # Arabic-Indic digits
    ("POST", "/products", b'{"name": "A", "price": "12.50\\n"}', {}, 422),
    ("POST", "/orders", b'{"currency": "CAD", "order_date": "2026-11-20\\n"}', {}, 422),
    ("POST", "/orders", b'{"currency": "CAD", "lines": [{"id": {}, "product_id": "p_2001", "quantity": "1"}]}',
     {}, 422),
    ("POST", "/orders", b'{"currency": "CAD", "lines": [{"product_id": "p_2001", "quantity": "999999",'
                        b' "unit_price": "9999999999.00"}]}', {}, 422),  # totals past 12 integer digits
    ("POST", "/orders", b'{"currency": "CAD", "status": null}', {}, 422),
    ("POST", "/orders", b'{"currency": "CAD", "amount_paid": null}', {}, 422),
    ("POST", "/orders", b'{"currency": "CAD", "lines": null}', {}, 422),
    ("GET", "/customers?update_after=2026-01-01T00:00:00Z", b"", {}, 400),  # misspelt: not the whole feed
    ("GET", "/customers/c_1001?expand=orders", b"", {}, 400),
    ("TRACE", "/customers", b"", {}, 405),
    ("QUERY", "/customers/c_1001", b"", {}, 405),
]


@pytest.mark.parametrize("method,path,body,headers,status", HOSTILE)
def test_given_malformed_or_unknown_input_when_sent_then_a_4xx_in_contract_form_and_nothing_is_written(
        sandbox, method, path, body, headers, status):
    seed_order_deps(sandbox)
    before = {resource: sandbox.all(resource) for resource in RESOURCES}
    answered, payload = raw_request(sandbox, method, path, body, headers)
    assert answered == status, payload
    assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message"}
    assert {resource: sandbox.all(resource) for resource in RESOURCES} == before


def test_given_a_percent_encoded_id_when_fetched_then_the_record_is_found(sandbox, api):
    customer = sandbox.create("customers", {"id": "c/1 a", "email": "a@b.co"})
    assert call(api, "GET", "/customers/c%2F1%20a").json() == customer


# ------------------------------------------------------------------ resources it is given
def test_given_a_sandbox_given_a_fourth_resource_when_it_is_written_then_it_is_served_numbered_and_announced():
    from devstack.webshop_sandbox.schemas import CONTRACT_RESOURCES, Resource, Unique

    def normalize_room(data, lookup=None, previous=None):
        return {"name": data.get("name"), "code": data.get("code"), "number": data.get("number")}

    rooms = Resource("rooms", "room", "r", 501, ("name", "code", "number"), normalize_room,
                     unique=(Unique("code", "room code", "duplicate_code"),), numbered="number")
    sb = WebshopSandbox(db_path=":memory:", api_key=KEY, resources=CONTRACT_RESOURCES + (rooms,))
    sb.start(port=0)
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {KEY}"
        created = session.post(f"{sb.base_url}/rooms", json={"name": "Studio", "code": "S1"}, timeout=5)
        assert created.status_code == 201, created.text
        assert (created.json()["id"], created.json()["number"]) == ("r_501", "1001")
        taken = session.post(f"{sb.base_url}/rooms", json={"name": "Other", "code": "S1"}, timeout=5)
        assert (taken.status_code, taken.json()["error"]["code"]) == (409, "duplicate_code")
        assert "room code 'S1' is already used by r_501" in taken.json()["error"]["message"]
        page = session.get(f"{sb.base_url}/rooms", timeout=5).json()
        assert [r["name"] for r in page["data"]] == ["Studio"]
        assert [e["type"] for e in sb.outbox] == ["room.created"]
        assert session.get(f"{sb.base_url}/customers", timeout=5).status_code == 200  # the contract's three stay
        assert sb.resources == ("customers", "products", "orders", "rooms")
    finally:
        sb.stop()


def test_given_a_default_sandbox_when_an_unknown_resource_is_asked_for_then_404(api):
    assert call(api, "GET", "/rooms").status_code == 404
