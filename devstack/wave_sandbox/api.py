"""GraphQL root value for the sandbox: views of stored records, list queries, mutations.

graphql-core's default resolver reads dict keys and calls callables with (info, **args),
so every field with arguments is a callable in the dict returned by `build_root`.
"""
from __future__ import annotations

import math
import uuid
from decimal import Decimal

from graphql import GraphQLError

from . import payments, util
from .errors import InputErrors

DEFAULT_PAGE_SIZE = 45
MAX_PAGE_SIZE = 200  # the live API's reported maximum (../shared/wave/README.md)
OVER_MAX = ("refuse", "clamp")


def query_error(message: str, code: str = "BAD_USER_INPUT") -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, "id": str(uuid.uuid4())})


def _ms(value, arg: str) -> int:
    try:
        return util.parse_datetime_ms(value)
    except (TypeError, ValueError):
        raise query_error(f"{arg} is not an ISO-8601 date-time: {value!r}") from None


def _number_key(number: str):
    return (0, int(number), number) if number.isdigit() else (1, 0, number)


_SORT_KEYS = {
    "CREATED_AT": lambda r, s: r["createdAt"],
    "MODIFIED_AT": lambda r, s: r["modifiedAt"],
    "NAME": lambda r, s: r["name"].casefold(),
    "AMOUNT_DUE": lambda r, s: Decimal(r["amountDue"]["value"]),
    "AMOUNT_PAID": lambda r, s: Decimal(r["amountPaid"]["value"]),
    "TOTAL": lambda r, s: Decimal(r["total"]["value"]),
    "CUSTOMER_NAME": lambda r, s: s.customers_by_id[r["customer"]["id"]]["name"].casefold(),
    "DUE_AT": lambda r, s: r["dueDate"],
    "INVOICE_DATE": lambda r, s: r["invoiceDate"],
    "INVOICE_NUMBER": lambda r, s: _number_key(r["invoiceNumber"]),
    "STATUS": lambda r, s: r["status"],
}


MISSING_BY_ID = ("not_found", "null")


