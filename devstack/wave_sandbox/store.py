"""In-memory Wave business: seed data, customers and products (invoices live in invoices.py).

Every write validates first and raises `InputErrors` before touching state, so a failed
mutation leaves the store unchanged. Records are kept in the shape the GraphQL API returns;
references to other records are kept as {"id": ...} and expanded by the API layer.
"""
from __future__ import annotations

import copy
import threading
from decimal import Decimal

from . import util
from .errors import InputErrors, input_error  # noqa: F401  (re-exported)
from .invoices import InvoiceMixin
from .payments import PaymentMixin
from .undocumented import StampingClock, Undocumented
from .util import ABSURD


INCOME_SUBTYPES = {"INCOME", "DISCOUNTS", "OTHER_INCOME"}
EXPENSE_SUBTYPES = {"EXPENSE", "COST_OF_GOODS_SOLD", "PAYMENT_PROCESSING_FEES", "PAYROLL_EXPENSES"}
_ACCOUNT_TYPES = {  # subtype -> (type value, normal balance)
    "INCOME": ("INCOME", "CREDIT"), "DISCOUNTS": ("INCOME", "CREDIT"),
    "OTHER_INCOME": ("INCOME", "CREDIT"), "EXPENSE": ("EXPENSE", "DEBIT"),
    "CASH_AND_BANK": ("ASSET", "DEBIT"), "RECEIVABLE_INVOICES": ("ASSET", "DEBIT"),
    "SALES_TAX": ("LIABILITY", "CREDIT"),
}
CUSTOMER_FIELDS = ("name", "firstName", "lastName", "displayId", "email", "mobile", "phone",
                   "fax", "tollFree", "website", "internalNotes")


