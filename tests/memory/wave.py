"""Wave as a Side (ports.Deletes), in memory: the Wave sandbox's own store and rules
(devstack/wave_sandbox/store.py, invoices.py: records in the GraphQL node shape, the business
currency filled in on a customer created without one, invoice numbering and totals, archiving
that cannot be undone, paid invoices that refuse changes), called directly instead of through
GraphQL. Which store method a declared mutation is, and which table a resource lives in, come
from the entity's declaration (`WaveResource`: its `read`, `write` and `adopt` parts), so a new
entity needs nothing here.

`MemoryCatalog` answers what the invoice mapping asks of Wave's business (engine/catalog.py's
methods): sales taxes by rate or as configured, and the product that carries discounts.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from graphql import GraphQLError

from devstack.wave_sandbox import InputErrors, WaveSandbox
from shopwave.clients.errors import Refused
from shopwave.config import Options, SyncSettings
from shopwave.engine import timestamps
from shopwave.engine.declarations import Entity, Record, without_actions
from shopwave.wave.catalog import WaveCatalog

from shopwave.wave.side import WaveSide
from shopwave.mapping import WAVE, values

from .faults import Faults

# The sandbox store's methods for Wave's payment mutations (devstack/wave_sandbox/payments.py).
PAYMENT_WRITES = {"invoicePaymentCreateManual": "payment_create", "invoicePaymentPatch": "payment_patch",
                  "invoicePaymentDelete": "payment_delete"}


def _method(mutation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", mutation).lower()  # customerCreate -> customer_create


def _ms(stamp: str) -> int:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return int(moment.astimezone(timezone.utc).timestamp() * 1000 // 1)


def _filter(partition: str) -> dict[str, Any]:
    """A partition's list arguments ("isArchived: false") as field -> value."""
    found = {}
    for part in filter(None, (p.strip() for p in partition.split(","))):
        name, _, raw = part.partition(":")
        raw = raw.strip()
        found[name.strip()] = {"true": True, "false": False, "null": None}.get(raw, raw.strip('"'))
    return found


