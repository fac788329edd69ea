"""Payments and native invoice discounts in the Wave sandbox, over GraphQL like a real client:
what a merchant would see in Wave (amount paid, amount due, status, totals)."""
import pytest
import requests
from graphql import parse, validate

from devstack.wave_sandbox import WaveSandbox, load_wave_schema

TOKEN = "wave-sandbox-token"

INVOICE_FIELDS = """id status discountTotal { value } taxTotal { value }
  total { value } amountPaid { value } amountDue { value } modifiedAt
  discounts { __typename name createdAt modifiedAt
              ... on FixedInvoiceDiscount { amount } ... on PercentageInvoiceDiscount { percentage } }
  items { subtotal { value } total { value } taxes { amount { value } } }
  payments { id amount paymentDate paymentMethod memo account { id name } customer { id } }"""
PAYMENT_FIELDS = """id amount paymentDate paymentMethod memo exchangeRate createdAt modifiedAt
  account { id subtype { value } } customer { id } invoice { id status amountPaid { value } }"""
ERRORS = "didSucceed inputErrors { code message path }"
INVOICE_CREATE = """mutation($input: InvoiceCreateInput!) { invoiceCreate(input: $input) {
  %s invoice { %s } } }""" % (ERRORS, INVOICE_FIELDS)
INVOICE_PATCH = """mutation($input: InvoicePatchInput!) { invoicePatch(input: $input) {
  %s invoice { %s } } }""" % (ERRORS, INVOICE_FIELDS)
INVOICE_DELETE = """mutation($input: InvoiceDeleteInput!) { invoiceDelete(input: $input) { %s } }""" % ERRORS
INVOICE_APPROVE = """mutation($input: InvoiceApproveInput!) { invoiceApprove(input: $input) {
  %s invoice { id status } } }""" % ERRORS
INVOICE = """query($businessId: ID!, $id: ID!) { business(id: $businessId) { invoice(id: $id) { %s } } }""" % INVOICE_FIELDS
PAYMENT_CREATE = """mutation($input: InvoicePaymentCreateManualInput!) {
  invoicePaymentCreateManual(input: $input) { %s invoicePayment { %s } } }""" % (ERRORS, PAYMENT_FIELDS)
PAYMENT_PATCH = """mutation($input: InvoicePaymentPatchInput!) {
  invoicePaymentPatch(input: $input) { %s invoicePayment { %s } } }""" % (ERRORS, PAYMENT_FIELDS)
PAYMENT_DELETE = """mutation($input: InvoicePaymentDeleteInput!) {
  invoicePaymentDelete(input: $input) { %s } }""" % ERRORS
PAYMENT = """query($businessId: ID!, $id: ID!) { business(id: $businessId) {
  invoicePayment(id: $id) { %s } } }""" % PAYMENT_FIELDS
CASH_ACCOUNTS = """query($businessId: ID!) { business(id: $businessId) {
  accounts(subtypes: [CASH_AND_BANK]) { edges { node { id name subtype { value } } } } } }"""
DOCUMENTS = (INVOICE_CREATE, INVOICE_PATCH, INVOICE_DELETE, INVOICE_APPROVE, INVOICE, PAYMENT_CREATE,
             PAYMENT_PATCH, PAYMENT_DELETE, PAYMENT, CASH_ACCOUNTS)


@pytest.fixture(scope="module")
def server():
    sb = WaveSandbox(token=TOKEN)
    sb.start(port=0)
    yield sb
    sb.stop()


@pytest.fixture()
def sb(server):
    server.reset()
    return server


