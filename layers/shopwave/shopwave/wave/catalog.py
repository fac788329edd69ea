"""Wave business data the invoice mapping needs, read once per process and cached:
sales taxes (by rate, or as configured), the product that carries discounts and the
cash-and-bank account the shop's payments are recorded into."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any, Iterator

from ..clients.errors import Unavailable
from ..config import Options
from .client import WaveClient
from .limits import WAVE_MAX_PAGE_SIZE
from ..mapping import values

SALES_TAXES = ("query SalesTaxes($businessId: ID!, $page: Int!) { business(id: $businessId) { "
               f"salesTaxes(page: $page, pageSize: {WAVE_MAX_PAGE_SIZE}) {{ pageInfo {{ totalPages }} "
               "edges { node { id name abbreviation rate isArchived } } } } }")
DISCOUNT_ACCOUNTS = ("query DiscountAccounts($businessId: ID!) { business(id: $businessId) { "
                     "accounts(subtypes: [DISCOUNTS], page: 1, pageSize: 20) { edges { node { id name } } } } }")
FIND_PRODUCTS = ("query ProductNames($businessId: ID!, $page: Int!) { business(id: $businessId) { "
                 f"products(page: $page, pageSize: {WAVE_MAX_PAGE_SIZE}, sort: [CREATED_AT_ASC]) {{ pageInfo {{ totalPages }} "
                 "edges { node { id name } } } } }")
PAYMENT_ACCOUNTS = ("query PaymentAccounts($businessId: ID!, $page: Int!) { business(id: $businessId) { "
                    f"accounts(subtypes: [CASH_AND_BANK], page: $page, pageSize: {WAVE_MAX_PAGE_SIZE}) {{ pageInfo {{ totalPages }} "
                    "edges { node { id name } } } } }")
CREATE_PRODUCT = ("mutation DiscountProductCreate($input: ProductCreateInput!) { productCreate(input: $input) { "
                  "didSucceed inputErrors { code message path } product { id name } } }")


class UnknownTaxRate(values.BadValue):
    """An order line's tax rate has no Wave sales tax: configure SALES_TAX_MAP."""


class PaymentAccountMissing(Unavailable):
    """Neither WAVE_PAYMENT_ACCOUNT_ID nor WAVE_PAYMENT_ACCOUNT_NAME names a cash-and-bank account:
    a run that would record the shop's payments stops before it writes anything."""
    system = "Wave"


