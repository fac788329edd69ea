"""pynamodb models for the two tables declared in template.yaml (LinksTable, StateTable).

Table names come from the environment at bind time, never from code, and `Meta.host` is left
unset so AWS_ENDPOINT_URL_DYNAMODB (moto's server locally) applies.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model


class LinkItem(Model):
    """One link, stored under two keys (`{entity}#shop#{id}` and `{entity}#wave#{id}`) so
    either side's page of ids is looked up with one BatchGetItem."""

    class Meta:
        table_name = "shopwave-links"

    pk = UnicodeAttribute(hash_key=True)
    entity = UnicodeAttribute()
    shop_id = UnicodeAttribute()
    wave_id = UnicodeAttribute()
    state = UnicodeAttribute()  # canonical JSON of the last agreed fields
    state_hash = UnicodeAttribute()
    shop_seen = UnicodeAttribute(null=True)  # last webshop updated_at handled
    wave_seen = UnicodeAttribute(null=True)  # last Wave modifiedAt handled
    extra = UnicodeAttribute(null=True)  # JSON of what has no field on the other side (sku)
    status = UnicodeAttribute(default="active")
    revision = NumberAttribute(default=1)


class StateItem(Model):
    """Watermarks (`watermark`/flow), parked records (`parked#flow`/id), conflicts
    (`conflict#entity`/time#id#field) and claims (`claim#entity#id`/`-`)."""

    class Meta:
        table_name = "shopwave-state"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = UnicodeAttribute(null=True)  # JSON payload
    attempts = NumberAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class BudgetItem(Model):
    """The deployment's Wave budget, in the state table under `budget#wave`: one item per
    concurrency slot (`slot#<i>`, held by `owner` until `lease_until`) and the gate (`gate`:
    `next_at`, the earliest moment the next request may start). Times are epoch seconds."""

    class Meta:
        table_name = "shopwave-state"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    next_at = NumberAttribute(null=True)


def bind(links_table: str, state_table: str) -> None:
    """Point the models at this deployment's tables (and drop cached connections)."""
    for model, name in ((LinkItem, links_table), (StateItem, state_table), (BudgetItem, state_table)):
        model.Meta.table_name = name
        model._connection = None
