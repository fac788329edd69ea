"""Loading Wave's public schema: the 2021 introspection snapshot, the extension with what the live
API added since (invoicePatch, invoice discounts and payments, OVERPAID), and the deprecations
production integrations report for the live schema in 2026."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from graphql import (FloatValueNode, GraphQLError, GraphQLSchema, IntValueNode,
                     StringValueNode, build_client_schema, extend_schema, parse)

from . import util

SCHEMA_DIR = Path(__file__).parent / "schema"
INTROSPECTION = SCHEMA_DIR / "wave-public-schema.introspection.json"
EXTENSION = SCHEMA_DIR / "wave-public-schema.extension.graphql"


# Deprecated in the live schema (shared/wave/README.md) though the 2021 snapshot does not say so
# for all of them; `internalId` and `Province.slug` already carry a reason in the snapshot.
LIVE_DEPRECATIONS = {
    ("Money", "raw"): "Deprecated in the live API.",
    ("InvoiceItem", "price"): "Use unitPrice.",
    ("InvoiceItemTax", "rate"): "Deprecated in the live API.",
    ("Province", "slug"): "Use code.",
}


def _build() -> GraphQLSchema:
    data = json.loads(INTROSPECTION.read_text(encoding="utf-8"))["data"]
    schema = extend_schema(build_client_schema(data), parse(EXTENSION.read_text(encoding="utf-8")))
    for (type_name, field_name), reason in LIVE_DEPRECATIONS.items():
        field = schema.get_type(type_name).fields[field_name]
        field.deprecation_reason = field.deprecation_reason or reason
    return schema


@lru_cache(maxsize=1)
def load_wave_schema() -> GraphQLSchema:
    """The schema real Wave validates against. Cached; treat as read-only (no resolvers)."""
    return _build()


# ----- executable copy: strict custom scalars -------------------------------------------
def _decimal_value(value):
    if isinstance(value, float):
        value = repr(value)
    try:
        return util.dec_str(util.to_decimal(value))
    except ValueError as exc:
        raise GraphQLError(f"Decimal cannot represent value: {value!r}") from exc


def _date_value(value):
    try:
        return util.parse_date(value).isoformat()
    except (ValueError, TypeError) as exc:
        raise GraphQLError(f"Date cannot represent value: {value!r} (expected yyyy-MM-dd)") from exc


def _datetime_value(value):
    try:
        if not isinstance(value, str):
            raise TypeError(value)
        return util.format_ms(util.parse_datetime_ms(value))
    except (ValueError, TypeError) as exc:
        raise GraphQLError(f"DateTime cannot represent value: {value!r} (expected ISO-8601)") from exc


def _literal(parse_value, kinds):
    def parse_literal(node, _variables=None):
        if not isinstance(node, kinds):
            raise GraphQLError(f"Unexpected literal {type(node).__name__}")
        return parse_value(node.value)
    return parse_literal


_SCALARS = {
    "Decimal": (_decimal_value, (StringValueNode, IntValueNode, FloatValueNode)),
    "Date": (_date_value, (StringValueNode,)),
    "DateTime": (_datetime_value, (StringValueNode,)),
}


def build_executable_schema() -> GraphQLSchema:
    """A private schema instance whose custom scalars validate input like Wave's do.

    Resolvers are not attached here: the API layer passes a root value of dicts and
    callables that graphql-core's default resolver walks.
    """
    schema = _build()
    for name, (parse_value, kinds) in _SCALARS.items():
        scalar = schema.get_type(name)
        parse_literal = _literal(parse_value, kinds)
        scalar.parse_value = parse_value
        scalar.parse_literal = parse_literal
        if hasattr(scalar, "coerce_input_value"):  # graphql-core >= 3.3
            scalar.coerce_input_value = parse_value
            scalar.coerce_input_literal = parse_literal
    return schema