class WaveCatalog:
    ttl_seconds = 900

    def __init__(self, client: WaveClient, options: Options, store=None):
        self.client = client
        self.store = store  # claims: two processes must not both create the discount product
        self.options = options
        self._taxes: list[dict] | None = None
        self._taxes_lock = threading.Lock()  # concurrent writers load the catalogue once
        self._loaded_at = 0.0
        self._discount_product: str | None = options.discount_product_id
        self._payment_account: str | None = None

    def _sales_taxes(self) -> list[dict]:
        with self._taxes_lock:
            return self._load_sales_taxes()

    def _load_sales_taxes(self) -> list[dict]:
        if self._taxes is None or time.monotonic() - self._loaded_at > self.ttl_seconds:
            taxes = [tax for tax in self._nodes(SALES_TAXES, "salesTaxes") if not tax.get("isArchived")]
            self._taxes, self._loaded_at = taxes, time.monotonic()
        return self._taxes

    def tax_id_for_rate(self, rate: str) -> str:
        """A line's tax rate ("0.13") as a Wave sales tax: SALES_TAX_MAP first, else by rate."""
        configured = self.options.sales_tax_map.get(rate)
        taxes = self._sales_taxes()
        if configured:
            for tax in taxes:
                if configured in (tax["id"], tax["name"], tax["abbreviation"]):
                    return tax["id"]
            raise UnknownTaxRate(f"SALES_TAX_MAP names {configured!r} for rate {rate}, which Wave does not have")
        matches = [t["id"] for t in taxes if values.decimal(t["rate"]) == rate]
        if len(matches) != 1:
            raise UnknownTaxRate(f"{len(matches)} Wave sales taxes have rate {rate}; map it in SALES_TAX_MAP")
        return matches[0]

    def rate_for_tax(self, tax_id: str, rate: Any = None) -> str | None:
        configured = {v: k for k, v in self.options.sales_tax_map.items()}
        for tax in self._sales_taxes():
            if tax["id"] == tax_id:
                for name in (tax["id"], tax["name"], tax["abbreviation"]):
                    if name in configured:
                        return configured[name]
                return values.decimal(tax["rate"])
        return values.decimal(rate) if rate is not None else None

    def payment_account_id(self) -> str:
        """The account the shop's payments go into: WAVE_PAYMENT_ACCOUNT_ID, else the one
        cash-and-bank account named WAVE_PAYMENT_ACCOUNT_NAME."""
        if self._payment_account is None:
            self._payment_account = self._find_payment_account()
        return self._payment_account

    def _find_payment_account(self) -> str:
        wanted = self.options.payment_account_id or self.options.payment_account_name
        accounts = self._payment_accounts()
        found = [a["id"] for a in accounts if wanted in (a["id"], a["name"])]
        if len(found) != 1:
            names = ", ".join(sorted(a["name"] for a in accounts)) or "none"
            raise PaymentAccountMissing(
                f"{len(found)} of Wave's cash-and-bank accounts match {wanted!r} (WAVE_PAYMENT_ACCOUNT_ID or "
                f"WAVE_PAYMENT_ACCOUNT_NAME); the business has: {names}")
        return found[0]

    def _payment_accounts(self) -> list[dict]:
        return list(self._nodes(PAYMENT_ACCOUNTS, "accounts"))

    def _nodes(self, document: str, field: str) -> Iterator[dict]:
        """Every node of one of the business's paged lists, page after page (read lazily: a
        search stops at its match)."""
        page, pages = 1, 1
        while page <= pages:
            data = self.client.query(document, {"page": page})["business"][field]
            yield from (edge["node"] for edge in data["edges"])
            pages, page = data["pageInfo"]["totalPages"] or 1, page + 1

    def existing_discount_product_id(self) -> str | None:
        """The discount product if Wave has one (reading never creates it)."""
        if not self._discount_product:
            self._discount_product = self._find_product(self.options.discount_product_name)
        return self._discount_product

    def discount_product_id(self) -> str:
        """The Wave product that carries discounts (found by name, else created on a DISCOUNTS account)."""
        if self._discount_product:
            return self._discount_product
        name = self.options.discount_product_name
        self._discount_product = self._find_product(name)
        if self._discount_product:
            return self._discount_product
        token = uuid.uuid4().hex
        claimed = self.store is None or self.store.claim("catalog#discount-product", token, timedelta(seconds=30))
        try:
            # whoever did not get the claim, or got it second, finds the product the first made
            self._discount_product = self._find_product(name) if claimed else self._wait_for_product(name)
            if not self._discount_product:
                self._discount_product = self._create_discount_product(name)
        finally:
            if claimed and self.store is not None:
                self.store.release("catalog#discount-product", token)
        return self._discount_product

    def _find_product(self, name: str) -> str | None:
        return next((product["id"] for product in self._nodes(FIND_PRODUCTS, "products") if product["name"] == name), None)

    def _wait_for_product(self, name: str) -> str | None:
        for _ in range(50):
            time.sleep(0.2)
            found = self._find_product(name)
            if found:
                return found
        return None

    def _create_discount_product(self, name: str) -> str:
        accounts = self.client.query(DISCOUNT_ACCOUNTS, {})["business"]["accounts"]["edges"]
        input_ = {"businessId": self.client.business_id, "name": name, "unitPrice": "0",
                  "description": "Discounts on webshop orders (created by shopwave)"}
        if accounts:
            input_["incomeAccountId"] = accounts[0]["node"]["id"]
        return self.client.mutate("productCreate", CREATE_PRODUCT, input_)["product"]["id"]


