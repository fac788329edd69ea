"""Wire value helpers: timestamps, dates, decimal strings, simple string checks."""

import re
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

from .errors import bad_request, invalid

TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, so string order == time order
# ASCII digits only and nothing after the value (``$`` would let a trailing newline through)
_DECIMAL_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CENT = Decimal("0.01")
MAX_INTEGER_DIGITS = 12


def format_ts(moment):
    """datetime (aware) -> '2025-11-25T11:59:59.250000Z'."""
    return moment.astimezone(timezone.utc).strftime(TS_FORMAT)


def parse_ts(text, name="timestamp"):
    """RFC 3339 with an offset (or Z) -> aware UTC datetime; 400 when malformed.

    Fractions finer than microseconds are truncated, which keeps a strict ``>`` exact
    against stored microsecond timestamps.
    """
    match = re.fullmatch(
        r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?([Zz]|[+\- ][0-9]{2}:[0-9]{2})",
        text or "",
    )
    if not match:
        raise bad_request(f"{name} must be an RFC 3339 timestamp with an offset, got {text!r}")
    day, clock, fraction, offset = match.groups()
    fraction = (fraction or ".0")[1:7].ljust(6, "0")
    # "+" arrives as a space when a client forgets to URL-encode the query string.
    offset = "+00:00" if offset in ("Z", "z") else offset.replace(" ", "+")
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}.{fraction}{offset}")
    except ValueError:
        raise bad_request(f"{name} is not a valid timestamp: {text!r}") from None
    return moment.astimezone(timezone.utc)


def check_date(value, field, nullable=True):
    if value is None:
        if nullable:
            return None
        raise invalid(f"{field} is required")
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise invalid(f"{field} must be a date 'YYYY-MM-DD'")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise invalid(f"{field} is not a real date: {value!r}") from None
    return value


def parse_decimal(value, field, *, max_places=None, allow_negative=False):
    """A decimal *string* -> Decimal; 422 for numbers, floats, junk, sign, scale, size."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise invalid(f"{field} must be a decimal string such as \"19.90\", not {type(value).__name__}")
    if not _DECIMAL_RE.fullmatch(value):
        raise invalid(f"{field} must be a plain decimal string such as \"19.90\", got {value!r}")
    number = Decimal(value)
    if number < 0 and not allow_negative:
        raise invalid(f"{field} must not be negative, got {value!r}")
    integer_part = value.lstrip("-").split(".")[0].lstrip("0")
    if len(integer_part) > MAX_INTEGER_DIGITS:
        raise invalid(f"{field} is too large (more than {MAX_INTEGER_DIGITS} integer digits)")
    places = len(value.split(".")[1]) if "." in value else 0
    if max_places is not None and places > max_places:
        raise invalid(f"{field} allows at most {max_places} decimal places, got {value!r}")
    return number


def money(value, field):
    """Money string (>= 0, at most 2 places) -> canonical 2-place string."""
    return cents(parse_decimal(value, field, max_places=2))


def cents(number):
    return str(number.quantize(CENT, rounding=ROUND_HALF_UP))


def plain(number):
    """Decimal -> shortest plain string ('1.50' -> '1.5', '2.0' -> '2'), never exponent."""
    text = format(number.normalize(), "f")
    return text if text != "-0" else "0"


def check_str(value, field, *, required=False, max_len=1000):
    if value is None:
        if required:
            raise invalid(f"{field} is required")
        return None
    if not isinstance(value, str):
        raise invalid(f"{field} must be a string or null")
    if required and not value.strip():
        raise invalid(f"{field} must not be empty")
    if len(value) > max_len:
        raise invalid(f"{field} is longer than {max_len} characters")
    return value


def check_email(value, field="email"):
    check_str(value, field, max_len=254)
    if value is not None and not _EMAIL_RE.fullmatch(value):
        raise invalid(f"{field} does not look like an email address: {value!r}")
    return value


def check_code(value, field, length, what):
    """Upper-case letter codes: currency (3, ISO 4217), country (2, ISO 3166-1)."""
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(rf"[A-Z]{{{length}}}", value):
        raise invalid(f"{field} must be an {what} code of {length} upper-case letters, got {value!r}")
    return value


def check_bool(value, field):
    if not isinstance(value, bool):
        raise invalid(f"{field} must be true or false")
    return value


def check_enum(value, field, allowed):
    if value not in allowed:
        raise invalid(f"{field} must be one of {', '.join(allowed)}; got {value!r}")
    return value