class Api:
    """`missing_by_id`: how a look-up by id of a record the business does not have answers:
    "not_found" (as Wave does: a NOT_FOUND error with that field's path, null there, the other
    fields of the document still answer) or "null" (null alone, as the 2021 snapshot implied).
    `max_page_size` / `over_max`: a larger pageSize is refused, or answered with the maximum."""

    def __init__(self, store, max_page_size: int | None = MAX_PAGE_SIZE, over_max: str = "refuse",
                 missing_by_id: str = "not_found"):
        if missing_by_id not in MISSING_BY_ID:
            raise ValueError(f"missing_by_id must be one of {MISSING_BY_ID}")
        assert over_max in OVER_MAX, over_max
        self.s = store
        self.max_page_size = max_page_size
        self.over_max = over_max  # a larger pageSize is an error, or answered with the maximum
        self.missing_by_id = missing_by_id

    # ----- views ------------------------------------------------------------------------
    def business(self) -> dict:
        b = self.s.business
        return {**b, "isPersonal": False, "organizationalType": None, "type": None,
                "subtype": None, "timezone": "America/Toronto", "address": None, "phone": None,
                "fax": None, "mobile": None, "tollFree": None, "website": None,
                "isClassicAccounting": False, "isClassicInvoicing": False, "isArchived": False,
                "accentColor": None, "logoUrl": None,
                "customer": lambda info, id: self._one(self.s.customers_by_id, id, self.customer, "Customer"),
                "customers": self.customers, "product": self.product_one,
                "products": self.products,
                "invoice": lambda info, id: self._one(self.s.invoices_by_id, id, self.invoice, "Invoice"),
                "invoices": self.invoices,
                "invoicePayment": lambda info, id: payments.look_up(self, id),
                "salesTax": lambda info, id: self._one(self.s.taxes_by_id, id, self.tax, "Sales tax"),
                "salesTaxes": self.sales_taxes,
                "account": lambda info, id: self._one(self.s.accounts_by_id, id, self.account, "Account"),
                "accounts": self.accounts, "vendor": lambda info, id: None,
                "vendors": lambda info, **a: self._page([], a, lambda r: r)}

    def _with_business(self, record: dict) -> dict:
        return {**record, "business": lambda info: self.business()}

    def customer(self, r: dict) -> dict:
        return self._with_business(r)

    def account(self, r: dict) -> dict:
        return self._with_business(r)

    def tax(self, r: dict) -> dict:
        return self._with_business(r)

    def product(self, r: dict) -> dict:
        acc = self.s.accounts_by_id
        exp = r.get("expenseAccount")
        return {**self._with_business(r),
                "incomeAccount": self.account(acc[r["incomeAccount"]["id"]]),
                "expenseAccount": self.account(acc[exp["id"]]) if exp else None,
                "defaultSalesTaxes": [self.tax(self.s.taxes_by_id[t["id"]])
                                      for t in r["defaultSalesTaxes"]]}

    def invoice(self, r: dict) -> dict:
        items = [{**ln, "product": self.product(self.s.products_by_id[ln["product"]["id"]]),
                  "account": self.account(self.s.accounts_by_id[ln["account"]["id"]]),
                  "taxes": [{**t, "salesTax": self.tax(self.s.taxes_by_id[t["salesTax"]["id"]])}
                            for t in ln["taxes"]]}
                 for ln in r["items"]]
        return {**self._with_business(r), "items": items,
                "customer": self.customer(self.s.customers_by_id[r["customer"]["id"]]),
                "payments": lambda info: payments.invoice_payments(self, r["id"])}

    def _one(self, table: dict, rid, view, kind: str):
        record = table.get(rid)
        if record is not None:
            return view(record)
        if self.missing_by_id == "not_found":
            raise query_error(f"{kind} not found.", "NOT_FOUND")
        return None

    def product_one(self, info, id):
        return self._one(self.s.products_by_id, id, self.product, "Product")

    # ----- lists ------------------------------------------------------------------------
    def _page(self, records: list, args: dict, view) -> dict:
        page = args.get("page", 1)
        size = args.get("pageSize", DEFAULT_PAGE_SIZE)
        page = 1 if page is None else page
        size = DEFAULT_PAGE_SIZE if size is None else size
        if page < 1:
            raise query_error(f"page must be 1 or greater, got {page}.")
        if self.max_page_size and size > self.max_page_size and self.over_max == "clamp":
            size = self.max_page_size
        if size < 1 or (self.max_page_size and size > self.max_page_size):
            limit = f" and at most {self.max_page_size}" if self.max_page_size else ""
            raise query_error(f"pageSize must be at least 1{limit}, got {size}.")
        total = len(records)
        chunk = records[(page - 1) * size: page * size]
        return {"pageInfo": {"currentPage": page, "totalPages": math.ceil(total / size),
                             "totalCount": total},
                "edges": [{"node": view(r)} for r in chunk]}

    def _filter_sort(self, records, args: dict, default_sort=("CREATED_AT_DESC",)) -> list:
        after, before = args.get("modifiedAtAfter"), args.get("modifiedAtBefore")
        if after is not None:
            _ms(after, "modifiedAtAfter")  # refused if not a date-time
            records = [r for r in records if self.s.undocumented.after(r["modifiedAt"], after)]
        if before is not None:
            before_ms = _ms(before, "modifiedAtBefore")
            records = [r for r in records if util.parse_datetime_ms(r["modifiedAt"]) < before_ms]
        records = sorted(records, key=lambda r: r["id"])
        for sort in reversed(list(args.get("sort") or default_sort)):
            field, _, direction = sort.rpartition("_")
            key = _SORT_KEYS[field]
            records.sort(key=lambda r: key(r, self.s), reverse=direction == "DESC")
        return records

    def customers(self, info, **args):
        records = list(self.s.customers_by_id.values())
        if args.get("email") is not None:
            wanted = args["email"].strip().casefold()
            records = [r for r in records if (r["email"] or "").strip().casefold() == wanted]
        return self._page(self._filter_sort(records, args), args, self.customer)

    def products(self, info, **args):
        records = list(self.s.products_by_id.values())
        archived = args.get("isArchived", False)
        for flag in ("isArchived", "isSold", "isBought"):
            value = archived if flag == "isArchived" else args.get(flag)
            if value is not None:
                records = [r for r in records if r[flag] == value]
        return self._page(self._filter_sort(records, args), args, self.product)

    def invoices(self, info, **args):
        records = list(self.s.invoices_by_id.values())
        tests = {
            "status": lambda r, v: r["status"] == v,
            "customerId": lambda r, v: r["customer"]["id"] == v,
            "currency": lambda r, v: r["currency"]["code"] == v,
            "sourceId": lambda r, v: False,
            "invoiceDateStart": lambda r, v: r["invoiceDate"] >= v,
            "invoiceDateEnd": lambda r, v: r["invoiceDate"] <= v,
            "invoiceNumber": lambda r, v: v in r["invoiceNumber"],
        }
        for arg, test in tests.items():
            if args.get(arg) is not None:
                records = [r for r in records if test(r, args[arg])]
        return self._page(self._filter_sort(records, args), args, self.invoice)

    def sales_taxes(self, info, **args):
        records = list(self.s.taxes_by_id.values())
        if args.get("isArchived", False) is not None:
            records = [r for r in records if r["isArchived"] == args.get("isArchived", False)]
        return self._page(self._filter_sort(records, args, ("CREATED_AT_ASC",)), args, self.tax)

    def accounts(self, info, **args):
        records = list(self.s.accounts_by_id.values())
        if args.get("isArchived", False) is not None:
            records = [r for r in records if r["isArchived"] == args.get("isArchived", False)]
        if args.get("subtypes"):
            records = [r for r in records if r["subtype"]["value"] in args["subtypes"]]
        if args.get("types"):
            records = [r for r in records if r["type"]["value"] in args["types"]]
        return self._page(records, args, self.account)

    # ----- mutations --------------------------------------------------------------------
    def _mutate(self, entity: str | None, action, view=None):
        try:
            result = action()
        except InputErrors as exc:
            out = {"didSucceed": False, "inputErrors": exc.errors}
            return {**out, entity: None} if entity else out
        out = {"didSucceed": True, "inputErrors": None}
        return {**out, entity: view(result)} if entity else out

    def _create(self, create, data: dict):
        self.s.check_business(data.get("businessId"))
        return create({k: v for k, v in data.items() if k != "businessId"})

    def mutations(self) -> dict:
        s = self.s
        return {
            "customerCreate": lambda info, input: self._mutate(
                "customer", lambda: self._create(s.customer_create, input), self.customer),
            "customerPatch": lambda info, input: self._mutate(
                "customer", lambda: s.customer_patch(input), self.customer),
            "customerDelete": lambda info, input: self._mutate(
                None, lambda: s.customer_delete(input["id"])),
            "productCreate": lambda info, input: self._mutate(
                "product", lambda: self._create(s.product_create, input), self.product),
            "productPatch": lambda info, input: self._mutate(
                "product", lambda: s.product_patch(input), self.product),
            "productArchive": lambda info, input: self._mutate(
                "product", lambda: s.product_archive(input["id"]), self.product),
            "invoiceCreate": lambda info, input: self._mutate(
                "invoice", lambda: self._create(s.invoice_create, input), self.invoice),
            "invoicePatch": lambda info, input: self._mutate(
                "invoice", lambda: s.invoice_patch(input), self.invoice),
            "invoiceDelete": lambda info, input: self._mutate(
                None, lambda: s.invoice_delete(input["invoiceId"])),
            "invoiceApprove": lambda info, input: self._mutate(
                "invoice", lambda: s.invoice_approve(input["invoiceId"]), self.invoice),
            "invoiceMarkSent": lambda info, input: self._mutate(
                "invoice", lambda: s.invoice_mark_sent(
                    input["invoiceId"], input["sendMethod"], input.get("sentAt")), self.invoice),
            "invoiceSend": lambda info, input: self._mutate(
                None, lambda: s.invoice_mark_sent(input["invoiceId"], "WAVE")),
            **payments.mutations(self),
        }

    # ----- root -------------------------------------------------------------------------
    def _business_field(self, info, id=None):
        if id is not None and id != self.s.business["id"]:
            raise query_error("Business not found.", "NOT_FOUND")
        return self.business()

    def build_root(self) -> dict:
        codes = ("CAD", "USD", "EUR", "GBP", "AUD", "JPY")
        return {
            "business": self._business_field,
            "businesses": lambda info, **a: self._page([self.s.business], a,
                                                       lambda r: self.business()),
            "currencies": [util.currency(c) for c in codes],
            "currency": lambda info, code: util.currency(code),
            "countries": [util.country(c) for c in ("CA", "US", "GB", "DE", "FR", "AU")],
            "country": lambda info, code: util.country(code),
            "province": lambda info, code: util.province(code),
            "accountTypes": [], "accountSubtypes": [], "user": None, "oAuthApplication": None,
            **self.mutations(),
        }
