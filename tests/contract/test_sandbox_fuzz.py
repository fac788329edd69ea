"""The webshop sandbox, fuzzed against docs/webshop-openapi.yaml with schemathesis: for data that
fits the document and data that does not (unknown fields included), it never answers 5xx, answers
only statuses the document declares for the operation, with bodies, headers and content types of
the declared shape, and refuses every request the document calls invalid with a 4xx.

Bounded and repeatable by default (25 examples per operation and mode, derandomized, no deadline:
seconds on a small machine). A deeper, random hunt:
FUZZ_EXAMPLES=300 FUZZ_RANDOM=1 python3 dev.py test tests/contract/test_sandbox_fuzz.py
"""

import os

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)

from devstack.webshop_sandbox import WebshopSandbox

from .test_openapi_matches_contract import OPENAPI

KEY = "shop-sandbox-key"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
RANDOM = bool(os.environ.get("FUZZ_RANDOM"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]
# Records the fixture seeds, so most generated ids name a real record; DELETE has its own.
SEEDED = {"customers": ["c_1001", "c_1002"], "products": ["p_2001", "p_2002"], "orders": ["o_3001", "o_3002"]}
DELETABLE = {"customers": ["c_1003"], "products": ["p_2003"], "orders": ["o_3003"]}

schema = schemathesis.openapi.from_path(OPENAPI)
schema.config.update(headers={"Authorization": f"Bearer {KEY}"})
schema.config.generation.update(modes=list(schemathesis.GenerationMode), max_examples=EXAMPLES)
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
# A stale If-Match is refused before the body is looked at: 412 is a refusal too.
rejection = schema.config.checks.negative_data_rejection
rejection.expected_statuses = [*rejection.expected_statuses, "412"]


@schema.hook("flatmap_path_parameters")
def ids_of_seeded_records(context, path_parameters):
    resource = context.operation.path.strip("/").split("/")[0]
    if "id" not in (path_parameters or {}) or resource not in SEEDED:
        return st.just(path_parameters)
    seeded = (DELETABLE if context.operation.method.upper() == "DELETE" else SEEDED)[resource]
    return st.sampled_from([*seeded, path_parameters["id"]]).map(lambda record_id: {**path_parameters, "id": record_id})


@pytest.fixture(scope="module")
def shop():
    sandbox = WebshopSandbox(db_path=":memory:", api_key=KEY)
    sandbox.start(port=0)
    for n in (1, 2, 3):
        customer = sandbox.create("customers", {"id": f"c_100{n}", "email": f"c{n}@example.com", "currency": "CAD"})
        product = sandbox.create("products", {"id": f"p_200{n}", "sku": f"SKU-{n}", "name": f"Mug {n}",
                                              "price": "12.50"})
        # the merchant's coupon is shop state: it must never leak into an answer
        sandbox.create("orders", {"id": f"o_300{n}", "customer_id": customer["id"], "order_discount": "1.00",
                                  "lines": [{"product_id": product["id"], "quantity": "2", "tax_rate": "0.13"}]})
    yield sandbox
    sandbox.stop()


@schema.parametrize()
@hypothesis.settings(deadline=None, derandomize=not RANDOM, database=None, suppress_health_check=list(HealthCheck))
def test_given_any_request_the_document_describes_when_sent_to_the_sandbox_then_the_answer_conforms(case, shop):
    case.call_and_validate(base_url=shop.base_url, checks=CHECKS, timeout=10)
