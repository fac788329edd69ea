"""What the clients make of each answer, on canned HTTP responses (issue 11, items 1 and 2): a
record Wave no longer has is a missing record, not a failed page; a refused token or key, or a
server error inside a 200, stops the run (Unavailable) instead of parking a record (Refused); a
secret rotated since it was cached is read afresh once when the system refuses the cached one."""
from __future__ import annotations

import json

import pytest
import requests

from shopwave.clients.errors import AuthenticationFailed, Refused, Unavailable
from shopwave.flows.customers import CUSTOMER
from shopwave.wave.client import WaveAuthenticationFailed, WaveClient, WaveGraphQLError, WaveServerError
from shopwave.wave.side import WaveSide
from shopwave.webshop.client import WebshopAuthenticationFailed, WebshopClient, WebshopInputError


def answer(status: int, body: dict | None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode() if body is not None else b""
    return response


def not_found(alias: str) -> dict:
    return {"message": "Customer not found.", "path": ["business", alias], "extensions": {"code": "NOT_FOUND"}}


def error(code: str, path=None) -> dict:
    return {"message": f"{code} happened", **({"path": path} if path else {}), "extensions": {"code": code}}


class Canned:
    """Stands for a client's HTTP session: answers in turn, and keeps the Authorization headers sent."""

    def __init__(self, *answers: requests.Response):
        self.answers, self.tokens = list(answers), []

    def post(self, url, json=None, headers=None, timeout=None):  # noqa: A002 - requests' own names
        self.tokens.append(headers["Authorization"])
        return self.answers.pop(0)

    def request(self, method, url, params=None, data=None, headers=None, timeout=None):
        self.tokens.append(headers["Authorization"])
        return self.answers.pop(0)


def wave(*answers: requests.Response, token="tok-1") -> tuple[WaveClient, Canned]:
    client, canned = WaveClient("https://wave.test/graphql/public", token, "QnVzaW5lc3M6MQ=="), Canned(*answers)
    client._query_session = client._mutation_session = canned
    return client, canned


def shop(*answers: requests.Response, key="key-1") -> tuple[WebshopClient, Canned]:
    client, canned = WebshopClient("https://shop.test/api/v1", key), Canned(*answers)
    client._session = canned
    return client, canned


CUSTOMER_1 = {"id": "Q3VzdDox", "name": "Ada"}
CUSTOMER_3 = {"id": "Q3VzdDoz", "name": "Grace"}


# ------------------------------------------------------------------------- NOT_FOUND (item 1)
def test_given_one_alias_not_found_when_queried_partially_then_the_others_answer_and_its_path_is_named():
    client, _ = wave(answer(200, {"data": {"business": {"r0": CUSTOMER_1, "r1": None, "r2": CUSTOMER_3}},
                                  "errors": [not_found("r1")]}))
    data, missing = client.query_partial("query { ... }", {})
    assert data["business"]["r0"] == CUSTOMER_1 and data["business"]["r2"] == CUSTOMER_3
    assert missing == [("business", "r1")]


def test_given_one_id_wave_no_longer_has_when_the_side_fetches_a_batch_then_it_is_missing_and_the_rest_are_found():
    client, canned = wave(answer(200, {"data": {"business": {"r0": CUSTOMER_1, "r1": None, "r2": CUSTOMER_3}},
                                       "errors": [not_found("r1")]}))
    found = WaveSide(client).fetch_many(CUSTOMER, ["Q3VzdDox", "Q3VzdDoy", "Q3VzdDoz"])
    assert found == {"Q3VzdDox": CUSTOMER_1, "Q3VzdDoz": CUSTOMER_3}
    assert len(canned.tokens) == 1  # one request for the batch, none again for the missing one


def test_given_the_old_null_answer_when_the_side_fetches_a_batch_then_the_same_records_are_found():
    client, _ = wave(answer(200, {"data": {"business": {"r0": CUSTOMER_1, "r1": None, "r2": CUSTOMER_3}}}))
    assert set(WaveSide(client).fetch_many(CUSTOMER, ["Q3VzdDox", "Q3VzdDoy", "Q3VzdDoz"])) == {"Q3VzdDox", "Q3VzdDoz"}


def test_given_not_found_when_queried_plainly_then_the_request_is_refused():
    client, _ = wave(answer(200, {"data": {"business": {"r0": None}}, "errors": [not_found("r0")]}))
    with pytest.raises(WaveGraphQLError) as refused:
        client.query("query { ... }", {})
    assert isinstance(refused.value, Refused) and "NOT_FOUND" in str(refused.value)


def test_given_not_found_beside_another_error_when_queried_partially_then_the_request_is_refused():
    client, _ = wave(answer(200, {"data": {"business": {"r0": None, "r1": None}},
                                  "errors": [not_found("r0"), error("BAD_USER_INPUT", ["business", "r1"])]}))
    with pytest.raises(WaveGraphQLError, match="BAD_USER_INPUT"):
        client.query_partial("query { ... }", {})


def test_given_the_business_itself_not_found_when_queried_partially_then_the_run_stops_rather_than_every_record_missing():
    client, _ = wave(answer(200, {"data": {"business": None}, "errors": [error("NOT_FOUND", ["business"])]}))
    with pytest.raises(WaveAuthenticationFailed, match="no business QnVzaW5lc3M6MQ=="):
        client.query_partial("query { ... }", {})


# --------------------------------------------------------------- system-wide failures (item 2)
@pytest.mark.parametrize("status", [401, 403])
def test_given_wave_refuses_the_token_with_an_http_status_when_queried_then_the_run_stops(status):
    client, _ = wave(answer(status, {"errors": [error("UNAUTHENTICATED")]}))
    with pytest.raises(WaveAuthenticationFailed) as failed:
        client.query("query { ... }", {})
    assert isinstance(failed.value, AuthenticationFailed) and isinstance(failed.value, Unavailable)
    assert not isinstance(failed.value, Refused) and failed.value.system == "Wave"
    assert "tok-1" not in str(failed.value)


def test_given_unauthenticated_inside_a_200_when_a_mutation_is_sent_then_the_run_stops():
    client, _ = wave(answer(200, {"data": None, "errors": [error("UNAUTHENTICATED")]}))
    with pytest.raises(WaveAuthenticationFailed):
        client.mutate("customerPatch", "mutation { ... }", {"id": "Q3VzdDox"})


@pytest.mark.parametrize("data", [None, {"business": {"r0": None}}])
def test_given_internal_server_error_inside_a_200_when_queried_partially_then_the_run_stops(data):
    client, _ = wave(answer(200, {"data": data, "errors": [error("INTERNAL_SERVER_ERROR", ["business", "r0"]),
                                                           not_found("r1")]}))
    with pytest.raises(WaveServerError) as failed:
        client.query_partial("query { ... }", {})
    assert isinstance(failed.value, Unavailable) and not isinstance(failed.value, Refused)


def test_given_a_token_rotated_since_it_was_cached_when_wave_refuses_the_cached_one_then_the_fresh_one_is_sent_once():
    reads = []

    def token(fresh=False):
        reads.append(fresh)
        return "tok-new" if fresh else "tok-cached"

    client, canned = wave(answer(401, {"errors": [error("UNAUTHENTICATED")]}),
                          answer(200, {"data": {"business": {"r0": CUSTOMER_1}}}), token=token)
    assert client.query("query { ... }", {}) == {"business": {"r0": CUSTOMER_1}}
    assert canned.tokens == ["Bearer tok-cached", "Bearer tok-new"] and reads == [False, True]


def test_given_a_revoked_token_that_was_not_rotated_when_wave_refuses_it_then_it_is_not_sent_again():
    client, canned = wave(answer(401, {"errors": [error("UNAUTHENTICATED")]}), token=lambda fresh=False: "tok-1")
    with pytest.raises(WaveAuthenticationFailed):
        client.query("query { ... }", {})
    assert canned.tokens == ["Bearer tok-1"]


@pytest.mark.parametrize("status", [401, 403])
def test_given_the_webshop_refuses_the_key_when_read_or_written_then_the_run_stops(status):
    client, _ = shop(answer(status, {"error": {"code": "unauthorized", "message": "missing or wrong bearer API key"}}),
                     answer(status, {"error": {"code": "unauthorized", "message": "missing or wrong bearer API key"}}))
    with pytest.raises(WebshopAuthenticationFailed) as failed:
        client.list_page("customers")
    assert isinstance(failed.value, Unavailable) and not isinstance(failed.value, Refused)
    with pytest.raises(WebshopAuthenticationFailed):
        client.get("customers", "c_1")  # not "not found": a 404 would be
    assert "key-1" not in str(failed.value)


def test_given_a_webshop_refusal_of_one_record_when_written_then_it_is_still_that_record_refused():
    client, _ = shop(answer(422, {"error": {"code": "invalid", "message": "email is not valid"}}))
    with pytest.raises(WebshopInputError):
        client.patch("customers", "c_1", {"email": "nope"})


def test_given_a_key_rotated_since_it_was_cached_when_the_webshop_refuses_the_cached_one_then_the_fresh_one_is_sent():
    client, canned = shop(answer(401, {"error": {"code": "unauthorized", "message": "no"}}),
                          answer(200, {"data": [], "next_cursor": None}),
                          key=lambda fresh=False: "key-new" if fresh else "key-cached")
    assert client.list_page("customers") == ([], None)
    assert canned.tokens == ["Bearer key-cached", "Bearer key-new"]