def _folded(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


class MemoryWaveSide(WaveSide):
    """What a record says (ids, stamps, deleted, what may be written) is the deployed side's own;
    the reads and writes go to the sandbox's store instead of over GraphQL."""
    name = WAVE

    def __init__(self, sandbox: WaveSandbox, options: Options | None = None):
        self.sandbox = sandbox
        self.store = sandbox.store
        self.options = options or Options()
        self.faults = Faults("Wave")
        self.nulls_refused = False

    # -- reading --------------------------------------------------------------------------------
    def _table(self, entity: Entity) -> dict[str, Record]:
        return getattr(self.store, f"{entity.wave.read.list_field}_by_id")

    def _listed(self, entity: Entity, partition: str) -> list[Record]:
        """The list as Wave answers it, oldest change first (the read part's sort, by its cursor
        field); under the store's lock."""
        wanted, cursor = _filter(partition), entity.wave.read.cursor.field
        records = [r for r in self._table(entity).values() if all(r.get(k) == v for k, v in wanted.items())]
        return sorted(records, key=lambda r: (_ms(r[cursor]), r["id"]))

    def _view(self, record: Record) -> Record:
        """A copy as Wave's GraphQL answers it: an invoice with its payments (api.py's view)."""
        view = self.store.copy(record)
        if record.get("id") in self.store.invoices_by_id:
            view["payments"] = [self.store.copy(p) for p in self.store.payments_of(record["id"])]
        return view

    def partitions(self, entity: Entity) -> list[str]:
        return list(entity.wave.read.partitions)

    def pages(self, entity: Entity, partition: str, since: str | None, page_size: int | None) -> Iterator[list[Record]]:
        """Keyset pages by (cursor field, id) from the cursor's overlap before `since` (filtered as
        the sandbox plays Wave's `modifiedAtAfter`: its precision and inclusiveness), each read
        afresh: a record modified meanwhile moves behind the key and comes again, none is skipped."""
        page_size = page_size or SyncSettings().page_size  # the flow's own, else the deployment's
        cursor = entity.wave.read.cursor
        bound = timestamps.wave_format(timestamps.minus(since, cursor.overlap)) if since else None
        after: tuple[int, str] = (-1, "")
        while True:
            self.faults.check("pages")
            with self.store.lock:
                page = [self._view(r) for r in self._listed(entity, partition)
                        if (_ms(r[cursor.field]), r["id"]) > after
                        and (bound is None or self.store.undocumented.after(r[cursor.field], bound))][:page_size]
            yield page
            if len(page) < page_size:
                return
            after = (_ms(page[-1][cursor.field]), page[-1]["id"])

    def fetch(self, entity: Entity, record_id: str) -> Record | None:
        return self.fetch_many(entity, [record_id]).get(record_id)

    def fetch_many(self, entity: Entity, ids: list[str]) -> dict[str, Record]:
        self.faults.check("fetch")
        with self.store.lock:
            table = self._table(entity)
            return {i: self._view(table[i]) for i in ids if i in table}

    def look_up_many(self, entity: Entity, states: list[Record], map_=None) -> dict[tuple[str, Any], list[Record]]:
        """Wave's filtered lists (a customer by email, an invoice by number) for many values:
        what Wave's filter answers (a superset of the exact matches `candidates` keeps)."""
        found: dict[tuple[str, Any], list[Record]] = {}
        for lookup in entity.wave.adopt.lookups:
            if lookup.filter_arg is None:
                continue  # Wave cannot filter on it: `candidates` scans the list
            wanted = list(dict.fromkeys(s[lookup.field] for s in states if s.get(lookup.field)))
            if not wanted:
                continue
            self.faults.check("look_up")
            with self.store.lock:
                for value in wanted:
                    needle = str(value).strip().casefold()
                    found[(lookup.field, value)] = [
                        self._view(r) for r in self._listed(entity, entity.wave.read.partitions[0])
                        if needle in str(r.get(lookup.filter_arg) or "").casefold()]
        return found

    def candidates(self, entity: Entity, state: Record, source_id: str, source: Record,
                   known: dict[tuple[str, Any], list[Record]] | None = None, cache: dict | None = None) -> list[Record]:
        page_lookups, known = known, dict(known or {})
        if any((lookup.field, state[lookup.field]) not in known
               for lookup in entity.wave.adopt.lookups if lookup.filter_arg and state.get(lookup.field)):
            known.update(self.look_up_many(entity, [state]))
        found: dict[str, Record] = {}
        for lookup in entity.wave.adopt.lookups:
            value = state.get(lookup.field)
            if not value:
                continue
            if lookup.filter_arg is None:
                self.faults.check("look_up")
                with self.store.lock:
                    nodes = [self._view(r) for r in self._listed(entity, entity.wave.read.partitions[0])]
            else:
                nodes = known[(lookup.field, value)]
            found.update((n["id"], n) for n in nodes
                         if _folded(entity.mapping.value(WAVE, n, lookup.field)) == _folded(value))
        found.update((m["id"], m) for m in self.by_shop_id(entity, state, source_id, source, cache, page_lookups))
        # a displayId holding the shop id names the counterpart exactly: it beats other matches
        field = entity.wave.adopt.shop_id_field
        exact = [r for r in found.values() if field and r.get(field) == source_id]
        return exact or list(found.values())

    # -- writing --------------------------------------------------------------------------------
    def create(self, entity: Entity, payload: Record, source_id: str) -> Record:
        write = self.writes_of(entity)
        fields, actions = without_actions(payload)
        extras = write.create_extras(source_id, self.options) if write.create_extras else {}
        self.faults.check("create")
        self.store.check_business(self.sandbox.business_id)
        record = self._mutate(write.create, {**extras, **fields})
        self.faults.answer("create")
        return self._run_actions(entity, record, actions)

    def _patch(self, entity: Entity, current: Record, fields: Record) -> Record:
        """One patch request (the deployed side decides what it carries: wave/clears.py)."""
        self.faults.check("update")
        return self._mutate(self.writes_of(entity).patch, {"id": current["id"], **fields})

    # actions run as the deployed side runs them (WaveSide._run_actions); only their I/O is the store's
    def _action(self, entity: Entity, mutation: str, record: Record) -> Record:
        self.faults.check("action")
        return self._mutate(mutation, record["id"]) or record

    def _step(self, entity: Entity, step, record: Record) -> Record:
        self.faults.check("action")
        if step.mutation in PAYMENT_WRITES:  # the store takes the input as Wave's API does
            argument = step.payment_id if step.mutation == "invoicePaymentDelete" else step.input
            return {"invoicePayment": self._mutate(step.mutation, argument)}
        return {self.writes_of(entity).output: self._mutate(step.mutation, record["id"])}

    def delete(self, entity: Entity, record: Record) -> None:
        write = self.writes_of(entity)
        if write.delete is None:
            raise Refused(f"Wave {entity.wave.type_name} records are never deleted by the sync ({entity.name})")
        self.faults.check("delete")
        self._mutate(write.delete, record["id"])

    def _mutate(self, mutation: str, argument: Any) -> Record | None:
        try:
            result = getattr(self.store, PAYMENT_WRITES.get(mutation) or _method(mutation))(argument)
            with self.store.lock:
                return self._view(result) if isinstance(result, dict) and "id" in result else result
        except (InputErrors, GraphQLError) as refused:  # didSucceed: false or `errors`, as the client raises them
            raise Refused(f"{mutation}: {refused}") from None


class MemoryCatalog(WaveCatalog):
    """Wave's sales taxes and discount product, read from the in-memory business: the deployed
    catalogue's rules (wave/catalog.py) over the sandbox's store instead of GraphQL."""

    def __init__(self, side: MemoryWaveSide, options: Options | None = None):
        super().__init__(client=None, options=options or Options())
        self.side, self.sandbox_store = side, side.store

    def _load_sales_taxes(self) -> list[dict]:
        with self.sandbox_store.lock:
            return [self.sandbox_store.copy(t) for t in self.sandbox_store.taxes_by_id.values() if not t["isArchived"]]

    def _find_product(self, name: str) -> str | None:
        with self.sandbox_store.lock:
            active = sorted((p for p in self.sandbox_store.products_by_id.values() if not p["isArchived"]),
                            key=lambda p: (p["createdAt"], p["id"]))
            return next((p["id"] for p in active if p["name"] == name), None)

    def _create_discount_product(self, name: str) -> str:
        with self.sandbox_store.lock:
            accounts = [a["id"] for a in self.sandbox_store.accounts_by_id.values() if a["subtype"]["value"] == "DISCOUNTS"]
            self.side.faults.check("create")
            return self.sandbox_store.product_create({
                "name": name, "unitPrice": "0", "description": "Discounts on webshop orders (created by shopwave)",
                **({"incomeAccountId": accounts[0]} if accounts else {})})["id"]

    def _payment_accounts(self) -> list[dict]:
        with self.sandbox_store.lock:
            return [{"id": a["id"], "name": a["name"]} for a in self.sandbox_store.accounts_by_id.values()
                    if a["subtype"]["value"] == "CASH_AND_BANK" and not a.get("isArchived")]
