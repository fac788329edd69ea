"""The resources the sandbox serves (the contract's three by default), field lists, the 400
checks (shape, unknown fields), PATCH merging, and the customer/product normalisers (422 rules).
Orders live in ``orders.py``."""

from dataclasses import dataclass
from typing import Callable

from .errors import bad_request, invalid
from .orders import normalize_order
from .values import check_bool, check_code, check_email, check_str, money

META_FIELDS = ("id", "created_at", "updated_at", "version", "deleted")
ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")
SHIPPING_FIELDS = ("name", "phone", "instructions", "address")
LINE_FIELDS = ("id", "product_id", "sku", "description", "quantity", "unit_price", "discount", "tax_rate")
ORDER_COMPUTED = ("discount_total", "subtotal", "tax_total", "total")

WRITABLE = {
    "customers": ("email", "first_name", "last_name", "company", "phone", "mobile", "website",
                  "currency", "notes", "billing_address", "shipping"),
    "products": ("sku", "name", "description", "price", "currency", "active"),
    "orders": ("number", "customer_id", "status", "payment_status", "currency", "order_date",
               "due_date", "po_number", "note", "lines", "amount_paid"),
}
# What only the merchant sets, in the shop's own admin (the sandbox's direct Python access):
# never an API field, so a POST/PATCH carrying it is 400 unknown_field and no answer shows it.
# An order-level discount (a coupon) shows in the order's discount_total and total.
MERCHANT_ONLY = {"orders": ("order_discount",)}
# Objects merged (RFC 7396 style) by PATCH; "lines" is handled by orders.py.
NESTED = {"billing_address": ADDRESS_FIELDS, "shipping": SHIPPING_FIELDS, "address": ADDRESS_FIELDS}


def _check_keys(obj, allowed, where, read_only=()):
    for key in obj:
        if key in read_only:
            raise bad_request(f"{where}{key} is read-only", code="read_only_field")
        if key not in allowed:
            raise bad_request(f"{where}{key} is not a known field", code="unknown_field")


def check_shape(resource, body, merchant=False):
    """400 unless ``body`` is an object of ``resource``'s known, writable fields (nested ones included).

    ``merchant`` is the shop's own admin (direct access), which may also set merchant-only fields.
    """
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    read_only = META_FIELDS + resource.read_only
    allowed = resource.writable + (resource.merchant_only if merchant else ())
    _check_keys(body, allowed, "", read_only)
    for key, value in body.items():
        if key in NESTED and isinstance(value, dict):
            _check_keys(value, NESTED[key], f"{key}.")
            inner = value.get("address")
            if key == "shipping" and isinstance(inner, dict):
                _check_keys(inner, ADDRESS_FIELDS, "shipping.address.")
        if key == "lines" and isinstance(value, list):
            for index, line in enumerate(value):
                if isinstance(line, dict):
                    _check_keys(line, LINE_FIELDS, f"lines[{index}].")


def merge_patch(current, patch):
    """Fields given replace; nested objects merge key by key (null clears); lists replace."""
    merged = dict(current)
    for key, value in patch.items():
        if key in NESTED and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged


def _address(value, field):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(f"{field} must be an object or null")
    out = {name: check_str(value.get(name), f"{field}.{name}") for name in ADDRESS_FIELDS}
    check_code(out["country"], f"{field}.country", 2, "ISO 3166-1 alpha-2")
    return out


def _shipping(value):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid("shipping must be an object or null")
    out = {name: check_str(value.get(name), f"shipping.{name}") for name in SHIPPING_FIELDS[:3]}
    out["address"] = _address(value.get("address"), "shipping.address")
    return out


def normalize_customer(data, lookup=None, previous=None):
    out = {}
    out["email"] = check_email(data.get("email"))
    for name in ("first_name", "last_name", "company", "phone", "mobile", "website"):
        out[name] = check_str(data.get(name), name)
    out["currency"] = check_code(data.get("currency"), "currency", 3, "ISO 4217")
    out["notes"] = check_str(data.get("notes"), "notes", max_len=5000)
    out["billing_address"] = _address(data.get("billing_address"), "billing_address")
    out["shipping"] = _shipping(data.get("shipping"))
    if not out["email"] and not any((out[n] or "").strip() for n in ("first_name", "last_name", "company")):
        raise invalid("a customer needs an email or a name (first_name, last_name or company)")
    return out


def normalize_product(data, lookup=None, previous=None):
    out = {}
    out["sku"] = check_str(data.get("sku"), "sku", max_len=200)
    out["name"] = check_str(data.get("name"), "name", required=True)
    out["description"] = check_str(data.get("description"), "description", max_len=5000)
    if data.get("price") is None:
        raise invalid("price is required")
    out["price"] = money(data["price"], "price")
    out["currency"] = check_code(data.get("currency"), "currency", 3, "ISO 4217")
    out["active"] = check_bool(data.get("active", True), "active")
    return out


# ------------------------------------------------------------------------------ resources
@dataclass(frozen=True)
class Unique:
    """A field no two records of a resource may share: 409 ``code``, "<label> 'x' is already used by <id>"."""
    field: str
    label: str
    code: str
    among_deleted: bool = False  # a deleted record keeps its value taken


@dataclass(frozen=True)
class Resource:
    """One collection the sandbox serves: ``/{name}`` and ``/{name}/{id}``, a table, and webhook
    events ``{noun}.created`` / ``.updated`` / ``.deleted`` for the URL set for ``name``. The
    sandbox serves CONTRACT_RESOURCES unless given others (a test may add a resource of its own)."""
    name: str  # "customers"
    noun: str  # "customer"
    id_prefix: str  # "c": ids c_1001, c_1002, ...
    id_start: int
    writable: tuple[str, ...]
    # (merged fields, lookup(resource name, id), stored record on PATCH or None) -> fields to store;
    # raises the 422s.
    normalize: Callable[..., dict]
    read_only: tuple[str, ...] = ()  # computed fields beyond META_FIELDS: shown, never written
    merchant_only: tuple[str, ...] = ()  # see MERCHANT_ONLY
    unique: tuple[Unique, ...] = ()
    numbered: str | None = None  # a field the shop fills from its own counter when it is absent

    def __post_init__(self):
        if not self.name.isidentifier():  # it names an SQLite table
            raise ValueError(f"a resource name must be an identifier, not {self.name!r}")


CONTRACT_RESOURCES = (
    Resource("customers", "customer", "c", 1001, WRITABLE["customers"], normalize_customer),
    Resource("products", "product", "p", 2001, WRITABLE["products"], normalize_product,
             unique=(Unique("sku", "sku", "duplicate_sku"),)),
    Resource("orders", "order", "o", 3001, WRITABLE["orders"], normalize_order, read_only=ORDER_COMPUTED,
             merchant_only=MERCHANT_ONLY["orders"],
             unique=(Unique("number", "order number", "duplicate_number", among_deleted=True),), numbered="number"),
)
RESOURCES = tuple(resource.name for resource in CONTRACT_RESOURCES)
