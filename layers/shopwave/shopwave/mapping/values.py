"""Canonical values: what both systems agree a field holds, compared and hashed exactly."""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

# Refuse numbers no shop or ledger means (a 40-digit price is an error, not a price).
MAX_INTEGER_DIGITS = 12


class BadValue(ValueError):
    """A value that cannot be carried across as it is; the record is parked with this reason."""


def text(value: Any) -> str | None:
    """Text travels verbatim; empty means absent, on both sides."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    return value if value != "" else None


def code(value: Any) -> str | None:
    """ISO codes compare case-insensitively; upper case is canonical."""
    value = text(value)
    return value.strip().upper() if value else None


def decimal(value: Any, *, minimum: Decimal | None = None) -> str | None:
    """A decimal as its shortest exact string ("19.90" and "19.9" are the same price)."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        raise BadValue(f"{value!r} is a float; money and quantities travel as decimal strings")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BadValue(f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise BadValue(f"{value!r} is not a finite number")
    if number.adjusted() >= MAX_INTEGER_DIGITS:
        raise BadValue(f"{value!r} has more than {MAX_INTEGER_DIGITS} integer digits")
    if minimum is not None and number < minimum:
        raise BadValue(f"{value!r} is below {minimum}")
    if number == 0:
        return "0"
    return format(number.normalize(), "f")


def field_decimal(name: str, value: Any, *, minimum: Decimal | None = None) -> str | None:
    """`decimal`, with the field's name in the reason a refused value gives."""
    try:
        return decimal(value, minimum=minimum)
    except BadValue as bad:
        raise BadValue(f"{name}: {bad}") from None


def region(value: Any, country: str | None) -> str | None:
    """ISO 3166-2 subdivision: a shop's local part (`ON`) gets its country prefixed (`CA-ON`)."""
    value = code(value)
    if not value:
        return None
    if "-" not in value and country:
        return f"{country}-{value}"
    return value


def state_hash(state: dict[str, Any]) -> str:
    """Hash of a canonical record: equal hashes mean equal mapped fields."""
    blob = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
