"""Pages of up to 200 where Wave allows them (README "The live API in 2026": reported maximum
200): SYNC_PAGE_SIZE is bounded by both systems' maximum, Wave lists never ask for more, and the
catalogue reads its lists 200 at a time. Against the Wave sandbox's GraphQL executed in process
(no HTTP), whose limit refuses a larger page as Wave may."""
from __future__ import annotations

import json

import pytest

from devstack.wave_sandbox import WaveSandbox
from devstack.wave_sandbox.server import PATH
from shopwave.config import Config, Options
from shopwave.flows.customers import CUSTOMER
from shopwave.wave.catalog import WaveCatalog
from shopwave.wave.limits import WAVE_MAX_PAGE_SIZE
from shopwave.wave.side import WaveSide

NEEDED = {"WAVE_BUSINESS_ID": "QnVzaW5lc3M6abc", "WEBSHOP_API_URL": "https://shop.example/api/v1",
          "LINKS_TABLE": "links", "STATE_TABLE": "state"}


class InProcessWave:
    """A Wave client that sends its documents to the sandbox's request handler directly, and keeps them."""

    def __init__(self, sandbox: WaveSandbox, page_size: int = 100):
        self.sandbox, self.business_id, self.page_size = sandbox, sandbox.business_id, page_size
        self.sent: list[tuple[str, dict]] = []

    def query(self, document: str, variables: dict) -> dict:
        variables = {"businessId": self.business_id, **variables}
        self.sent.append((document, variables))
        status, payload, _ = self.sandbox._handle(PATH, {"Authorization": f"Bearer {self.sandbox.token}"},
                                                  json.dumps({"query": document, "variables": variables}).encode())
        assert status == 200 and not payload.get("errors"), payload
        return payload["data"]


def test_given_sync_page_size_200_when_read_then_both_systems_page_by_it():
    assert Config.from_env({**NEEDED, "SYNC_PAGE_SIZE": "200"}).sync.page_size == 200 == WAVE_MAX_PAGE_SIZE


def test_given_sync_page_size_above_200_when_read_then_the_error_names_both_systems_limits():
    with pytest.raises(RuntimeError) as refused:
        Config.from_env({**NEEDED, "SYNC_PAGE_SIZE": "250"})
    assert "SYNC_PAGE_SIZE='250'" in str(refused.value)
    assert "must be 1 to 200" in str(refused.value) and "webshop" in str(refused.value) and "Wave" in str(refused.value)


@pytest.mark.parametrize("client_size, flow_size", [(500, None), (100, 450)])
def test_given_a_wave_page_size_above_wave_s_maximum_when_a_list_is_read_then_it_asks_for_200_a_page(client_size, flow_size):
    sandbox = WaveSandbox()  # refuses a pageSize above 200, as Wave may
    for i in range(230):
        sandbox.create_customer(name=f"Customer {i}")
    client = InProcessWave(sandbox, page_size=client_size)

    pages = list(WaveSide(client).pages(CUSTOMER, "", None, flow_size))

    assert sum(len(p) for p in pages) >= 230 and len({r["id"] for p in pages for r in p}) == 230
    assert {variables["pageSize"] for _, variables in client.sent} == {200}


def test_given_250_sales_taxes_and_no_discount_product_when_the_catalogue_loads_then_it_reads_pages_of_200():
    sandbox = WaveSandbox()
    for i in range(248):  # with the sandbox's HST and GST: 250
        sandbox.store._seed_tax(f"Tax {i}", f"T{i}", f"0.{i + 300}", "2026-01-01T00:00:00.000Z")
    for i in range(210):
        sandbox.create_product(name=f"Product {i}", unitPrice="1")
    client = InProcessWave(sandbox)
    catalog = WaveCatalog(client, Options())

    assert catalog.tax_id_for_rate("0.13") and catalog.existing_discount_product_id() is None

    assert [(d.split("(")[0], v["page"]) for d, v in client.sent] == [
        ("query SalesTaxes", 1), ("query SalesTaxes", 2), ("query ProductNames", 1), ("query ProductNames", 2)]
    assert all(f"pageSize: {WAVE_MAX_PAGE_SIZE}" in document for document, _ in client.sent)


def test_given_a_flow_page_size_above_the_contract_s_limit_when_the_webshop_is_read_then_it_asks_for_200(monkeypatch):
    from shopwave.webshop.client import WebshopClient

    client, asked = WebshopClient("https://shop.example/api/v1", "k", page_size=100), []
    monkeypatch.setattr(client, "_request", lambda method, path, params=None, **kw: asked.append(params) or {"data": []})
    list(client.iter_changed("customers", None, page_size=450))
    assert asked == [{"limit": 200}]
