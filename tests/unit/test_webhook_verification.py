"""CONTRACT.md's webhook rules, checked without touching any state."""
import base64
import json

import pytest

from shopwave import webhook

SECRET = "whsec_5f1c0ffee"
T = 1764072000
BODY = ('{"id":"dlv_0001","type":"customer.updated","occurred_at":"2025-11-25T12:00:00Z",'
        '"data":{"id":"c_1042","updated_at":"2025-11-25T11:59:59.250Z"}}').encode()
HEADER = "t=1764072000,v1=f9ded0870b7201ff878eb28b255b523c5a058ee59f30e4c58d299c0bc3fe7b8d"


def event(body=BODY, signature=HEADER, content_type="application/json", b64=False):
    headers = {"Content-Type": content_type}
    if signature is not None:
        headers["Webshop-Signature"] = signature
    return {"httpMethod": "POST", "headers": headers, "isBase64Encoded": b64,
            "body": base64.b64encode(body).decode() if b64 else body.decode("utf-8", "replace")}


def signed(body: bytes, t=T):
    return f"t={t},v1={webhook.signature(SECRET, t, body)}"


def test_given_the_contract_test_vector_when_signing_then_the_header_matches():
    assert signed(BODY) == HEADER


def test_given_a_valid_delivery_when_parsed_then_it_names_the_record():
    delivery = webhook.parse(event(), SECRET, "customers", now=T + 10)
    assert (delivery.id, delivery.action, delivery.record_id) == ("dlv_0001", "updated", "c_1042")


def test_given_a_base64_encoded_body_when_parsed_then_it_verifies_too():
    assert webhook.parse(event(b64=True), SECRET, "customers", now=T).record_id == "c_1042"


@pytest.mark.parametrize("case, ev, status", [
    ("missing signature", event(signature=None), 401),
    ("malformed signature", event(signature="garbage"), 401),
    ("wrong signature", event(signature="t=1764072000,v1=" + "0" * 64), 401),
    ("signed with another secret", event(signature=f"t={T},v1={webhook.signature('other', T, BODY)}"), 401),
    ("tampered body", event(body=BODY.replace(b"c_1042", b"c_9999")), 401),
    ("too old", event(signature=signed(BODY, T - 301)), 401),
    ("from the future", event(signature=signed(BODY, T + 301)), 401),
    ("over 256 KiB", event(body=b"{" + b" " * (256 * 1024) + b"}", signature=signed(b"{" + b" " * (256 * 1024) + b"}")), 413),
    ("malformed json", event(body=b'{"id":', signature=signed(b'{"id":')), 400),
    ("wrong content type", event(content_type="text/plain"), 415),
    ("no record id", event(body=b'{"id":"d","type":"customer.updated","data":{}}',
                           signature=signed(b'{"id":"d","type":"customer.updated","data":{}}')), 400),
    ("another resource", event(body=BODY.replace(b"customer.updated", b"order.updated"),
                               signature=signed(BODY.replace(b"customer.updated", b"order.updated"))), 422),
])
def test_given_a_bad_delivery_when_parsed_then_it_is_refused_with_its_status(case, ev, status):
    with pytest.raises(webhook.Rejected) as refused:
        webhook.parse(ev, SECRET, "customers", now=T)
    assert refused.value.status == status, case
    assert SECRET not in refused.value.reason


def test_given_a_timestamp_at_the_edge_of_tolerance_when_parsed_then_it_is_accepted():
    assert webhook.parse(event(signature=signed(BODY, T - 300)), SECRET, "customers", now=T).id == "dlv_0001"
    assert json.loads(BODY)["data"]["id"] == "c_1042"