def gql(sb, query, variables=None):
    resp = requests.post(sb.url, json={"query": query, "variables": variables or {}},
                         headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert resp.status_code == 200, resp.text
    return resp.json()


def data(sb, query, variables=None):
    body = gql(sb, query, variables)
    assert "errors" not in body, body
    return body["data"]


def cash_account(sb) -> str:
    edges = data(sb, CASH_ACCOUNTS, {"businessId": sb.business_id})["business"]["accounts"]["edges"]
    return edges[0]["node"]["id"]


def create_invoice(sb, items, discounts=None, approve=True) -> dict:
    """An invoice made over GraphQL from (unit price, tax abbreviation or None) pairs."""
    taxes = {t["abbreviation"]: t["id"] for t in sb.sales_taxes()}
    customer = sb.create_customer(name="Buyer")
    lines = []
    for price, tax in items:
        product = sb.create_product(name=f"Item {price}", unitPrice=price)
        lines.append({"productId": product["id"], "quantity": "1",
                      "taxes": [{"salesTaxId": taxes[tax]}] if tax else []})
    given = {"businessId": sb.business_id, "customerId": customer["id"], "items": lines}
    if discounts is not None:
        given["discounts"] = discounts
    out = data(sb, INVOICE_CREATE, {"input": given})["invoiceCreate"]
    assert out["didSucceed"], out
    if approve:
        assert data(sb, INVOICE_APPROVE, {"input": {"invoiceId": out["invoice"]["id"]}})["invoiceApprove"]["didSucceed"]
    return out["invoice"]


def invoice(sb, invoice_id) -> dict:
    return data(sb, INVOICE, {"businessId": sb.business_id, "id": invoice_id})["business"]["invoice"]


def pay(sb, invoice_id, amount, **fields) -> dict:
    given = {"invoiceId": invoice_id, "paymentAccountId": cash_account(sb), "amount": amount,
             "paymentDate": "2026-12-01", "paymentMethod": "CHEQUE", **fields}
    return data(sb, PAYMENT_CREATE, {"input": given})["invoicePaymentCreateManual"]


def money(inv) -> tuple:
    return inv["status"], inv["amountPaid"]["value"], inv["amountDue"]["value"]


def test_given_the_documents_when_validated_against_waves_schema_then_valid():
    schema = load_wave_schema()
    for document in DOCUMENTS:
        assert validate(schema, parse(document)) == []


# ----- payments ---------------------------------------------------------------------------------
def test_given_the_chart_of_accounts_when_filtered_by_cash_and_bank_then_a_payment_account_is_listed(sb):
    edges = data(sb, CASH_ACCOUNTS, {"businessId": sb.business_id})["business"]["accounts"]["edges"]
    assert [e["node"]["subtype"]["value"] for e in edges] == ["CASH_AND_BANK"]


def test_given_a_draft_invoice_when_a_payment_is_recorded_then_refused_and_the_invoice_stays_unpaid(sb):
    draft = create_invoice(sb, [("100.00", "HST")], approve=False)
    out = pay(sb, draft["id"], "10.00")
    assert out["didSucceed"] is False and out["invoicePayment"] is None
    assert out["inputErrors"][0]["code"] == "INVALID_STATUS"
    assert money(invoice(sb, draft["id"])) == ("DRAFT", "0.00", "113.00")
    assert invoice(sb, draft["id"])["payments"] == []


def test_given_an_approved_invoice_when_paid_in_parts_then_it_is_partial_then_paid(sb):
    inv = create_invoice(sb, [("100.00", "HST")])
    first = pay(sb, inv["id"], "13.00", memo="Order 1001")
    assert first["didSucceed"], first
    payment = first["invoicePayment"]
    assert (payment["amount"], payment["paymentMethod"], payment["memo"], payment["paymentDate"]) == (
        "13", "CHEQUE", "Order 1001", "2026-12-01")
    assert payment["account"]["subtype"]["value"] == "CASH_AND_BANK"
    assert payment["invoice"] == {"id": inv["id"], "status": "PARTIAL", "amountPaid": {"value": "13.00"}}
    assert money(invoice(sb, inv["id"])) == ("PARTIAL", "13.00", "100.00")
    assert pay(sb, inv["id"], "100")["didSucceed"]
    paid = invoice(sb, inv["id"])
    assert money(paid) == ("PAID", "113.00", "0.00")
    assert [p["amount"] for p in paid["payments"]] == ["13", "100"]


def test_given_a_paid_invoice_when_paid_again_then_it_is_overpaid_with_a_negative_amount_due(sb):
    inv = create_invoice(sb, [("100.00", "HST")])
    pay(sb, inv["id"], "113.00")
    assert pay(sb, inv["id"], "7.00")["didSucceed"]
    assert money(invoice(sb, inv["id"])) == ("OVERPAID", "120.00", "-7.00")


def test_given_payments_when_patched_and_deleted_then_the_status_moves_back(sb):
    inv = create_invoice(sb, [("100.00", "HST")])
    payment_id = pay(sb, inv["id"], "150.00")["invoicePayment"]["id"]
    assert money(invoice(sb, inv["id"])) == ("OVERPAID", "150.00", "-37.00")
    out = data(sb, PAYMENT_PATCH, {"input": {"id": payment_id, "amount": "113.00"}})["invoicePaymentPatch"]
    assert out["didSucceed"] and out["invoicePayment"]["amount"] == "113"
    assert money(invoice(sb, inv["id"])) == ("PAID", "113.00", "0.00")
    data(sb, PAYMENT_PATCH, {"input": {"id": payment_id, "amount": "50", "memo": "cheque 17"}})
    assert money(invoice(sb, inv["id"])) == ("PARTIAL", "50.00", "63.00")
    out = data(sb, PAYMENT_DELETE, {"input": {"id": payment_id}})["invoicePaymentDelete"]
    assert out == {"didSucceed": True, "inputErrors": None}
    after = invoice(sb, inv["id"])
    assert money(after) == ("UNPAID", "0.00", "113.00") and after["payments"] == []


def test_given_a_sent_invoice_when_its_only_payment_is_deleted_then_it_is_sent_again(sb):
    inv = create_invoice(sb, [("100.00", None)])
    sb.mark_invoice_sent(inv["id"])
    payment_id = pay(sb, inv["id"], "100")["invoicePayment"]["id"]
    assert invoice(sb, inv["id"])["status"] == "PAID"
    data(sb, PAYMENT_DELETE, {"input": {"id": payment_id}})
    assert money(invoice(sb, inv["id"])) == ("SENT", "0.00", "100.00")


def test_given_a_payment_when_recorded_then_the_invoice_shows_as_modified(sb):
    inv = create_invoice(sb, [("100.00", None)])
    before = invoice(sb, inv["id"])["modifiedAt"]
    pay(sb, inv["id"], "10")
    assert invoice(sb, inv["id"])["modifiedAt"] > before


def test_given_a_non_cash_account_or_no_amount_when_a_payment_is_recorded_then_refused_and_nothing_paid(sb):
    inv = create_invoice(sb, [("100.00", None)])
    sales = next(a["id"] for a in sb.accounts() if a["subtype"]["value"] == "INCOME")
    for fields in ({"paymentAccountId": sales}, {"amount": "0"}, {"amount": "-5"}):
        out = pay(sb, inv["id"], fields.pop("amount", "10"), **fields)
        assert out["didSucceed"] is False and out["invoicePayment"] is None, fields
    assert money(invoice(sb, inv["id"])) == ("UNPAID", "0.00", "100.00")


def test_given_a_payment_when_looked_up_by_id_then_found_and_an_unknown_id_is_not_found(sb):
    inv = create_invoice(sb, [("100.00", None)])
    payment = pay(sb, inv["id"], "25.50")["invoicePayment"]
    found = data(sb, PAYMENT, {"businessId": sb.business_id, "id": payment["id"]})
    assert found["business"]["invoicePayment"]["amount"] == "25.5"
    assert found["business"]["invoicePayment"]["invoice"]["id"] == inv["id"]
    missing = gql(sb, PAYMENT, {"businessId": sb.business_id, "id": "SW52b2ljZVBheW1lbnQ6bm9uZQ=="})
    assert missing["data"] == {"business": {"invoicePayment": None}}
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert missing["errors"][0]["path"] == ["business", "invoicePayment"]


def test_given_an_invoice_with_a_payment_when_deleted_then_refused_until_the_payment_is_gone(sb):
    inv = create_invoice(sb, [("100.00", None)])
    payment_id = pay(sb, inv["id"], "1")["invoicePayment"]["id"]
    out = data(sb, INVOICE_DELETE, {"input": {"invoiceId": inv["id"]}})["invoiceDelete"]
    assert out["didSucceed"] is False and "payments" in out["inputErrors"][0]["message"]
    assert invoice(sb, inv["id"])["amountPaid"]["value"] == "1.00"
    data(sb, PAYMENT_DELETE, {"input": {"id": payment_id}})
    assert data(sb, INVOICE_DELETE, {"input": {"invoiceId": inv["id"]}})["invoiceDelete"]["didSucceed"]
    assert sb.invoices() == []


def test_given_an_overpaid_invoice_when_patched_then_refused(sb):
    inv = create_invoice(sb, [("100.00", None)])
    pay(sb, inv["id"], "101")
    out = data(sb, INVOICE_PATCH, {"input": {"id": inv["id"], "memo": "late edit"}})["invoicePatch"]
    assert out["didSucceed"] is False and out["inputErrors"][0]["code"] == "INVOICE_PAID"


def test_given_the_merchants_cheque_recorded_in_waves_screens_when_more_than_due_then_overpaid(sb):
    inv = create_invoice(sb, [("100.00", "GST")])
    sb.record_payment(inv["id"], "105.00")
    after = sb.store.record_payment(inv["id"], "20", method="CHEQUE", memo="cheque 88")
    assert after["status"] == "OVERPAID"
    seen = invoice(sb, inv["id"])
    assert money(seen) == ("OVERPAID", "125.00", "-20.00")
    assert [(p["amount"], p["paymentMethod"], p["memo"]) for p in seen["payments"]] == [
        ("105", "CASH", None), ("20", "CHEQUE", "cheque 88")]


# ----- native discounts -------------------------------------------------------------------------
def test_given_a_fixed_discount_over_lines_with_different_taxes_when_created_then_spread_by_subtotal_before_tax(sb):
    # 10.00 over 100.00 (HST 13%) and 50.00 (GST 5%): 3.33 on the smaller line (50/150 of 10,
    # to the cent), the rest, 6.67, on the largest; taxes 93.33 x 13% = 12.13 and 46.67 x 5% = 2.33
    inv = create_invoice(sb, [("100.00", "HST"), ("50.00", "GST")],
                         discounts=[{"discountType": "FIXED", "amount": "10", "name": "Loyalty"}])
    assert (inv["discountTotal"]["value"], inv["taxTotal"]["value"], inv["total"]["value"]) == (
        "10.00", "14.46", "154.46")
    assert [(i["subtotal"]["value"], i["taxes"][0]["amount"]["value"], i["total"]["value"])
            for i in inv["items"]] == [("100.00", "12.13", "105.46"), ("50.00", "2.33", "49.00")]
    assert [{k: d[k] for k in ("__typename", "name", "amount")} for d in inv["discounts"]] == [
        {"__typename": "FixedInvoiceDiscount", "name": "Loyalty", "amount": "10"}]
    assert inv["amountDue"]["value"] == "154.46"


def test_given_a_percentage_discount_when_created_then_taken_off_the_subtotal_before_tax(sb):
    inv = create_invoice(sb, [("100.00", "HST"), ("50.00", "GST")],
                         discounts=[{"discountType": "PERCENTAGE", "percentage": "10"}])
    # 15.00 off: 10.00 and 5.00; taxes 90 x 13% = 11.70 and 45 x 5% = 2.25
    assert (inv["discountTotal"]["value"], inv["taxTotal"]["value"], inv["total"]["value"]) == (
        "15.00", "13.95", "148.95")
    assert inv["discounts"][0]["__typename"] == "PercentageInvoiceDiscount"
    assert inv["discounts"][0]["percentage"] == "10"


def test_given_a_discounted_invoice_when_patched_then_the_discount_changes_or_goes_and_totals_follow(sb):
    inv = create_invoice(sb, [("100.00", "HST")], discounts=[{"discountType": "FIXED", "amount": "10"}],
                         approve=False)
    assert inv["total"]["value"] == "101.70"  # 90 + 11.70
    changed = data(sb, INVOICE_PATCH, {"input": {"id": inv["id"], "discounts": [
        {"discountType": "FIXED", "amount": "20"}]}})["invoicePatch"]["invoice"]
    assert (changed["discountTotal"]["value"], changed["total"]["value"]) == ("20.00", "90.40")
    assert changed["discounts"][0]["createdAt"] == inv["discounts"][0]["createdAt"]
    assert changed["discounts"][0]["modifiedAt"] > inv["discounts"][0]["modifiedAt"]
    kept = data(sb, INVOICE_PATCH, {"input": {"id": inv["id"], "memo": "note"}})["invoicePatch"]["invoice"]
    assert kept["total"]["value"] == "90.40" and len(kept["discounts"]) == 1
    gone = data(sb, INVOICE_PATCH, {"input": {"id": inv["id"], "discounts": []}})["invoicePatch"]["invoice"]
    assert (gone["discountTotal"]["value"], gone["total"]["value"], gone["discounts"]) == ("0.00", "113.00", [])


def test_given_two_discounts_or_one_above_the_subtotal_when_created_then_refused(sb):
    fixed = {"discountType": "FIXED", "amount": "1"}
    for discounts in ([fixed, fixed], [{"discountType": "FIXED", "amount": "100.01"}],
                      [{"discountType": "PERCENTAGE", "percentage": "101"}],
                      [{"discountType": "FIXED"}]):
        customer = sb.create_customer(name="Buyer")
        product = sb.create_product(name="Thing", unitPrice="100")
        out = gql(sb, INVOICE_CREATE, {"input": {
            "businessId": sb.business_id, "customerId": customer["id"],
            "items": [{"productId": product["id"]}], "discounts": discounts}})["data"]["invoiceCreate"]
        assert out["didSucceed"] is False and out["invoice"] is None, discounts
        assert out["inputErrors"][0]["path"][:2] == ["input", "discounts"]
    assert sb.invoices() == []


def test_given_a_discounted_invoice_when_paid_its_total_then_it_is_paid(sb):
    inv = create_invoice(sb, [("100.00", "HST"), ("50.00", "GST")],
                         discounts=[{"discountType": "FIXED", "amount": "10"}])
    pay(sb, inv["id"], "154.46")
    assert money(invoice(sb, inv["id"])) == ("PAID", "154.46", "0.00")