def _null_path(data, path: tuple = ()) -> list[str] | None:
    """The path of the first null in an input, or None."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        if value is None:
            return [*path, str(key)]
        found = _null_path(value, (*path, str(key)))
        if found:
            return found
    return None


class Store(InvoiceMixin, PaymentMixin):
    def __init__(self, business_id: str | None = None, currency: str = "CAD",
                 name: str = "Sandbox Business"):
        self.lock = threading.RLock()
        self.undocumented = Undocumented()  # switches: WaveSandbox.play_undocumented
        self.clock = util.Clock()
        now = self.clock.now()
        self.business = {"id": business_id or util.new_id("Business"), "name": name,
                         "currency": util.currency(currency), "createdAt": now, "modifiedAt": now}
        self.customers_by_id: dict[str, dict] = {}
        self.products_by_id: dict[str, dict] = {}
        self.invoices_by_id: dict[str, dict] = {}
        self.payments_by_id: dict[str, dict] = {}
        self.taxes_by_id: dict[str, dict] = {}
        self.accounts_by_id: dict[str, dict] = {}
        for tax_name, abbr, rate in (("Harmonized Sales Tax", "HST", "0.13"),
                                     ("Goods and Services Tax", "GST", "0.05")):
            self._seed_tax(tax_name, abbr, rate, now)
        for acc_name, subtype in (("Sales", "INCOME"), ("Discounts", "DISCOUNTS"),
                                  ("Other Income", "OTHER_INCOME"), ("Cash on Hand", "CASH_AND_BANK"),
                                  ("Accounts Receivable", "RECEIVABLE_INVOICES"),
                                  ("General Expenses", "EXPENSE")):
            self._seed_account(acc_name, subtype)
        self.default_income_account_id = next(iter(self.accounts_by_id))
        self.null_in_patch = "clears"  # switch (WaveSandbox.null_in_patch): what a null in a patch does

    @property
    def clock(self) -> StampingClock:
        return self._clock

    @clock.setter
    def clock(self, inner) -> None:
        """Any clock with now()/now_ms() (a test's logical one too), stamped as Wave is played."""
        self._clock = StampingClock(inner, self.undocumented)

    # ----- seed -------------------------------------------------------------------------
    def _seed_tax(self, name: str, abbr: str, rate: str, now: str) -> None:
        tid = util.new_id("SalesTax")
        self.taxes_by_id[tid] = {
            "id": tid, "name": name, "abbreviation": abbr, "description": None, "taxNumber": None,
            "showTaxNumberOnInvoices": False, "rate": rate,
            "rates": [{"effective": "2000-01-01", "rate": rate}], "isCompound": False,
            "isRecoverable": True, "isArchived": False, "createdAt": now, "modifiedAt": now}

    def _seed_account(self, name: str, subtype: str) -> None:
        type_value, balance = _ACCOUNT_TYPES[subtype]
        acc_type = {"name": type_value.title(), "normalBalanceType": balance, "value": type_value}
        aid = util.new_id("Account")
        self.accounts_by_id[aid] = {
            "id": aid, "classicId": None, "name": name, "description": None, "displayId": None,
            "currency": dict(self.business["currency"]), "type": acc_type,
            "subtype": {"name": subtype.replace("_", " ").title(), "value": subtype, "type": acc_type},
            "normalBalanceType": balance, "isArchived": False, "sequence": 1,
            "balance": "0.00", "balanceInBusinessCurrency": "0.00"}

    # ----- helpers ----------------------------------------------------------------------
    def check_business(self, business_id) -> None:
        if business_id != self.business["id"]:
            raise input_error("Business not found.", "businessId", code="NOT_FOUND")

    def refuse_nulls(self, data: dict) -> None:
        """Wave's handling of an explicit null in a patch is undocumented: "clears" takes it as
        clearing the field; "input_error" refuses the patch (didSucceed: false, BAD_USER_INPUT);
        "graphql_error" answers a GraphQL error (extensions.code BAD_USER_INPUT, the field null)."""
        if self.null_in_patch == "clears":
            return
        path = _null_path(data)
        if path is None:
            return
        message = f"null is not accepted for {'.'.join(['input', *path])}."
        if self.null_in_patch == "input_error":
            raise InputErrors([{"code": "BAD_USER_INPUT", "message": message, "path": ["input", *path]}])
        from graphql import GraphQLError  # the API turns it into an `errors` entry

        raise GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})

    @staticmethod
    def copy(record):
        return copy.deepcopy(record)

    def _address(self, data, *path: str) -> dict | None:
        if data is None:
            return None
        country_code = data.get("countryCode")
        prov = data.get("provinceCode")
        if prov is not None:
            if not util.PROVINCE_RE.match(prov):
                raise input_error(f"Province code {prov!r} is not an ISO 3166-2 code (e.g. CA-ON).",
                                  *path, "provinceCode")
            if country_code and not prov.startswith(country_code + "-"):
                raise input_error(f"Province {prov} is not in country {country_code}.",
                                  *path, "provinceCode")
        return {"addressLine1": data.get("addressLine1"), "addressLine2": data.get("addressLine2"),
                "city": data.get("city"), "postalCode": data.get("postalCode"),
                "province": util.province(prov) if prov else None,
                "country": util.country(country_code) if country_code else None}

    def _shipping(self, data) -> dict | None:
        if data is None:
            return None
        return {"name": data.get("name"), "phone": data.get("phone"),
                "instructions": data.get("instructions"),
                "address": self._address(data.get("address"), "shippingDetails", "address")}

    # ----- customers --------------------------------------------------------------------
    def _customer_changes(self, data: dict, creating: bool) -> dict:
        changes: dict = {}
        if creating or "name" in data:
            name = data.get("name")
            if not name or not str(name).strip():
                raise input_error("Name is required.", "name", code="REQUIRED")
        for key in CUSTOMER_FIELDS:
            if key in data:
                changes[key] = data[key]
        email = data.get("email")
        if email and ("@" not in email or email.strip() != email or " " in email):
            raise input_error(f"{email!r} is not a valid email address.", "email")
        if "address" in data:
            changes["address"] = self._address(data["address"], "address")
        if "shippingDetails" in data:
            changes["shippingDetails"] = self._shipping(data["shippingDetails"])
        if "currency" in data:
            changes["currency"] = util.currency(data["currency"]) if data["currency"] else None
        return changes

    def customer_create(self, data: dict) -> dict:
        with self.lock:
            changes = self._customer_changes(data, creating=True)
            now = self.clock.now()
            cid = util.new_id("Customer")
            record = {"id": cid, **{k: None for k in CUSTOMER_FIELDS}, "address": None,
                      "shippingDetails": None, "currency": dict(self.business["currency"]),
                      "isArchived": False, "internalId": None, **changes,
                      "createdAt": now, "modifiedAt": now}
            self.customers_by_id[cid] = record
            return self.copy(record)

    def _get(self, table: dict, rid, kind: str, field: str = "id") -> dict:
        record = table.get(rid)
        if record is None:
            raise input_error(f"{kind} not found.", field, code="NOT_FOUND")
        return record

    def customer_patch(self, data: dict) -> dict:
        with self.lock:
            record = self._get(self.customers_by_id, data.get("id"), "Customer")
            self.refuse_nulls(data)
            changes = self._customer_changes(data, creating=False)
            record.update(changes)
            record["modifiedAt"] = self.clock.now()
            return self.copy(record)

    def customer_archive(self, cid) -> dict:
        """What a merchant does in Wave's screens (the public API has no mutation for it)."""
        with self.lock:
            record = self._get(self.customers_by_id, cid, "Customer")
            record["isArchived"] = True
            record["modifiedAt"] = self.clock.now()
            return self.copy(record)

    def customer_delete(self, cid) -> None:
        with self.lock:
            self._get(self.customers_by_id, cid, "Customer")
            if any(inv["customer"]["id"] == cid for inv in self.invoices_by_id.values()):
                raise input_error("Customer has invoices and cannot be deleted.", "id",
                                  code="IN_USE")
            del self.customers_by_id[cid]

    # ----- products ---------------------------------------------------------------------
    def _product_changes(self, data: dict, creating: bool, current: dict | None = None) -> dict:
        changes: dict = {}
        if creating or "name" in data:
            if not data.get("name") or not str(data["name"]).strip():
                raise input_error("Name is required.", "name", code="REQUIRED")
            changes["name"] = data["name"]
        if "description" in data:
            changes["description"] = data["description"]
        account_id = data.get("incomeAccountId")
        if account_id is not None:
            acc = self._get(self.accounts_by_id, account_id, "Account", "incomeAccountId")
            if acc["subtype"]["value"] not in INCOME_SUBTYPES:
                raise input_error("Income account must be one of subtypes: INCOME, DISCOUNTS, "
                                  "OTHER_INCOME.", "incomeAccountId")
            changes["incomeAccount"] = {"id": account_id}
        account_id = data.get("expenseAccountId")
        if account_id is not None:
            acc = self._get(self.accounts_by_id, account_id, "Account", "expenseAccountId")
            if acc["subtype"]["value"] not in EXPENSE_SUBTYPES:
                raise input_error("Expense account has the wrong subtype.", "expenseAccountId")
            changes["expenseAccount"] = {"id": account_id}
            changes["isBought"] = True
        if data.get("defaultSalesTaxIds") is not None:
            for tid in data["defaultSalesTaxIds"]:
                self._get(self.taxes_by_id, tid, "Sales tax", "defaultSalesTaxIds")
            changes["defaultSalesTaxes"] = [{"id": t} for t in data["defaultSalesTaxIds"]]
        if creating or "unitPrice" in data:
            price = self.decimal_input(data.get("unitPrice"), "unitPrice", 5)
            income = changes.get("incomeAccount") or (current or {}).get("incomeAccount")
            if price < 0 and not self.is_discount_account(income):
                raise input_error("Unit price cannot be negative.", "unitPrice")
            changes["unitPrice"] = util.dec_str(price)
        return changes

    def is_discount_account(self, ref) -> bool:
        acc = self.accounts_by_id.get((ref or {}).get("id"))
        return bool(acc) and acc["subtype"]["value"] == "DISCOUNTS"

    @staticmethod
    def decimal_input(value, field: str, places: int, *path: str) -> Decimal:
        try:
            d = util.to_decimal(value)
        except ValueError:
            raise input_error(f"{field} must be a decimal number.", *path, field) from None
        if abs(d) >= ABSURD:
            raise input_error(f"{field} is too large.", *path, field)
        return util.round_places(d, places)

    def product_create(self, data: dict) -> dict:
        with self.lock:
            changes = self._product_changes(data, creating=True)
            now = self.clock.now()
            pid = util.new_id("Product")
            record = {"id": pid, "internalId": None, "description": None, "isSold": True,
                      "isBought": False, "isArchived": False,
                      "incomeAccount": {"id": self.default_income_account_id},
                      "expenseAccount": None, "defaultSalesTaxes": [], **changes,
                      "createdAt": now, "modifiedAt": now}
            self.products_by_id[pid] = record
            return self.copy(record)

    def product_patch(self, data: dict) -> dict:
        with self.lock:
            record = self._get(self.products_by_id, data.get("id"), "Product")
            self.refuse_nulls(data)
            record.update(self._product_changes(data, creating=False, current=record))
            record["modifiedAt"] = self.clock.now()
            return self.copy(record)

    def product_archive(self, pid) -> dict:
        with self.lock:
            record = self._get(self.products_by_id, pid, "Product")
            record["isArchived"] = True
            record["modifiedAt"] = self.clock.now()
            return self.copy(record)
