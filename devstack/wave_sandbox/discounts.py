"""Wave's native invoice discount in the sandbox: `discounts` on invoiceCreate / invoicePatch.

What Wave says (shared/wave/README.md): at most one discount per invoice, a FIXED amount or a
PERCENTAGE of the subtotal, applied before tax; read back as `discounts` and `discountTotal`.

What Wave does not say, and the sandbox therefore chooses: how the discount is spread over lines
taxed at different rates. The sandbox spreads the discount (a PERCENTAGE first becomes an amount,
rounded to the cent) over the lines with a positive subtotal in proportion to their subtotals,
each share rounded to the cent (half up), and the line with the largest subtotal (the first of
equals) takes what is left, so the shares add up to `discountTotal` exactly (with many small
shares that remainder can be a few cents off the largest line's own proportion, even below 0).
Each line's taxes are then computed on (quantity x unit price - its share), rounded to the cent:
  subtotal      = sum of line subtotals (before the discount)
  discountTotal = the discount
  taxTotal      = sum of line taxes (on the discounted amounts)
  total         = subtotal - discountTotal + taxTotal
  a line's total = its subtotal - its share + its taxes (line totals add up to the total).
A discount larger than the invoice's subtotal is refused (an input error).
"""
from __future__ import annotations

from decimal import Decimal

from . import util
from .errors import input_error

MAX_DISCOUNTS = 1
_TYPENAMES = {"FIXED": "FixedInvoiceDiscount", "PERCENTAGE": "PercentageInvoiceDiscount"}
_VALUE_FIELD = {"FIXED": "amount", "PERCENTAGE": "percentage"}


def _decimal(value, *path: str) -> Decimal:
    try:
        number = util.to_decimal(value)
    except ValueError:
        raise input_error(f"{path[-1]} must be a decimal number.", *path) from None
    if number < 0 or number >= util.ABSURD:
        raise input_error(f"{path[-1]} must be 0 or more.", *path)
    return number


def parse(given: list | None, previous: list[dict], now: str, exponent: int) -> list[dict]:
    """The invoice's stored discounts after `given` (None: unchanged, []: none)."""
    if given is None:
        return previous
    if len(given) > MAX_DISCOUNTS:
        raise input_error("An invoice can have at most one discount.", "discounts")
    out = []
    for index, raw in enumerate(given):
        kind = raw["discountType"]
        field = _VALUE_FIELD[kind]
        path = ("discounts", str(index), field)
        if raw.get(field) is None:
            raise input_error(f"A {kind} discount needs {field}.", *path, code="REQUIRED")
        value = _decimal(raw[field], *path)
        if kind == "PERCENTAGE" and value > 100:
            raise input_error("percentage must be at most 100.", *path)
        value = util.round_places(value, exponent if kind == "FIXED" else 5)
        record = {"__typename": _TYPENAMES[kind], "discountType": kind, "name": raw.get("name"),
                  field: util.dec_str(value)}
        old = previous[index] if index < len(previous) else None
        same = old is not None and all(old.get(k) == v for k, v in record.items())
        out.append({**record, "createdAt": old["createdAt"] if old else now,
                    "modifiedAt": old["modifiedAt"] if same else now})
    return out


def amount_off(discounts: list[dict], subtotal: Decimal, exponent: int) -> Decimal:
    """The invoice's discountTotal for a subtotal; refused when more than the subtotal."""
    total = Decimal(0)
    for index, discount in enumerate(discounts):
        if discount["discountType"] == "FIXED":
            total += Decimal(discount["amount"])
        else:
            total += util.round_places(subtotal * Decimal(discount["percentage"]) / 100, exponent)
        if total > max(subtotal, Decimal(0)):
            field = _VALUE_FIELD[discount["discountType"]]
            raise input_error(f"The discount ({util.dec_str(total)}) is more than the invoice's "
                              f"subtotal ({util.dec_str(subtotal)}).", "discounts", str(index), field)
    return total


def spread(amount: Decimal, subtotals: list[Decimal], exponent: int) -> list[Decimal]:
    """Each line's share of `amount` (see the module docstring); the shares add up to it."""
    shares = [Decimal(0)] * len(subtotals)
    positive = [i for i, subtotal in enumerate(subtotals) if subtotal > 0]
    if not amount or not positive:
        return shares
    base = sum((subtotals[i] for i in positive), Decimal(0))
    largest = max(positive, key=lambda i: subtotals[i])  # max() keeps the first of equals
    for i in positive:
        if i != largest:
            shares[i] = util.round_places(amount * subtotals[i] / base, exponent)
    shares[largest] = amount - sum(shares, Decimal(0))
    return shares
