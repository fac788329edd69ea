"""Behaviour of the local Wave GraphQL sandbox, exercised over HTTP like a real client."""
import time

import pytest
import requests
from graphql import parse, validate

from devstack.wave_sandbox import WaveSandbox, load_wave_schema

TOKEN = "wave-sandbox-token"

CUSTOMER_FIELDS = """id name email firstName displayId internalNotes createdAt modifiedAt
  currency { code }
  address { addressLine1 city postalCode province { code name } country { code name } }
  shippingDetails { name phone address { city province { code } country { code } } }"""
LIST_CUSTOMERS = """
query ListCustomers($businessId: ID!, $page: Int!, $pageSize: Int!, $sort: [CustomerSort!]!,
                    $modifiedAtAfter: DateTime, $email: String) {
  business(id: $businessId) {
    customers(page: $page, pageSize: $pageSize, sort: $sort,
              modifiedAtAfter: $modifiedAtAfter, email: $email) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { %s } }
    }
  }
}""" % CUSTOMER_FIELDS
CREATE_CUSTOMER = """
mutation CreateCustomer($input: CustomerCreateInput!) {
  customerCreate(input: $input) {
    didSucceed inputErrors { code message path } customer { %s }
  }
}""" % CUSTOMER_FIELDS
PATCH_CUSTOMER = """
mutation PatchCustomer($input: CustomerPatchInput!) {
  customerPatch(input: $input) {
    didSucceed inputErrors { code message path } customer { %s }
  }
}""" % CUSTOMER_FIELDS
PRODUCT_CREATE = """mutation($input: ProductCreateInput!) { productCreate(input: $input) {
  didSucceed inputErrors { code message path } product { id name unitPrice isArchived } } }"""
PRODUCT_ARCHIVE = """mutation($input: ProductArchiveInput!) { productArchive(input: $input) {
  didSucceed product { id isArchived } } }"""
LIST_PRODUCTS = """query($b: ID!, $archived: Boolean) { business(id: $b) {
  products(isArchived: $archived) { pageInfo { totalCount } edges { node { id name } } } } }"""
INVOICE_FIELDS = """id invoiceNumber status invoiceDate dueDate customer { id } currency { code }
  items { product { id } description quantity unitPrice subtotal { value } total { value }
          taxes { salesTax { id } amount { value raw } } }
  taxTotal { value raw } total { value raw currency { code } } amountDue { value }
  amountPaid { value } createdAt modifiedAt"""
INVOICE_CREATE = """mutation($input: InvoiceCreateInput!) { invoiceCreate(input: $input) {
  didSucceed inputErrors { code message path } invoice { %s } } }""" % INVOICE_FIELDS
INVOICE_PATCH = """mutation($input: InvoicePatchInput!) { invoicePatch(input: $input) {
  didSucceed inputErrors { code message path } invoice { %s } } }""" % INVOICE_FIELDS


@pytest.fixture(scope="module")
def server():
    sb = WaveSandbox(token=TOKEN)
    sb.start(port=0)
    yield sb
    sb.stop()


@pytest.fixture()
def sb(server):
    """A fresh business per test on the one running server."""
    server.reset()
    return server


