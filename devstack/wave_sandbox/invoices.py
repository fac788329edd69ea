"""Invoice rules of the sandbox store: numbering, line maths, status transitions."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from . import discounts, util
from .errors import input_error

EDITABLE_STATUSES = {"DRAFT", "SAVED"}
PAID_STATUSES = {"PAID", "PARTIAL", "OVERPAID"}
PAYMENT_TERMS_DAYS = 30
_OPTIONAL_TEXT = ("subhead", "poNumber", "memo", "footer")
_DEFAULTS = {"title": "Invoice", "itemTitle": "Items", "unitTitle": "Quantity",
             "priceTitle": "Price", "amountTitle": "Amount", "hideName": False,
             "hideDescription": False, "hideUnit": False, "hidePrice": False,
             "hideAmount": False, "disableAmexPayments": False,
             "disableCreditCardPayments": False, "disableBankPayments": False}


def today() -> date:
    return datetime.now(timezone.utc).date()


class InvoiceMixin:
    """Mixed into Store; uses its tables, lock, clock and validation helpers."""

    # ----- input -> record --------------------------------------------------------------
    def _next_invoice_number(self) -> str:
        numbers = [int(inv["invoiceNumber"]) for inv in self.invoices_by_id.values()
                   if inv["invoiceNumber"].isdigit()]
        return str(max(numbers, default=0) + 1)

    def _line(self, item: dict, index: int, cur: dict) -> dict:
        """A line before the invoice discount: `_gross` and `_subtotal` for the maths, each tax's
        `_given` amount (None: computed on the discounted amount in `_price_line`)."""
        path = ("items", str(index))
        product = self.products_by_id.get(item.get("productId"))
        if product is None:
            raise input_error("Product not found.", *path, "productId", code="NOT_FOUND")
        if product["isArchived"]:
            raise input_error("Product is archived.", *path, "productId")
        qty = self.decimal_input(item.get("quantity", "1") or "1", "quantity", 8, *path)
        if qty < 0:
            raise input_error("Quantity cannot be negative.", *path, "quantity")
        price_in = item.get("unitPrice")
        price = self.decimal_input(product["unitPrice"] if price_in is None else price_in,
                                   "unitPrice", 8, *path)
        if price < 0 and not self.is_discount_account(product["incomeAccount"]):
            raise input_error("Unit price cannot be negative.", *path, "unitPrice")
        taxes_in = item.get("taxes")
        if taxes_in is None:  # left out: the product's default sales taxes
            taxes_in = [{"salesTaxId": t["id"]} for t in product["defaultSalesTaxes"]]
        gross = qty * price
        subtotal = util.round_places(gross, cur["exponent"])
        taxes = []
        for t_index, tax_in in enumerate(taxes_in):
            tax_path = (*path, "taxes", str(t_index))
            tax = self.taxes_by_id.get(tax_in.get("salesTaxId"))
            if tax is None:
                raise input_error("Sales tax not found.", *tax_path, "salesTaxId", code="NOT_FOUND")
            amount = None
            if tax_in.get("amount") is not None:
                amount = self.decimal_input(tax_in["amount"], "amount", cur["exponent"], *tax_path)
                if amount < 0:
                    raise input_error("Tax amount cannot be negative.", *tax_path, "amount")
            taxes.append({"salesTax": {"id": tax["id"]}, "rate": tax["rate"], "_given": amount})
        description = item["description"] if "description" in item else product["description"]
        return {"product": {"id": product["id"]}, "account": dict(product["incomeAccount"]),
                "description": description, "quantity": util.dec_str(qty),
                "unitPrice": util.dec_str(price), "price": util.dec_str(price),
                "subtotal": util.money(subtotal, cur), "taxes": taxes,
                "_gross": gross, "_subtotal": subtotal}

    @staticmethod
    def _price_line(line: dict, share: Decimal, cur: dict) -> Decimal:
        """Taxes on the line's amount less its share of the invoice discount; returns the tax."""
        base, tax_sum = line.pop("_gross") - share, Decimal(0)
        for tax in line["taxes"]:
            amount = tax.pop("_given")
            if amount is None:
                amount = util.round_places(base * Decimal(tax["rate"]), cur["exponent"])
            tax["amount"] = util.money(amount, cur)
            tax_sum += amount
        line["total"] = util.money(line.pop("_subtotal") - share + tax_sum, cur)
        return tax_sum

    def _invoice_changes(self, data: dict, current: dict | None) -> dict:
        changes: dict = {}
        if current is None or "customerId" in data:
            if data.get("customerId") not in self.customers_by_id:
                raise input_error("Customer not found.", "customerId", code="NOT_FOUND")
            changes["customer"] = {"id": data["customerId"]}
        if "status" in data:
            if data["status"] not in EDITABLE_STATUSES:
                raise input_error("Status must be DRAFT or SAVED.", "status")
            if current is not None and current["status"] not in EDITABLE_STATUSES:
                raise input_error("An approved invoice cannot go back to "
                                  f"{data['status']}.", "status")
            changes["status"] = data["status"]
        if "currency" in data and data["currency"]:
            changes["currency"] = util.currency(data["currency"])
        if data.get("exchangeRate") is not None:
            rate = self.decimal_input(data["exchangeRate"], "exchangeRate", 8)
            if rate <= 0:
                raise input_error("Exchange rate must be positive.", "exchangeRate")
            changes["exchangeRate"] = util.dec_str(rate)
        number = data.get("invoiceNumber")
        if number is not None:
            number = str(number).strip()
            own_id = current["id"] if current else None
            if not number:
                raise input_error("Invoice number cannot be empty.", "invoiceNumber")
            if any(inv["invoiceNumber"] == number and inv["id"] != own_id
                   for inv in self.invoices_by_id.values()):
                raise input_error(f"Invoice number {number} is already in use.",
                                  "invoiceNumber", code="DUPLICATE")
            changes["invoiceNumber"] = number
        for key in ("invoiceDate", "dueDate"):
            if data.get(key) is not None:
                try:
                    changes[key] = util.parse_date(data[key]).isoformat()
                except ValueError:
                    raise input_error(f"{key} must be yyyy-MM-dd.", key) from None
        for key in (*_OPTIONAL_TEXT, *_DEFAULTS):
            if key in data and (data[key] is not None or key in _OPTIONAL_TEXT):
                changes[key] = data[key]
        return changes

    def _apply_items(self, record: dict, items: list[dict]) -> None:
        cur = record["currency"]
        lines = [self._line(item, i, cur) for i, item in enumerate(items)]
        subtotals = [line["_subtotal"] for line in lines]
        subtotal = sum(subtotals, Decimal(0))
        off = discounts.amount_off(record["discounts"], subtotal, cur["exponent"])
        shares = discounts.spread(off, subtotals, cur["exponent"])
        tax = sum((self._price_line(line, share, cur) for line, share in zip(lines, shares)),
                  Decimal(0))
        record["items"] = lines
        record["subtotal"] = util.money(subtotal, cur)
        record["discountTotal"] = util.money(off, cur)
        record["taxTotal"] = util.money(tax, cur)
        record["total"] = util.money(subtotal - off + tax, cur)
        self._refresh_amounts(record)

    @staticmethod
    def _refresh_amounts(record: dict) -> None:
        cur = record["currency"]
        paid = Decimal(record["amountPaid"]["value"]) if record.get("amountPaid") else Decimal(0)
        record["amountPaid"] = util.money(paid, cur)
        record["amountDue"] = util.money(Decimal(record["total"]["value"]) - paid, cur)

    @staticmethod
    def _check_dates(record: dict) -> None:
        if record["dueDate"] < record["invoiceDate"]:
            raise input_error("Due date cannot be before the invoice date.", "dueDate")

    # ----- mutations --------------------------------------------------------------------
    def invoice_create(self, data: dict) -> dict:
        with self.lock:
            changes = self._invoice_changes(data, None)
            inv_date = changes.get("invoiceDate") or today().isoformat()
            due = changes.get("dueDate") or (
                date.fromisoformat(inv_date) + timedelta(days=PAYMENT_TERMS_DAYS)).isoformat()
            iid = util.new_id("Invoice")
            record = {"id": iid, "internalId": None, "status": "DRAFT",
                      "currency": dict(self.business["currency"]), "exchangeRate": "1",
                      **{k: None for k in _OPTIONAL_TEXT}, **_DEFAULTS, "source": None,
                      "lastSentAt": None, "lastSentVia": None, "lastViewedAt": None,
                      "pdfUrl": f"https://sandbox.invalid/invoices/{iid}.pdf",
                      "viewUrl": f"https://sandbox.invalid/invoices/{iid}",
                      **changes, "invoiceDate": inv_date, "dueDate": due}
            record.setdefault("invoiceNumber", self._next_invoice_number())
            self._check_dates(record)
            now = self.clock.now()
            record["discounts"] = discounts.parse(data.get("discounts"), [], now,
                                                  record["currency"]["exponent"])
            self._apply_items(record, data.get("items") or [])
            record["createdAt"] = record["modifiedAt"] = now
            self.invoices_by_id[iid] = record
            return self.copy(record)

    def _invoice(self, iid, field: str = "id") -> dict:
        return self._get(self.invoices_by_id, iid, "Invoice", field)

    def invoice_patch(self, data: dict) -> dict:
        with self.lock:
            current = self._invoice(data.get("id"))
            self.refuse_nulls(data)
            if current["status"] in PAID_STATUSES:
                raise input_error("Paid invoices cannot be changed.", "id", code="INVOICE_PAID")
            record = self.copy(current)
            record.update(self._invoice_changes(data, current))
            self._check_dates(record)
            new_discount = data.get("discounts") is not None
            record["discounts"] = discounts.parse(data.get("discounts"), current["discounts"],
                                                  self.clock.now(), record["currency"]["exponent"])
            if "items" in data or "currency" in data or new_discount:
                if data.get("items") is not None:
                    items = data["items"]
                else:  # re-price the existing lines (in the new currency, or the new discount)
                    items = [{"productId": ln["product"]["id"], "description": ln["description"],
                              "quantity": ln["quantity"], "unitPrice": ln["unitPrice"],
                              "taxes": [{"salesTaxId": t["salesTax"]["id"],
                                         **({} if new_discount else {"amount": t["amount"]["value"]})}
                                        for t in ln["taxes"]]}
                             for ln in current["items"]]
                self._apply_items(record, items)
            record["modifiedAt"] = self.clock.now()
            self.invoices_by_id[record["id"]] = record
            return self.copy(record)

    def invoice_delete(self, iid) -> None:
        with self.lock:
            self._invoice(iid, "invoiceId")
            if self.payments_of(iid):  # Wave refuses, whatever the status says
                raise input_error("Invoices with payments cannot be deleted.", "invoiceId",
                                  code="INVOICE_PAID")
            del self.invoices_by_id[iid]

    def invoice_approve(self, iid) -> dict:
        with self.lock:
            record = self._invoice(iid, "invoiceId")
            if record["status"] not in EDITABLE_STATUSES:
                raise input_error("Invoice is already approved.", "invoiceId",
                                  code="INVALID_STATUS")
            record["status"] = "UNPAID"
            record["modifiedAt"] = self.clock.now()
            return self.copy(record)

    def invoice_mark_sent(self, iid, send_method: str = "MARKED_SENT", sent_at=None) -> dict:
        with self.lock:
            record = self._invoice(iid, "invoiceId")
            if record["status"] in EDITABLE_STATUSES:
                raise input_error("Approve the invoice before sending it.", "invoiceId",
                                  code="INVALID_STATUS")
            if sent_at is not None:
                try:
                    sent_at = util.format_ms(util.parse_datetime_ms(sent_at))
                except ValueError:
                    raise input_error("sentAt must be an ISO-8601 date-time.", "sentAt") from None
            if record["status"] in ("UNPAID", "OVERDUE"):
                record["status"] = "SENT"
            record["lastSentAt"] = sent_at or self.clock.now()
            record["lastSentVia"] = send_method
            record["modifiedAt"] = self.clock.now()
            return self.copy(record)
