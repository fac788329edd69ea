"""The convergence checker: are the webshop and Wave in step, as SYNC.md promises?

    from devstack.convergence import check
    findings = check(runtime.current())          # or check(rt, entities=["customer"])
    print(findings.summary()); findings.ok

Everything it knows of an entity comes from the flows' declarations (shopwave.flows.FLOWS): which
entities there are, which sides the sync creates records in, the key duplicates are found by
(`Entity.duplicate_key`) and the check every linked pair must pass (`Entity.verify`), so a new
flow is checked with no change here.

It reads both systems only through their public APIs, the way the sync does (the layer's
sides: webshop GETs with the keyset cursor, Wave GraphQL queries), plus the link table, and
writes nothing anywhere: no Wave mutation, no webshop POST/PATCH/DELETE, no DynamoDB write
(no claims either: the discount product is looked up, never created). So an operator can run
it against a real deployment (`python -m devstack.ops check`) as well as the tests.

Per entity it keeps, per record, only its id, the hash of its canonical state and its
duplicate key; records are read again by id only for the pairs that differ, to say which fields
do. For an entity that declares a `verify`, the webshop records of linked pairs are kept until
their Wave counterparts are read and the pair is verified.

Finding kinds (each finding: entity, kind, shop_id, wave_id, detail):
- missing:    a webshop record that should have a Wave counterpart and has no link (not the
              deleted/cancelled ones, nor those the policy does not create, such as inactive
              products never synced); for entities the sync also creates in the shop
              (customers), a Wave record with no link.
- duplicate:  two links naming one Wave record; the two copies of a link disagreeing; Wave
              records sharing the entity's duplicate key (e.g. a customer's email, case-folded;
              a product's exact name, not the discount product's), at least one of them linked,
              more of them than the webshop has records with that value.
- differing:  an active link whose two records map to different canonical fields (payment,
              which travels only from Wave into the shop, included: once settled it must be
              equal too), or whose records no longer match the link's agreed state.
- orphaned:   a link whose webshop record or Wave record no longer exists (a soft-deleted
              webshop record still exists; an invoice deleted by policy, link status
              "deleted", is fine); a Wave-keyed link copy no shop-keyed link agrees with.
- totals:     a linked pair its entity's `verify` or `settled` refuses (e.g. an invoice whose
              total differs from its order's, an amount paid that differs, or the sync's own
              payments in Wave exceeding what the shop took: a payment recorded twice).
- pending:    any of the above about a record that is parked in one of the entity's flows:
              the sync knows and retries it; listed, not counted as a failure.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from shopwave.wave.catalog import UnknownTaxRate
from shopwave.mapping.context import MissingDependency, SyncContext
from shopwave.engine.record import basis_of
from shopwave.flows import FLOWS
from shopwave.mapping import SHOP, WAVE, BadValue, state_hash
from shopwave.state.store import GAVE_UP

KINDS = ("missing", "duplicate", "differing", "orphaned", "totals", "pending")
FAILURE_KINDS = KINDS[:-1]


def entity_names() -> list[str]:
    """Every entity some flow syncs, in the order FLOWS declares them."""
    return list(dict.fromkeys(flow.entity.name for flow in FLOWS.values()))


# ------------------------------------------------------------------------------- findings
@dataclass
class Finding:
    entity: str
    kind: str
    shop_id: str | None
    wave_id: str | None
    detail: str
    fields: dict[str, Any] = field(default_factory=dict)  # differing: {field: {"shop", "wave", "agreed"}}

    def line(self) -> str:
        ids = " ".join(f"{side}={value}" for side, value in (("shop", self.shop_id), ("wave", self.wave_id)) if value)
        return f"{self.entity:<8} {self.kind:<9} {ids}: {self.detail}"


@dataclass
class Findings:
    missing: list[Finding] = field(default_factory=list)
    duplicate: list[Finding] = field(default_factory=list)
    differing: list[Finding] = field(default_factory=list)
    orphaned: list[Finding] = field(default_factory=list)
    totals: list[Finding] = field(default_factory=list)
    pending: list[Finding] = field(default_factory=list)  # parked: the sync is on it, not a failure
    checked: dict[str, dict[str, int]] = field(default_factory=dict)  # entity -> shop/wave/links counts

    def add(self, finding: Finding) -> None:
        getattr(self, finding.kind).append(finding)

    def all(self, kinds: Iterable[str] = FAILURE_KINDS) -> list[Finding]:
        return [f for kind in kinds for f in getattr(self, kind)]

    @property
    def ok(self) -> bool:
        return not self.all()

    def of(self, entity: str | None = None, kind: str | None = None) -> list[Finding]:
        return [f for f in self.all(KINDS) if (entity is None or f.entity == entity) and (kind is None or f.kind == kind)]

    def summary(self) -> str:
        counts = ", ".join(f"{len(getattr(self, kind))} {kind}" for kind in KINDS)
        read = "; ".join(f"{entity}: {c['shop']} webshop, {c['wave']} Wave, {c['links']} links"
                         for entity, c in self.checked.items())
        head = ("converged" if self.ok else "NOT converged") + f" ({counts})"
        lines = [head] + ([f"read {read}"] if read else [])
        lines += [f.line() for f in self.all(KINDS)]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked,
                **{kind: [asdict(f) for f in getattr(self, kind)] for kind in KINDS}}


# ------------------------------------------------------------------------- what is kept
@dataclass
class Seen:
    """One record as the checker keeps it: no more than it compares."""
    hash: str | None  # canonical state's hash; None when it could not be mapped
    error: str | None
    deleted: bool
    skip_create: bool = False
    key: Any = None  # the entity's duplicate key (an email, a name, a number)
    wave_link: str | None = None  # Wave side: the shop id its Wave-keyed link copy names


@dataclass
class LinkSeen:
    wave_id: str
    status: str
    state_hash: str


# ---------------------------------------------------------------------------- the check
_UNMAPPABLE = (BadValue, MissingDependency, UnknownTaxRate)


def check(runtime, entities: Iterable[str] | None = None) -> Findings:
    """Compare both systems for each entity (default: every entity FLOWS syncs); read-only."""
    engine = runtime.engine
    catalog = engine.catalog  # reading invoices only looks the discount product up, never creates it
    findings = Findings()
    wanted = list(entities) if entities else entity_names()
    page_size = runtime.config.sync.page_size
    for name in wanted:
        entity = next(f.entity for f in FLOWS.values() if f.entity.name == name)
        ctx = SyncContext(runtime.store, catalog, engine.options)
        _Check(entity, engine.sides, runtime.store, ctx, page_size, findings).run()
    return findings


class _Check:
    def __init__(self, entity, sides, store, ctx, page_size, findings):
        self.entity, self.sides, self.store, self.ctx = entity, sides, store, ctx
        self.page_size, self.out = page_size, findings
        self.mapping = entity.mapping
        self.flows = {f.source: f.name for f in FLOWS.values() if f.entity is entity}
        self.found: list[Finding] = []
        self.unverified: dict[str, dict] = {}  # shop id -> its record, until its linked counterpart is read
        self.refused: list[tuple[str, str, str]] = []  # (shop id, Wave id, what `verify` or `settled` said)
        # what every linked pair must pass: always (`verify`), and once both flows have run (`settled`)
        self.pair_checks = [c for c in (self.entity.verify, self.entity.settled) if c is not None]

    # -- reading ------------------------------------------------------------------------
    def _canonical(self, side: str, record: dict, link=None) -> tuple[dict | None, str | None]:
        """Read as the engine reads a linked record: against the link (see mapping.Basis)."""
        try:
            return self.mapping.canonical(side, record, self.ctx, basis_of(link, side)), None
        except _UNMAPPABLE as exc:
            return None, f"{type(exc).__name__}: {exc}"

    def _key(self, side: str, record: dict, state: dict | None) -> Any:
        rule = self.entity.duplicate_key
        if rule is None:
            return None
        value = state.get(rule.field) if state else self.mapping.value(side, record, rule.field)
        if isinstance(value, str):
            value = value.strip()
            return value.casefold() if rule.casefold else value
        return value or None

    def _read_shop(self, links: dict[str, LinkSeen]) -> dict[str, Seen]:
        side, seen = self.sides[SHOP], {}
        for partition in side.partitions(self.entity):
            for page in side.pages(self.entity, partition, None, self.page_size):
                for record in page:
                    record_id = side.record_id(record)
                    state, error = self._canonical(SHOP, record)
                    seen[record_id] = Seen(
                        hash=state_hash(state) if state else None, error=error,
                        deleted=side.deleted(self.entity, record),
                        skip_create=bool(state) and self.entity.skip_create(state),
                        key=None if record.get("deleted") else self._key(SHOP, record, state))
                    if self.pair_checks and record_id in links:
                        self.unverified[record_id] = record
        return seen

    def _verify(self, shop_ids: list[str], wave_id: str, wave_record: dict) -> None:
        """The entity's own check of a linked pair (e.g. an invoice's total against its order's)."""
        for shop_id in shop_ids:
            shop_record = self.unverified.pop(shop_id, None)
            if shop_record is None:
                continue
            for check in self.pair_checks:
                try:
                    problem = check({SHOP: shop_record, WAVE: wave_record})
                except _UNMAPPABLE as exc:
                    problem = f"cannot be checked: {type(exc).__name__}: {exc}"
                if problem:
                    self.refused.append((shop_id, wave_id, problem))

    def _read_wave(self, by_wave: dict[str, list[str]]) -> dict[str, Seen]:
        side, seen = self.sides[WAVE], {}
        for partition in side.partitions(self.entity):
            for page in side.pages(self.entity, partition, None, self.page_size):
                refs = [r for record in page for r in self._refs(WAVE, record)]
                self.ctx.prefetch(refs)
                copies = self.store.get_links(self.entity.name, WAVE, [side.record_id(r) for r in page])
                for record in page:
                    record_id = side.record_id(record)
                    state, error = self._canonical(WAVE, record)
                    deleted = side.deleted(self.entity, record) or bool(record.get("isArchived"))
                    copy = copies.get(record_id)
                    seen[record_id] = Seen(
                        hash=state_hash(state) if state else None, error=error, deleted=deleted,
                        key=None if deleted else self._key(WAVE, record, state),
                        wave_link=copy.shop_id if copy else None)
                    if self.pair_checks and record_id in by_wave:
                        self._verify(by_wave[record_id], record_id, record)
        return seen

    def _refs(self, side: str, record: dict) -> list[tuple[str, str, str]]:
        try:
            return [(e, s, i) for e, s, i in self.mapping.refs(side, record) if i]
        except (KeyError, TypeError):
            return []

    def _exists(self, side: str, ids: list[str]) -> set[str]:
        """Ids a list read did not show, confirmed (or not) by a fetch by id."""
        return set(self.sides[side].fetch_many(self.entity, ids)) if ids else set()

    # -- checking -----------------------------------------------------------------------
    def report(self, kind: str, shop_id: str | None, wave_id: str | None, detail: str, **fields) -> None:
        self.found.append(Finding(self.entity.name, kind, shop_id, wave_id, detail, fields))

    def run(self) -> None:
        links = {link.shop_id: LinkSeen(link.wave_id, link.status, link.state_hash)
                 for link in self.store.all_links(self.entity.name)}
        by_wave: dict[str, list[str]] = defaultdict(list)
        for shop_id, link in links.items():
            by_wave[link.wave_id].append(shop_id)
        shop = self._read_shop(links)
        wave = self._read_wave(by_wave)
        self.out.checked[self.entity.name] = {"shop": len(shop), "wave": len(wave), "links": len(links)}

        self._missing(shop, wave, links, by_wave)
        self._duplicates(shop, wave, links, by_wave)
        gone_shop = self._absent(SHOP, [s for s in links if s not in shop])
        gone_wave = self._absent(WAVE, [l.wave_id for l in links.values() if l.wave_id not in wave])
        self._orphans(links, wave, gone_shop, gone_wave)
        both = [(s, l) for s, l in links.items() if s not in gone_shop and l.wave_id not in gone_wave]
        self._differing(shop, wave, [(s, l) for s, l in both if l.status == "active"])
        for shop_id, wave_id, problem in self.refused:
            self.report("totals", shop_id, wave_id, problem)
        self._sort_pending()

    def _absent(self, side: str, ids: list[str]) -> set[str]:
        return set(ids) - self._exists(side, ids)

    def _missing(self, shop, wave, links, by_wave) -> None:
        if WAVE in self.entity.creates_in:
            for shop_id, seen in shop.items():
                if shop_id in links or seen.deleted or seen.skip_create:
                    continue
                why = f"; it cannot be mapped ({seen.error})" if seen.error else ""
                self.report("missing", shop_id, None, f"no Wave counterpart (no link){why}")
        if SHOP in self.entity.creates_in:
            for wave_id, seen in wave.items():
                if wave_id in by_wave or seen.wave_link or seen.deleted:
                    continue
                why = f"; it cannot be mapped ({seen.error})" if seen.error else ""
                self.report("missing", None, wave_id, f"in Wave only: no webshop counterpart (no link){why}")

    def _duplicates(self, shop, wave, links, by_wave) -> None:
        for wave_id, shop_ids in by_wave.items():
            if len(shop_ids) > 1:
                for shop_id in sorted(shop_ids):
                    others = ", ".join(s for s in sorted(shop_ids) if s != shop_id)
                    self.report("duplicate", shop_id, wave_id, f"Wave record linked twice: also to webshop {others}")
        for wave_id, seen in wave.items():
            owner = seen.wave_link
            if owner is None:
                continue
            link = links.get(owner)
            if link is None:
                self.report("orphaned", owner, wave_id, "half a link: the Wave-keyed copy names this webshop record, "
                                                        "which has no link")
            elif link.wave_id != wave_id:
                self.report("orphaned", owner, wave_id, f"stale Wave-keyed link copy: the webshop record's link names "
                                                        f"Wave {link.wave_id}")
        for shop_id, link in links.items():
            seen = wave.get(link.wave_id)
            if seen is not None and seen.wave_link not in (None, shop_id) and len(by_wave[link.wave_id]) == 1:
                self.report("duplicate", shop_id, link.wave_id,
                            f"the link's Wave-keyed copy names webshop {seen.wave_link} instead")
        # Same duplicate key in Wave, at least one linked, more than the webshop has.
        rule = self.entity.duplicate_key
        if rule is None:
            return
        linked = set(by_wave) | {w for w, s in wave.items() if s.wave_link}
        skip = {_casefold(value) for value in rule.exempt(self.ctx.options)}
        groups: dict[Any, list[str]] = defaultdict(list)
        for wave_id, seen in wave.items():
            if seen.key is not None and _casefold(seen.key) not in skip:
                groups[seen.key].append(wave_id)
        in_shop: dict[Any, int] = defaultdict(int)
        for seen in shop.values():
            if seen.key is not None:
                in_shop[seen.key] += 1
        for key, ids in groups.items():
            if len(ids) < 2 or not linked.intersection(ids) or len(ids) <= in_shop.get(key, 0):
                continue
            for wave_id in sorted(ids):
                shop_id = (by_wave.get(wave_id) or [wave[wave_id].wave_link])[0]
                state = "linked" if wave_id in linked else "not linked"
                self.report("duplicate", shop_id, wave_id, f"{len(ids)} Wave records share {rule.field} {key!r} "
                                                           f"({state}); the webshop has {in_shop.get(key, 0)}")

    def _orphans(self, links, wave, gone_shop, gone_wave) -> None:
        for shop_id, link in links.items():
            if shop_id in gone_shop:
                self.report("orphaned", shop_id, link.wave_id, f"the webshop record no longer exists (link {link.status})")
            elif link.wave_id in gone_wave and link.status != "deleted":
                self.report("orphaned", shop_id, link.wave_id, f"the Wave record no longer exists (link {link.status})")

    def _differing(self, shop, wave, pairs) -> None:
        suspects = [(s, l) for s, l in pairs if s in shop and l.wave_id in wave
                    and not shop[s].hash == wave[l.wave_id].hash == l.state_hash]
        if not suspects:
            return
        shop_records = self.sides[SHOP].fetch_many(self.entity, [s for s, _ in suspects])
        wave_records = self.sides[WAVE].fetch_many(self.entity, [l.wave_id for _, l in suspects])
        self.ctx.prefetch([r for rec in wave_records.values() for r in self._refs(WAVE, rec)])
        one_way = self.mapping.one_way_into(SHOP)
        for shop_id, seen_link in suspects:
            ours, theirs = shop_records.get(shop_id), wave_records.get(seen_link.wave_id)
            if ours is None or theirs is None:
                continue  # gone since the list was read
            if ours.get("deleted"):
                continue  # deleted in the webshop: it takes no more writes, Wave keeps its history
            link = self.store.get_link(self.entity.name, SHOP, shop_id)
            mine, error_shop = self._canonical(SHOP, ours, link)
            yours, error_wave = self._canonical(WAVE, theirs, link)
            if error_shop or error_wave:
                self.report("differing", shop_id, seen_link.wave_id,
                            f"cannot be compared: {error_shop or ''}{'; ' if error_shop and error_wave else ''}{error_wave or ''}")
                continue
            agreed = link.state if link is not None else {}
            fields = {name: {"shop": mine.get(name), "wave": yours.get(name), "agreed": agreed.get(name)}
                      for name in self.mapping.names
                      if (mine.get(name) != yours.get(name) or agreed.get(name) != mine.get(name)
                          or agreed.get(name) != yours.get(name))
                      # a one-way field the shop changed on its own (an order marked paid by hand) is the
                      # shop's business until Wave's value moves: not a divergence of the sync
                      and not (name in one_way and yours.get(name) == agreed.get(name))}
            apart = sorted(n for n, v in fields.items() if v["shop"] != v["wave"])
            if apart:
                notes = [f"{n} (travels Wave to webshop only)" if n in one_way else n for n in apart]
                self.report("differing", shop_id, seen_link.wave_id, f"fields differ: {', '.join(notes)}", **fields)
            elif fields:
                self.report("differing", shop_id, seen_link.wave_id,
                            f"both records agree but not with the link's agreed state: {', '.join(sorted(fields))}",
                            **fields)
            elif state_hash(yours) != seen_link.state_hash:  # (Wave's: the shop may hold one-way values of its own)
                self.report("differing", shop_id, seen_link.wave_id, "the link's state hash does not match its state")

    def _sort_pending(self) -> None:
        """Findings about parked records become pending; parked records with no other finding
        are listed as pending too (e.g. a Wave edit the webshop refuses), so an operator sees
        everything the sync has not finished."""
        parked = {side: {p.source_id: p for p in self.store.parked(flow)} for side, flow in self.flows.items()}
        covered: set[tuple[str, str]] = set()
        for finding in self.found:
            side, entry = SHOP, parked.get(SHOP, {}).get(finding.shop_id)
            if entry is None:
                side, entry = WAVE, parked.get(WAVE, {}).get(finding.wave_id)
            if entry is not None:
                covered.add((side, entry.source_id))
                finding.detail = f"{_parked_text(entry)}: {finding.kind}: {finding.detail}"
                finding.kind = "pending"
            self.out.add(finding)
        for side, entries in parked.items():
            rest = [i for i in entries if (side, i) not in covered]
            links = self.store.get_links(self.entity.name, side, rest) if rest else {}
            for source_id in rest:
                link = links.get(source_id)
                shop_id = source_id if side == SHOP else (link.shop_id if link else None)
                wave_id = source_id if side == WAVE else (link.wave_id if link else None)
                status = f" (link {link.status})" if link is not None else ""
                self.out.add(Finding(self.entity.name, "pending", shop_id, wave_id,
                                     f"{_parked_text(entries[source_id])}{status}"))


def _parked_text(entry) -> str:
    given_up = ", given up: retry it with ops retry" if entry.due_at == GAVE_UP else ""
    return f"parked in {entry.flow} ({entry.reason}; {entry.attempts} attempts{given_up})"


def _casefold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def main(argv: list[str] | None = None) -> int:
    """`python -m devstack.convergence [--entity E] [--json]` (the same as `ops check`)."""
    from shopwave import runtime

    parser = argparse.ArgumentParser(prog="python -m devstack.convergence", description=__doc__.splitlines()[0])
    parser.add_argument("--entity", choices=entity_names())
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    findings = check(runtime.current(), [args.entity] if args.entity else None)
    print(json.dumps(findings.as_dict(), indent=2, default=str) if args.json else findings.summary())
    return 0 if findings.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