def gql(sb, query, variables=None, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(sb.url, json={"query": query, "variables": variables or {}},
                         headers=headers, timeout=5)


def data(sb, query, variables=None):
    resp = gql(sb, query, variables)
    body = resp.json()
    assert resp.status_code == 200 and "errors" not in body, body
    return body["data"]


def list_customers(sb, **args):
    variables = {"businessId": sb.business_id, "page": 1, "pageSize": 45,
                 "sort": ["CREATED_AT_DESC"], **args}
    return data(sb, LIST_CUSTOMERS, variables)["business"]["customers"]


def test_given_client_operations_when_validated_against_schema_then_valid():
    schema = load_wave_schema()
    for op in (LIST_CUSTOMERS, CREATE_CUSTOMER, PATCH_CUSTOMER, PRODUCT_CREATE, LIST_PRODUCTS,
               INVOICE_CREATE, INVOICE_PATCH):
        assert validate(schema, parse(op)) == []


def test_given_wrong_or_missing_token_when_querying_then_401_unauthenticated(sb):
    for token in ("nope", None):
        resp = gql(sb, "{ business { id } }", token=token)
        assert resp.status_code == 401
        assert resp.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert sb.requests == []


def test_given_unknown_field_when_querying_then_rejected_with_errors(sb):
    resp = gql(sb, "{ business { customers { edges { node { id sku } } } } }")
    assert resp.status_code == 400
    assert "Cannot query field 'sku'" in resp.json()["errors"][0]["message"]


def test_given_customers_when_created_and_patched_then_listed_by_modified_at(sb):
    created = []
    for i in range(3):
        out = data(sb, CREATE_CUSTOMER, {"input": {
            "businessId": sb.business_id, "name": f"Cust {i}", "email": f"c{i}@x.com",
            "address": {"addressLine1": "1 Main", "city": "Ottawa", "provinceCode": "CA-ON",
                        "countryCode": "CA", "postalCode": "K1A 0A1"}}})["customerCreate"]
        assert out["didSucceed"] and out["inputErrors"] is None
        created.append(out["customer"])
        time.sleep(0.002)
    assert created[0]["address"]["province"] == {"code": "CA-ON", "name": "Ontario"}
    assert created[0]["currency"] == {"code": "CAD"}
    watermark = created[-1]["modifiedAt"]
    time.sleep(0.002)
    patched = data(sb, PATCH_CUSTOMER, {"input": {"id": created[0]["id"], "firstName": "Ann",
                                                  "shippingDetails": {"name": "Dock"}}})
    customer = patched["customerPatch"]["customer"]
    assert customer["name"] == "Cust 0" and customer["firstName"] == "Ann"
    assert customer["address"]["city"] == "Ottawa"
    assert customer["shippingDetails"] == {"name": "Dock", "phone": None, "address": None}
    assert customer["modifiedAt"] > created[0]["modifiedAt"]

    page1 = list_customers(sb, sort=["MODIFIED_AT_ASC"], pageSize=2)
    assert page1["pageInfo"] == {"currentPage": 1, "totalPages": 2, "totalCount": 3}
    page2 = list_customers(sb, sort=["MODIFIED_AT_ASC"], pageSize=2, page=2)
    ids = [e["node"]["id"] for e in page1["edges"] + page2["edges"]]
    assert ids == [created[1]["id"], created[2]["id"], created[0]["id"]]
    changed = list_customers(sb, sort=["MODIFIED_AT_ASC"], modifiedAtAfter=watermark)
    assert [e["node"]["id"] for e in changed["edges"]] == [created[0]["id"]]


def test_given_customers_when_filtering_by_email_then_case_insensitive_exact(sb):
    sb.create_customer(name="A", email="Shop@Example.com")
    sb.create_customer(name="B", email="shop@example.com.au")
    found = list_customers(sb, email="shop@example.COM")
    assert [e["node"]["name"] for e in found["edges"]] == ["A"]


def test_given_bad_input_when_mutating_then_input_errors_and_state_unchanged(sb):
    cust = sb.create_customer(name="Keep")
    bad = [(CREATE_CUSTOMER, {"businessId": sb.business_id, "name": "  "}),
           (CREATE_CUSTOMER, {"businessId": sb.business_id, "name": "X",
                              "address": {"provinceCode": "ON", "countryCode": "CA"}}),
           (PATCH_CUSTOMER, {"id": cust["id"], "name": ""}),
           (PRODUCT_CREATE, {"businessId": sb.business_id, "name": "P", "unitPrice": "-1"}),
           (INVOICE_CREATE, {"businessId": sb.business_id, "customerId": "nope"})]
    for query, variables in bad:
        resp = gql(sb, query, {"input": variables})
        out = next(iter(resp.json()["data"].values()))
        assert resp.status_code == 200 and out["didSucceed"] is False, out
        assert out["inputErrors"][0]["message"] and out["inputErrors"][0]["path"][0] == "input"
    assert sb.customers() == [cust] and sb.products() == [] and sb.invoices() == []
    resp = gql(sb, LIST_CUSTOMERS, {"businessId": sb.business_id, "page": 1, "pageSize": 0,
                                    "sort": ["NAME_ASC"]})
    assert resp.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_given_wave_s_page_limit_when_a_list_asks_for_more_then_it_is_refused_or_clamped_as_switched(sb):
    for i in range(205):
        sb.create_customer(name=f"C{i:03}")
    variables = {"businessId": sb.business_id, "page": 1, "sort": ["NAME_ASC"]}
    assert len(list_customers(sb, pageSize=200)["edges"]) == 200  # the maximum, by default
    refused = gql(sb, LIST_CUSTOMERS, {**variables, "pageSize": 201}).json()
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "200" in refused["errors"][0]["message"]

    sb.set_page_size_limit(200, over="clamp")
    clamped = list_customers(sb, pageSize=500)
    assert len(clamped["edges"]) == 200 and clamped["pageInfo"]["totalPages"] == 2
    sb.set_page_size_limit(None)
    assert len(list_customers(sb, pageSize=500)["edges"]) == 205
    sb.reset()
    assert gql(sb, LIST_CUSTOMERS, {**variables, "pageSize": 201}).json()["errors"]  # reset restores the limit


def test_given_archived_product_when_listing_then_hidden_unless_asked(sb):
    made = data(sb, PRODUCT_CREATE, {"input": {"businessId": sb.business_id, "name": "Mug",
                                               "unitPrice": "12.123456"}})["productCreate"]
    assert made["product"]["unitPrice"] == "12.12346"
    keep = sb.create_product(name="Cup", unitPrice="3")
    archived = data(sb, PRODUCT_ARCHIVE, {"input": {"id": made["product"]["id"]}})
    assert archived["productArchive"]["product"]["isArchived"] is True

    def names(archived_flag):
        variables = {"b": sb.business_id, "archived": archived_flag}
        edges = data(sb, LIST_PRODUCTS, variables)["business"]["products"]["edges"]
        return sorted(e["node"]["name"] for e in edges)
    assert data(sb, "query($b: ID!) { business(id: $b) { products { edges { node { id } } } } }",
                {"b": sb.business_id})["business"]["products"]["edges"] == [
        {"node": {"id": keep["id"]}}]
    assert names(True) == ["Mug"]
    assert names(None) == ["Cup", "Mug"]


def _invoice_setup(sb):
    taxes = {t["abbreviation"]: t["id"] for t in sb.sales_taxes()}
    cust = sb.create_customer(name="Buyer")
    prod = sb.create_product(name="Widget", unitPrice="9.99", description="A widget")
    return taxes, cust, prod


def test_given_items_and_taxes_when_invoice_created_then_totals_exact(sb):
    taxes, cust, prod = _invoice_setup(sb)
    sb.create_invoice(customerId=cust["id"], invoiceNumber="41")
    inv = data(sb, INVOICE_CREATE, {"input": {
        "businessId": sb.business_id, "customerId": cust["id"], "invoiceDate": "2026-01-10",
        "items": [{"productId": prod["id"], "quantity": "3", "taxes": [{"salesTaxId": taxes["HST"]}]},
                  {"productId": prod["id"], "quantity": "1", "unitPrice": "0.10",
                   "description": "Sticker", "taxes": []}]}})["invoiceCreate"]["invoice"]
    assert inv["invoiceNumber"] == "42" and inv["status"] == "DRAFT"
    assert (inv["invoiceDate"], inv["dueDate"]) == ("2026-01-10", "2026-02-09")
    line = inv["items"][0]
    assert (line["quantity"], line["unitPrice"], line["description"]) == ("3", "9.99", "A widget")
    assert line["subtotal"]["value"] == "29.97" and line["taxes"][0]["amount"]["value"] == "3.90"
    assert inv["items"][1]["total"]["value"] == "0.10"
    assert inv["taxTotal"] == {"value": "3.90", "raw": 390}
    assert inv["total"] == {"value": "33.97", "raw": 3397, "currency": {"code": "CAD"}}
    assert inv["amountDue"]["value"] == "33.97" and inv["amountPaid"]["value"] == "0.00"
    dup = gql(sb, INVOICE_CREATE, {"input": {"businessId": sb.business_id,
                                             "customerId": cust["id"], "invoiceNumber": "42"}})
    assert dup.json()["data"]["invoiceCreate"]["inputErrors"][0]["code"] == "DUPLICATE"


def test_given_invoice_when_patched_with_items_then_lines_replaced(sb):
    taxes, cust, prod = _invoice_setup(sb)
    inv = sb.create_invoice(customerId=cust["id"], items=[{"productId": prod["id"]}] * 2)
    out = data(sb, INVOICE_PATCH, {"input": {"id": inv["id"], "items": [
        {"productId": prod["id"], "quantity": "2", "taxes": [{"salesTaxId": taxes["GST"]}]}]}})
    patched = out["invoicePatch"]["invoice"]
    assert len(patched["items"]) == 1 and patched["total"]["value"] == "20.98"
    assert patched["invoiceNumber"] == inv["invoiceNumber"]
    assert patched["modifiedAt"] >= inv["modifiedAt"]


def test_given_paid_invoice_when_patched_then_refused_and_unchanged(sb):
    _, cust, prod = _invoice_setup(sb)
    inv = sb.create_invoice(customerId=cust["id"], items=[{"productId": prod["id"]}])
    sb.approve_invoice(inv["id"])
    paid = sb.record_payment(inv["id"], amount="9.99")
    assert paid["status"] == "PAID" and paid["amountDue"]["value"] == "0.00"
    out = data(sb, INVOICE_PATCH, {"input": {"id": inv["id"], "memo": "x"}})["invoicePatch"]
    assert out["didSucceed"] is False and "paid" in out["inputErrors"][0]["message"].lower()
    assert sb.get_invoice(inv["id"]) == paid


def test_given_an_approved_invoice_when_paid_more_than_its_total_then_it_is_overpaid_with_a_negative_amount_due(sb):
    _, cust, prod = _invoice_setup(sb)
    inv = sb.create_invoice(customerId=cust["id"], items=[{"productId": prod["id"]}])
    sb.approve_invoice(inv["id"])
    sb.record_payment(inv["id"], amount="5.00")
    over = sb.record_payment(inv["id"], amount="10.00")
    assert over["status"] == "OVERPAID"
    assert (over["amountPaid"]["value"], over["amountDue"]["value"]) == ("15.00", "-5.01")
    out = data(sb, INVOICE_PATCH, {"input": {"id": inv["id"], "memo": "x"}})["invoicePatch"]
    assert out["didSucceed"] is False


def test_given_injected_429_when_client_retries_after_then_succeeds(sb):
    sb.inject_fault(status=429, count=1, retry_after=1)
    first = gql(sb, "{ business { id } }")
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    second = gql(sb, "{ business { id } }")
    assert second.status_code == 200
    assert second.json()["data"]["business"]["id"] == sb.business_id
    assert [r["status"] for r in sb.requests] == [429, 200]
    assert sb.requests[1] == {"kind": "query", "fields": ["business"], "status": 200,
                              "operationName": None}


def test_given_injected_delay_when_client_times_out_then_next_request_is_fast(sb):
    sb.inject_fault(delay=0.5)
    with pytest.raises(requests.Timeout):
        requests.post(sb.url, json={"query": "{ business { id } }"}, timeout=0.2,
                      headers={"Authorization": f"Bearer {TOKEN}"})
    assert gql(sb, "{ business { id } }").status_code == 200


def test_given_invalid_json_when_posting_then_400(sb):
    resp = requests.post(sb.url, data=b"{not json", timeout=5,
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 400 and resp.json()["errors"]


def test_given_rate_limit_when_exceeded_then_429(sb):
    sb.set_rate_limit(per_second=2)
    statuses = [gql(sb, "{ business { id } }").status_code for _ in range(4)]
    assert statuses[:2] == [200, 200] and 429 in statuses[2:]


def test_given_writes_when_repeated_then_modified_at_never_goes_backwards(sb):
    cust = sb.create_customer(name="T")
    stamps = [cust["modifiedAt"]]
    for i in range(20):
        stamps.append(sb.update_customer(cust["id"], phone=str(i))["modifiedAt"])
    assert stamps == sorted(stamps)
    assert all(len(s) == 24 and s.endswith("Z") for s in stamps)
    time.sleep(0.002)
    assert sb.update_customer(cust["id"], phone="x")["modifiedAt"] > stamps[-1]


# ----- the live API's answers (issue 11): missing records, refused tokens, server errors -----
GET_TWO_CUSTOMERS = """query($b: ID!, $a: ID!, $c: ID!) { business(id: $b) {
  r0: customer(id: $a) { id name } r1: customer(id: $c) { id name } } }"""


def test_given_a_deleted_customer_when_looked_up_by_id_beside_another_then_not_found_for_it_and_the_other_answers(sb):
    kept, gone = sb.create_customer(name="Kept"), sb.create_customer(name="Gone")
    sb.delete_customer(gone["id"])
    body = gql(sb, GET_TWO_CUSTOMERS, {"b": sb.business_id, "a": gone["id"], "c": kept["id"]}).json()
    assert body["data"]["business"] == {"r0": None, "r1": {"id": kept["id"], "name": "Kept"}}
    assert [(e["extensions"]["code"], e["path"]) for e in body["errors"]] == [("NOT_FOUND", ["business", "r0"])]


def test_given_the_null_switch_when_a_deleted_record_is_looked_up_then_plain_null_without_errors(sb):
    gone = sb.create_customer(name="Gone")
    sb.delete_customer(gone["id"])
    sb.set_missing_by_id("null")
    try:
        body = gql(sb, GET_TWO_CUSTOMERS, {"b": sb.business_id, "a": gone["id"], "c": gone["id"]}).json()
    finally:
        sb.set_missing_by_id("not_found")
    assert body == {"data": {"business": {"r0": None, "r1": None}}}


@pytest.mark.parametrize("status", [401, 403, 200])
def test_given_a_revoked_token_when_querying_then_unauthenticated_until_restored(sb, status):
    sb.revoke_token(status)
    refused = gql(sb, "{ business { id } }")
    assert refused.status_code == status
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert refused.json().get("data") is None and sb.refused_tokens == 1 and sb.requests == []
    sb.restore_token()
    assert gql(sb, "{ business { id } }").status_code == 200


def test_given_a_rotated_token_when_querying_then_the_old_one_is_refused_and_the_new_one_works(sb):
    sb.rotate_token("wave-rotated-token")
    try:
        assert gql(sb, "{ business { id } }").status_code == 401
        assert gql(sb, "{ business { id } }", token="wave-rotated-token").status_code == 200
    finally:
        sb.rotate_token(TOKEN)


def test_given_an_injected_graphql_error_when_querying_then_it_answers_inside_a_200_once(sb):
    sb.inject_graphql_error("INTERNAL_SERVER_ERROR")
    first, second = gql(sb, "{ business { id } }"), gql(sb, "{ business { id } }")
    assert first.status_code == 200 and first.json()["data"] is None
    assert first.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert second.status_code == 200 and "errors" not in second.json()


@pytest.mark.parametrize("retry_after, header", [(None, None), (1, "1")])
def test_given_a_concurrency_cap_of_two_when_five_requests_arrive_at_once_then_three_answer_429(
        sb, retry_after, header):
    from concurrent.futures import ThreadPoolExecutor

    deadline = time.monotonic() + 5
    while sb.in_flight and time.monotonic() < deadline:  # an earlier test's timed-out request
        time.sleep(0.05)
    sb.set_concurrency_cap(2, retry_after=retry_after)
    sb.set_latency(0.3)  # the first two are still being served when the others arrive
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: gql(sb, "{ business { id } }"), range(5)))

    assert sorted(a.status_code for a in answers) == [200, 200, 429, 429, 429]
    assert {a.headers.get("Retry-After") for a in answers if a.status_code == 429} == {header}
    assert sb.over_cap_answers == 3 and sb.peak_in_flight == 2
    sb.set_latency(0)
    assert [gql(sb, "{ business { id } }").status_code for _ in range(3)] == [200, 200, 200]  # one at a time passes
