"""The payments the sync records on an invoice for money the webshop took (docs/SYNC.md: payments).

Wave's `invoicePaymentCreateManual` has no idempotency key, so the sync's own payments carry a
marker in their memo (`[shopwave]`; an invoice stands for one order): before it records
anything it counts the payments already on the invoice that carry it, and records only the
difference.
A payment that reached Wave before a crash or a timeout is therefore found, never recorded twice;
a payment the merchant recorded in Wave (no marker) is never touched.

`SettlePayments` is the invoice's `@payments` action (engine/declarations.py WaveWrite.actions):
from the invoice as last read and the total the order's own payments should come to, it plans
the mutations (approve a draft first; create, reduce or delete the sync's payments) that both
the GraphQL side (wave/side.py) and the in-memory side run.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..clients.errors import Refused
from . import operations as ops

Record = dict[str, Any]

PAYMENT_SELECTION = "id amount paymentDate paymentMethod memo"
_PAYMENT_OUTPUT = f"{ops.ERRORS} invoicePayment {{ {PAYMENT_SELECTION} }}"
CREATE_PAYMENT = ("mutation InvoicePaymentCreateManual($input: InvoicePaymentCreateManualInput!) { "
                  f"invoicePaymentCreateManual(input: $input) {{ {_PAYMENT_OUTPUT} }} }}")
PATCH_PAYMENT = ("mutation InvoicePaymentPatch($input: InvoicePaymentPatchInput!) { "
                 f"invoicePaymentPatch(input: $input) {{ {_PAYMENT_OUTPUT} }} }}")
DELETE_PAYMENT = ("mutation InvoicePaymentDelete($input: InvoicePaymentDeleteInput!) { "
                  f"invoicePaymentDelete(input: $input) {{ {ops.ERRORS} }} }}")
PAYMENT_DOCUMENTS = {"invoicePaymentCreateManual": CREATE_PAYMENT, "invoicePaymentPatch": PATCH_PAYMENT,
                     "invoicePaymentDelete": DELETE_PAYMENT}

# Wave statuses of an invoice that is not approved yet: it takes no payment until approved.
NOT_APPROVED = frozenset({"DRAFT", "SAVED"})


MARKER = "[shopwave]"


def memo(number: str | None) -> str:
    return f"Order {number or ''} paid in the webshop {MARKER}"


def amount_of(payment: Record) -> Decimal:
    return Decimal(str(payment.get("amount") or "0"))


def is_the_syncs(payment: Record) -> bool:
    return MARKER in (payment.get("memo") or "")


def split(invoice: Record) -> tuple[Decimal, Decimal]:
    """(the sync's payments, everyone else's) on an invoice, as totals."""
    mine = others = Decimal(0)
    for payment in invoice.get("payments") or []:
        if is_the_syncs(payment):
            mine += amount_of(payment)
        else:
            others += amount_of(payment)
    return mine, others


@dataclass(frozen=True)
class Operation:
    mutation: str
    document: str
    input: Record
    payment_id: str | None = None  # the payment a patch or delete changes


@dataclass(frozen=True)
class PaymentTarget:
    """What the order says the sync's payments on its invoice should come to, and how to record more."""
    number: str | None
    total: Decimal  # the money the webshop itself took for the order (refunds taken off)
    first_date: str  # paymentDate of the first payment: the order's date (paid at checkout)
    later_date: str  # of a later one: the day the sync saw it
    account_id: str
    method: str


@dataclass(frozen=True)
class SettlePayments:
    """The invoice's `@payments` action: bring the sync's payments to `PaymentTarget.total`.
    `approve`: the mutation approving an invoice (Wave takes payments only on approved ones)."""
    approve: str

    def operations(self, resource, invoice: Record, target: PaymentTarget) -> list[Operation]:
        mine = sorted((p for p in invoice.get("payments") or [] if is_the_syncs(p)),
                      key=lambda p: (p.get("paymentDate") or "", p["id"]))
        recorded = sum((amount_of(p) for p in mine), Decimal(0))
        if target.total < 0:
            raise Refused(f"the webshop's refunds on order {target.number} exceed what it took by "
                          f"{-target.total}: payments recorded in Wave are the merchant's and are left alone")
        if target.total == recorded:
            return []
        if target.total > recorded:
            steps = []
            if invoice.get("status") in NOT_APPROVED:
                steps.append(Operation(self.approve, ops.action_document(resource, self.approve),
                                       {resource.write.id_input: invoice["id"]}))
            steps.append(Operation("invoicePaymentCreateManual", CREATE_PAYMENT, {
                "invoiceId": invoice["id"], "paymentAccountId": target.account_id,
                "amount": str(target.total - recorded), "paymentDate": target.later_date if mine else target.first_date,
                "paymentMethod": target.method, "memo": memo(target.number)}))
            return steps
        return self._refund(mine, recorded - target.total)

    @staticmethod
    def _refund(mine: list[Record], excess: Decimal) -> list[Operation]:
        """Take `excess` off the sync's payments, newest first: whole payments are deleted, the
        last one touched is reduced."""
        steps = []
        for payment in reversed(mine):
            if excess <= 0:
                break
            amount = amount_of(payment)
            if amount <= excess:
                steps.append(Operation("invoicePaymentDelete", DELETE_PAYMENT, {"id": payment["id"]}, payment["id"]))
            else:
                steps.append(Operation("invoicePaymentPatch", PATCH_PAYMENT,
                                       {"id": payment["id"], "amount": str(amount - excess)}, payment["id"]))
            excess -= amount
        return steps

    @staticmethod
    def applied(invoice: Record, step: Operation, answer: Record | None, output: str = "invoice") -> Record:
        """The invoice as it stands after one step (no read: the answer says it)."""
        if step.mutation not in PAYMENT_DOCUMENTS:
            return (answer or {}).get(output) or invoice
        payments = [p for p in invoice.get("payments") or [] if p["id"] != step.payment_id]
        if step.mutation != "invoicePaymentDelete":
            payments.append((answer or {}).get("invoicePayment") or {"id": step.payment_id, **step.input})
        return {**invoice, "payments": payments}
