"""Invoice payments in the sandbox: invoicePaymentCreateManual / invoicePaymentPatch /
invoicePaymentDelete, `Invoice.payments` and `Business.invoicePayment(id)`.

A payment records money already received into a cash-and-bank account (an account whose
subtype is CASH_AND_BANK) against an approved invoice (not DRAFT or SAVED). More than the amount
due is accepted. After every payment write the invoice is settled (`_settle`): `amountPaid` is
the sum of its payments, `amountDue` = total - amountPaid (negative when overpaid), and its status
is PARTIAL, PAID or OVERPAID, or back to UNPAID (SENT once sent) when no payment is left.
An invoice with payments cannot be deleted (invoices.py) or changed (Wave "limits edits").
"""
from __future__ import annotations

from decimal import Decimal

from . import util
from .errors import input_error
from .invoices import today

PAYMENT_ACCOUNT_SUBTYPE = "CASH_AND_BANK"
APPROVAL_NEEDED = {"DRAFT", "SAVED"}


class PaymentMixin:
    """Mixed into Store; uses its tables (`payments_by_id`), lock, clock and helpers."""

    def payments_of(self, invoice_id) -> list[dict]:
        return [p for p in self.payments_by_id.values() if p["invoice"]["id"] == invoice_id]

    def _settle(self, invoice: dict) -> None:
        """Recompute the invoice's amounts and status from its payments (after any payment write)."""
        cur = invoice["currency"]
        paid = sum((Decimal(p["amount"]) for p in self.payments_of(invoice["id"])), Decimal(0))
        total = Decimal(invoice["total"]["value"])
        invoice["amountPaid"] = util.money(paid, cur)
        invoice["amountDue"] = util.money(total - paid, cur)
        if paid <= 0:
            invoice["status"] = "SENT" if invoice.get("lastSentAt") else "UNPAID"
        else:
            invoice["status"] = "PARTIAL" if paid < total else "PAID" if paid == total else "OVERPAID"
        # unconfirmed for the live API: played both ways (WaveSandbox.play_undocumented)
        if self.undocumented.payments_bump_modified_at:
            invoice["modifiedAt"] = self.clock.now()

    # ----- validation -------------------------------------------------------------------
    def _payment_account(self, account_id, field: str = "paymentAccountId") -> dict:
        account = self._get(self.accounts_by_id, account_id, "Account", field)
        if account["subtype"]["value"] != PAYMENT_ACCOUNT_SUBTYPE or account["isArchived"]:
            raise input_error("A payment goes into an active cash-and-bank account.", field)
        return {"id": account_id}

    def _payment_amount(self, value, invoice: dict) -> str:
        amount = self.decimal_input(value, "amount", invoice["currency"]["exponent"])
        if amount <= 0:
            raise input_error("Payment amount must be more than 0.", "amount")
        return util.dec_str(amount)

    def _payment_changes(self, data: dict, invoice: dict) -> dict:
        changes: dict = {}
        if data.get("paymentAccountId") is not None:
            changes["account"] = self._payment_account(data["paymentAccountId"])
        if data.get("amount") is not None:
            changes["amount"] = self._payment_amount(data["amount"], invoice)
        if data.get("exchangeRate") is not None:
            rate = self.decimal_input(data["exchangeRate"], "exchangeRate", 8)
            if rate <= 0:
                raise input_error("Exchange rate must be positive.", "exchangeRate")
            changes["exchangeRate"] = util.dec_str(rate)
        for key in ("paymentDate", "paymentMethod"):
            if data.get(key) is not None:
                changes[key] = data[key]
        if "memo" in data:
            changes["memo"] = data["memo"]
        return changes

    # ----- writes -----------------------------------------------------------------------
    def payment_create(self, data: dict) -> dict:
        with self.lock:
            invoice = self._invoice(data.get("invoiceId"), "invoiceId")
            if invoice["status"] in APPROVAL_NEEDED:
                raise input_error("Approve the invoice before recording a payment.", "invoiceId",
                                  code="INVALID_STATUS")
            changes = self._payment_changes(data, invoice)
            now = self.clock.now()
            pid = util.new_id("InvoicePayment")
            record = {"id": pid, "memo": None, "exchangeRate": "1", **changes,
                      "invoice": {"id": invoice["id"]}, "customer": dict(invoice["customer"]),
                      "createdAt": now, "modifiedAt": now}
            self.payments_by_id[pid] = record
            self._settle(invoice)
            return self.copy(record)

    def payment_patch(self, data: dict) -> dict:
        with self.lock:
            record = self._get(self.payments_by_id, data.get("id"), "Payment")
            invoice = self.invoices_by_id[record["invoice"]["id"]]
            record.update(self._payment_changes(data, invoice))
            record["modifiedAt"] = self.clock.now()
            self._settle(invoice)
            return self.copy(record)

    def payment_delete(self, pid) -> None:
        with self.lock:
            record = self._get(self.payments_by_id, pid, "Payment")
            del self.payments_by_id[pid]
            self._settle(self.invoices_by_id[record["invoice"]["id"]])

    def record_payment(self, iid, amount, method: str = "CASH", payment_date: str | None = None,
                       account_id: str | None = None, memo: str | None = None) -> dict:
        """What a merchant does in Wave's screens (a cheque, cash): a payment on an approved
        invoice, into the first cash-and-bank account unless one is named; more than the amount
        due is accepted (OVERPAID). Returns the invoice."""
        with self.lock:
            if account_id is None:
                account_id = next(a["id"] for a in self.accounts_by_id.values()
                                  if a["subtype"]["value"] == PAYMENT_ACCOUNT_SUBTYPE)
            self.payment_create({"invoiceId": iid, "paymentAccountId": account_id, "amount": amount,
                                 "paymentDate": payment_date or today().isoformat(),
                                 "paymentMethod": method, "memo": memo})
            return self.copy(self.invoices_by_id[iid])


# ----- GraphQL views and mutations (used by api.Api) ---------------------------------------------
def view(api, record: dict) -> dict:
    store = api.s
    return {**record,
            "account": api.account(store.accounts_by_id[record["account"]["id"]]),
            "customer": api.customer(store.customers_by_id[record["customer"]["id"]]),
            "invoice": lambda info: api.invoice(store.invoices_by_id[record["invoice"]["id"]])}


def invoice_payments(api, invoice_id) -> list[dict]:
    return [view(api, p) for p in api.s.payments_of(invoice_id)]


def look_up(api, pid) -> dict:
    """Business.invoicePayment(id): an unknown id is a NOT_FOUND error, like Wave's look-ups."""
    from .api import query_error  # api imports this module

    record = api.s.payments_by_id.get(pid)
    if record is None:
        raise query_error("Invoice payment not found.", "NOT_FOUND")
    return view(api, record)


def mutations(api) -> dict:
    s = api.s
    return {
        "invoicePaymentCreateManual": lambda info, input: api._mutate(
            "invoicePayment", lambda: s.payment_create(input), lambda r: view(api, r)),
        "invoicePaymentPatch": lambda info, input: api._mutate(
            "invoicePayment", lambda: s.payment_patch(input), lambda r: view(api, r)),
        "invoicePaymentDelete": lambda info, input: api._mutate(
            None, lambda: s.payment_delete(input["id"])),
    }
