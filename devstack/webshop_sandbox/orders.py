"""Order normalisation: lines (ids, defaults from the product), rules, and totals.

Totals (decimal.Decimal, ROUND_HALF_UP to cents):
  line gross    = round(quantity * unit_price, 2)
  line amount   = line gross - line discount
  line tax      = round(line amount * tax_rate, 2)        (no tax_rate -> 0)
  subtotal      = sum of line gross
  discount_total= sum of line discounts + order discount  (order discount applies after tax)
  tax_total     = sum of line tax
  total         = subtotal - discount_total + tax_total

The order discount is not a contract field: the merchant sets it in the shop's own admin (the
sandbox's direct access, ``order_discount``), it is stored as ``_order_discount`` (internal keys
never reach the API) and an API client sees it only as what ``discount_total`` holds beyond the
lines' ``discount``s.
"""

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from .errors import invalid
from .values import (CENT, MAX_INTEGER_DIGITS, cents, check_code, check_date, check_enum, check_str, money,
                     parse_decimal, plain)

STATUSES = ("pending", "processing", "completed", "cancelled", "refunded")
PAYMENT_STATUSES = ("unpaid", "partially_paid", "paid", "refunded")


def _round(number):
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def compute_totals(lines, order_discount):
    subtotal = line_discounts = tax_total = Decimal("0")
    for line in lines:
        gross = _round(Decimal(line["quantity"]) * Decimal(line["unit_price"]))
        amount = gross - Decimal(line["discount"])
        rate = Decimal(line["tax_rate"]) if line["tax_rate"] is not None else Decimal("0")
        subtotal += gross
        line_discounts += Decimal(line["discount"])
        tax_total += _round(amount * rate)
    discount_total = line_discounts + Decimal(order_discount)
    total = subtotal - discount_total + tax_total
    if total < 0:
        raise invalid(f"the order's discount of {order_discount} (set in the shop) makes the total "
                      f"negative ({cents(total)})")
    for name, amount in (("subtotal", subtotal), ("discount_total", discount_total), ("total", total)):
        if _too_large(amount):
            raise invalid(f"the order's {name} is too large (more than {MAX_INTEGER_DIGITS} integer digits)")
    return {"discount_total": cents(discount_total), "subtotal": cents(subtotal),
            "tax_total": cents(tax_total), "total": cents(total)}


def _too_large(amount):
    return abs(amount) >= Decimal(10) ** MAX_INTEGER_DIGITS


def _line(raw, index, line_id, previous, lookup):
    where = f"lines[{index}]"
    if not isinstance(raw, dict):
        raise invalid(f"{where} must be an object")
    product_id = raw.get("product_id")
    if not isinstance(product_id, str) or not product_id:
        raise invalid(f"{where}.product_id is required")
    product = lookup("products", product_id)
    if previous is None or previous.get("product_id") != product_id:
        if product is None or product["deleted"]:
            raise invalid(f"{where}.product_id {product_id!r} is not an existing product")
    product = product or {}
    if raw.get("quantity") is None:
        raise invalid(f"{where}.quantity is required")
    quantity = parse_decimal(raw["quantity"], f"{where}.quantity", max_places=6)
    if quantity <= 0:
        raise invalid(f"{where}.quantity must be greater than 0")
    unit_price = raw.get("unit_price", product.get("price"))  # absent: the product's price
    if unit_price is None:
        raise invalid(f"{where}.unit_price is required")
    unit_price = money(unit_price, f"{where}.unit_price")
    discount = money(raw.get("discount", "0"), f"{where}.discount")
    gross = _round(quantity * Decimal(unit_price))
    if _too_large(gross):
        raise invalid(f"{where} amount (quantity x unit_price) is too large "
                      f"(more than {MAX_INTEGER_DIGITS} integer digits)")
    if Decimal(discount) > gross:
        raise invalid(f"{where}.discount {discount} is more than the line amount {cents(gross)}")
    tax_rate = raw.get("tax_rate")
    if tax_rate is not None:
        rate = parse_decimal(tax_rate, f"{where}.tax_rate", max_places=6)
        if rate > 1:
            raise invalid(f"{where}.tax_rate is a fraction (\"0.13\" for 13%), got {tax_rate!r}")
        tax_rate = plain(rate)
    return {
        "id": line_id,
        "product_id": product_id,
        "sku": check_str(raw.get("sku", product.get("sku")), f"{where}.sku", max_len=200),
        "description": check_str(raw.get("description", product.get("name")), f"{where}.description", max_len=5000),
        "quantity": plain(quantity),
        "unit_price": unit_price,
        "discount": discount,
        "tax_rate": tax_rate,
    }


