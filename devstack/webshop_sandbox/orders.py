"""Order normalisation: lines (ids, defaults from the product), rules, and totals.

Totals (decimal.Decimal, ROUND_HALF_UP to cents):
  line gross    = round(quantity * unit_price, 2)
  line amount   = line gross - line discount
  line tax      = round(line amount * tax_rate, 2)        (no tax_rate -> 0)
  subtotal      = sum of line gross
  discount_total= sum of line discounts + order_discount  (order discount applies after tax)
  tax_total     = sum of line tax
  total         = subtotal - discount_total + tax_total
"""

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from .errors import invalid
from .values import CENT, cents, check_code, check_date, check_enum, check_str, money, parse_decimal, plain

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
        raise invalid(f"order_discount makes the total negative ({cents(total)})")
    return {"discount_total": cents(discount_total), "subtotal": cents(subtotal),
            "tax_total": cents(tax_total), "total": cents(total)}


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
    unit_price = _given(raw, "unit_price", product.get("price"))
    if unit_price is None:
        raise invalid(f"{where}.unit_price is required")
    unit_price = money(unit_price, f"{where}.unit_price")
    discount = money(raw.get("discount") if raw.get("discount") is not None else "0", f"{where}.discount")
    gross = _round(quantity * Decimal(unit_price))
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
    out["status"] = check_enum(_given(data, "status", "pending"), "status", STATUSES)
    out["payment_status"] = check_enum(_given(data, "payment_status", "unpaid"), "payment_status", PAYMENT_STATUSES)
    currency = _given(data, "currency", (customer or {}).get("currency"))
    if currency is None:
        raise invalid("currency is required (or set on the customer)")
    out["currency"] = check_code(currency, "currency", 3, "ISO 4217")
    today = datetime.now(timezone.utc).date().isoformat()
    out["order_date"] = check_date(_given(data, "order_date", today), "order_date", nullable=False)
    out["due_date"] = check_date(data.get("due_date"), "due_date")
    if out["due_date"] and out["due_date"] < out["order_date"]:
        raise invalid("due_date must not be before order_date")
    out["po_number"] = check_str(data.get("po_number"), "po_number", max_len=200)
    out["note"] = check_str(data.get("note"), "note", max_len=5000)
    given = data.get("lines") if data.get("lines") is not None else []
    lines, seq = _lines(given, previous.get("lines") or [], lookup, previous.get("_line_seq", 0))
    out["lines"] = lines
    out["order_discount"] = money(_given(data, "order_discount", "0"), "order_discount")
    out.update(compute_totals(lines, out["order_discount"]))
    out["amount_paid"] = money(_given(data, "amount_paid", "0"), "amount_paid")
    out["_line_seq"] = seq
    return out
