"""Small helpers: Wave-like ids, a monotonic millisecond clock, decimals, reference data."""
from __future__ import annotations

import base64
import re
import threading
import time
import uuid
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ABSURD = Decimal("1e12")  # anything at or beyond this is treated as nonsense input


def new_id(type_name: str) -> str:
    """Opaque id like Wave's: base64 of "<Type>:<uuid>"."""
    return base64.b64encode(f"{type_name}:{uuid.uuid4()}".encode()).decode()


class Clock:
    """UTC millisecond timestamps that never go backwards (ties in one millisecond allowed)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            self._last = max(self._last, int(time.time() * 1000))
            return self._last

    def now(self) -> str:
        return format_ms(self.now_ms())


def format_ms(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_datetime_ms(value: str) -> int:
    """ISO-8601 string -> epoch milliseconds (naive values are taken as UTC)."""
    dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(round(dt.timestamp() * 1000))


def parse_date(value) -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"Date must be yyyy-MM-dd, got {value!r}")
    return date.fromisoformat(value)


def to_decimal(value) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a decimal: {value!r}")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    return d


def round_places(d: Decimal, places: int) -> Decimal:
    """Round to `places` decimals, ties away from zero."""
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def dec_str(d: Decimal) -> str:
    """Plain (non-scientific) string of a decimal, without trailing zeros ("3", "9.99")."""
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_CURRENCIES = {
    "CAD": ("$", "Canadian dollar", "Canadian dollars", 2),
    "USD": ("$", "United States dollar", "United States dollars", 2),
    "EUR": ("€", "Euro", "Euros", 2),
    "GBP": ("£", "Pound sterling", "Pounds sterling", 2),
    "AUD": ("$", "Australian dollar", "Australian dollars", 2),
    "JPY": ("¥", "Japanese yen", "Japanese yen", 0),
}


def currency(code: str) -> dict:
    symbol, name, plural, exponent = _CURRENCIES.get(code, (code, code, code, 2))
    return {"code": code, "symbol": symbol, "name": name, "plural": plural, "exponent": exponent}


def money(amount: Decimal, cur: dict) -> dict:
    """Wave Money: {value: "12.34", raw: 1234, currency}. Decimal only, ROUND_HALF_UP."""
    exp = cur["exponent"]
    q = round_places(amount, exp)
    return {"value": format(q, "f"), "raw": int(q.scaleb(exp)), "currency": dict(cur)}


_COUNTRIES = {
    "CA": ("Canada", "Canada", "CAD"),
    "US": ("United States", "the United States", "USD"),
    "GB": ("United Kingdom", "the United Kingdom", "GBP"),
    "DE": ("Germany", "Germany", "EUR"),
    "FR": ("France", "France", "EUR"),
    "AU": ("Australia", "Australia", "AUD"),
}

_PROVINCES = {
    "CA-AB": "Alberta", "CA-BC": "British Columbia", "CA-MB": "Manitoba",
    "CA-NB": "New Brunswick", "CA-NL": "Newfoundland and Labrador", "CA-NS": "Nova Scotia",
    "CA-NT": "Northwest Territories", "CA-NU": "Nunavut", "CA-ON": "Ontario",
    "CA-PE": "Prince Edward Island", "CA-QC": "Quebec", "CA-SK": "Saskatchewan", "CA-YT": "Yukon",
    "US-CA": "California", "US-NY": "New York", "US-TX": "Texas", "US-WA": "Washington",
    "US-FL": "Florida", "US-IL": "Illinois", "US-MA": "Massachusetts",
}

PROVINCE_RE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


def country(code: str) -> dict:
    name, with_article, cur = _COUNTRIES.get(code, (code, code, "USD"))
    return {"code": code, "name": name, "nameWithArticle": with_article,
            "currency": currency(cur), "provinces": []}


def province(code: str) -> dict:
    return {"code": code, "name": _PROVINCES.get(code, code), "slug": None}
