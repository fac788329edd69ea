"""CONTRACT.md's webhook rules, checked without touching any state."""
import base64
import json

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

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
    return APIGatewayProxyEvent({"httpMethod": "POST", "headers": headers, "isBase64Encoded": b64,
                                 "body": base64.b64encode(body).decode() if b64 else body.decode("utf-8", "replace")})


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


# Malformed numbers in the header are a 401 like any other bad signature, never an error:
# `t=1` and 400 zeros made `abs(time.time() - t)` raise OverflowError (a 502 anyone could cause).
SIGNATURE = webhook.signature(SECRET, T, BODY)
MALFORMED_HEADERS = {
    "t=1 and 400 zeros": f"t=1{'0' * 400},v1={SIGNATURE}",
    "t with 5000 digits": f"t={'9' * 5000},v1={SIGNATURE}",
    "t negative": f"t=-{T},v1={SIGNATURE}",
    "t with a plus sign": f"t=+{T},v1={SIGNATURE}",
    "t with underscores": f"t={T:_},v1={SIGNATURE}",
    "t in other digits": "t=" + str(T).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + f",v1={SIGNATURE}",
    "t with spaces inside": f"t= {T} ,v1={SIGNATURE}",
    "t as a float": f"t={T}.0,v1={SIGNATURE}",
    "t as an exponent": f"t=1.764072e9,v1={SIGNATURE}",
    "t hexadecimal": f"t={hex(T)},v1={SIGNATURE}",
    "t infinity": f"t=inf,v1={SIGNATURE}",
    "t NaN": f"t=nan,v1={SIGNATURE}",
    "t empty": f"t=,v1={SIGNATURE}",
    "t twice": f"t={T},t={T},v1={SIGNATURE}",
    "no v1": f"t={T}",
    "v1 empty": f"t={T},v1=",
    "a thousand v1 values": f"t={T}," + ",".join(["v1=" + "0" * 64] * 1000) + f",v1={SIGNATURE}",
    "header of 100 000 characters": f"t={T},v1={SIGNATURE}," + "x=" + "y" * 100_000,
}


@pytest.mark.parametrize("case", MALFORMED_HEADERS)
def test_given_a_malformed_signature_header_when_parsed_then_401_and_no_error(case):
    with pytest.raises(webhook.Rejected) as refused:
        webhook.parse(event(signature=MALFORMED_HEADERS[case]), SECRET, "customers", now=T + 0.5)  # a float clock
    assert refused.value.status == 401, case
    assert SECRET not in refused.value.reason and SIGNATURE not in refused.value.reason


def test_given_a_header_that_is_not_text_when_verified_then_401():
    for header in (None, 12345, ["t=1"], b"t=1"):
        with pytest.raises(webhook.Rejected) as refused:
            webhook.verify(SECRET, header, BODY, now=T)
        assert refused.value.status == 401


# Rotation: the current secret and the previous one are both accepted.
PREVIOUS = "whsec_previous_0ld"


def test_given_a_delivery_signed_with_the_previous_secret_when_both_are_given_then_it_is_accepted_and_marked():
    header = f"t={T},v1={webhook.signature(PREVIOUS, T, BODY)}"
    delivery = webhook.parse(event(signature=header), [SECRET, PREVIOUS], "customers", now=T)
    assert delivery.record_id == "c_1042" and delivery.signed_with_previous_secret
    assert not webhook.parse(event(), [SECRET, PREVIOUS], "customers", now=T).signed_with_previous_secret


def test_given_a_delivery_signed_with_the_current_secret_when_verified_then_the_previous_secret_is_never_read():
    def secrets():
        yield SECRET
        raise AssertionError("the previous secret was read for a delivery signed with the current one")
    assert webhook.verify(secrets(), HEADER, BODY, now=T) == 0


def test_given_a_delivery_signed_with_neither_secret_when_verified_then_401():
    header = f"t={T},v1={webhook.signature('whsec_someone_else', T, BODY)}"
    with pytest.raises(webhook.Rejected) as refused:
        webhook.parse(event(signature=header), [SECRET, PREVIOUS], "customers", now=T)
    assert refused.value.status == 401
    assert SECRET not in refused.value.reason and PREVIOUS not in refused.value.reason


def test_given_an_empty_secret_when_verified_then_a_delivery_signed_with_an_empty_key_is_refused():
    header = f"t={T},v1={webhook.signature('', T, BODY)}"
    with pytest.raises(webhook.Rejected):
        webhook.verify([SECRET, ""], header, BODY, now=T)