def _lines(given, current, lookup, seq):
    """A line whose id matches a current line is merged onto it; others are new lines."""
    if not isinstance(given, list):
        raise invalid("lines must be a list")
    by_id = {line["id"]: line for line in current}
    out, seen = [], set()
    for index, raw in enumerate(given):
        line_id = raw.get("id") if isinstance(raw, dict) else None
        if line_id is not None and not isinstance(line_id, str):
            raise invalid(f"lines[{index}].id must be a string")
        previous = by_id.get(line_id)
        if previous is None:
            seq += 1
            line_id = f"l_{seq}"
            merged = raw
        else:
            if line_id in seen:
                raise invalid(f"lines[{index}].id {line_id!r} is given twice")
            merged = {**previous, **raw}
        seen.add(line_id)
        out.append(_line(merged, index, line_id, previous, lookup))
    return out, seq


def _given(data, key, default):
    value = data.get(key)
    return default if value is None else value


def _order_discount(data):
    """The merchant's order discount: given now (direct access only; null clears it), else the
    stored one, else none."""
    if "order_discount" in data:
        return money(_given(data, "order_discount", "0"), "order_discount")
    return data.get("_order_discount") or "0.00"


def normalize_order(data, lookup, previous=None):
    """Full order fields from merged input. ``previous`` is the stored order on PATCH."""
    previous = previous or {}
    out = {"number": check_str(data.get("number"), "number", max_len=100)}
    if out["number"] is not None and not out["number"].strip():
        raise invalid("number must not be empty")
    customer_id = check_str(data.get("customer_id"), "customer_id")
    customer = lookup("customers", customer_id) if customer_id else None
    if customer_id and customer_id != previous.get("customer_id"):
        if customer is None or customer["deleted"]:
            raise invalid(f"customer_id {customer_id!r} is not an existing customer")
    out["customer_id"] = customer_id
    # absent means the default; null is no value these fields can have (422)
    out["status"] = check_enum(data.get("status", "pending"), "status", STATUSES)
    out["payment_status"] = check_enum(data.get("payment_status", "unpaid"), "payment_status", PAYMENT_STATUSES)
    currency = _given(data, "currency", (customer or {}).get("currency"))
    if currency is None:
        raise invalid("currency is required (or set on the customer)")
    out["currency"] = check_code(currency, "currency", 3, "ISO 4217")
    today = datetime.now(timezone.utc).date().isoformat()
    out["order_date"] = check_date(data.get("order_date", today), "order_date", nullable=False)
    out["due_date"] = check_date(data.get("due_date"), "due_date")
    if out["due_date"] and out["due_date"] < out["order_date"]:
        raise invalid("due_date must not be before order_date")
    out["po_number"] = check_str(data.get("po_number"), "po_number", max_len=200)
    out["note"] = check_str(data.get("note"), "note", max_len=5000)
    given = data.get("lines", [])
    lines, seq = _lines(given, previous.get("lines") or [], lookup, previous.get("_line_seq", 0))
    out["lines"] = lines
    out["_order_discount"] = _order_discount(data)
    out.update(compute_totals(lines, out["_order_discount"]))
    out["amount_paid"] = money(data.get("amount_paid", "0"), "amount_paid")
    out["_line_seq"] = seq
    return out
