"""A mapping is a tuple of `Field`s; each names a canonical field and where it lives on each side.

`Mapping.canonical(side, record)` reads a record into the canonical form both sides are
compared in; `Mapping.payload(side, state, names, current)` writes canonical fields back
into the shape that side accepts. Both directions read the same declaration.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from . import values

SHOP = "shop"
WAVE = "wave"
SIDES = (SHOP, WAVE)


def other_side(side: str) -> str:
    """The side a flow from `side` writes to."""
    return next(s for s in SIDES if s != side)

Record = dict[str, Any]


def get_path(record: Record | None, path: str) -> Any:
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def set_path(document: Record, path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = document
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


@dataclass(frozen=True)
class Basis:
    """What a record is read against: the pair's last agreed state (or, for two records meeting
    for the first time, the other side's state), and the values this side filled in by default
    where the other had none when the sync created it. Such a value reads as absent while the
    agreed state has none, so a default never travels back as a change."""
    agreed: Record
    absorbed: Record = dataclass_field(default_factory=dict)
    linked: bool = True  # False: two records meeting for the first time (`agreed` is the other side's)
    # A write to this side that may not have landed (its writer died before saving the link):
    # {"written": the fragment sent, "agreed": the state it would have agreed}. See Codec.
    pending: Record | None = None


class Codec:
    """A field that is not one value at one path: derived, structured or a reference.

    `read` gives the canonical value from a side's record (`basis`: see Basis; None when the
    record has no counterpart yet); `write` gives the fragment of that side's document that
    carries it; `refs` names the linked records it points to, so the engine can look their
    links up in one batch. `ctx` resolves links and configuration.

    `follows`: fields whose change also rewrites this one on the target (a value derived from
    them, or a list written whole); `follow` gives that fragment, by default `write`'s.
    """

    follows: tuple[str, ...] = ()
    # Sides whose `write` and `follow` also take that side's `basis`: a value written from what
    # the side already holds (the shop's amount paid carries money from both systems).
    writes_against_basis: frozenset[str] = frozenset()
    # Sides where writing this field is not safe to repeat blindly (a payment, an amount that
    # holds money from both systems): the write is announced in the link first (engine/record.py
    # `announce`), so a reader can tell whether it landed (Basis.pending) and a concurrent writer
    # reads the record again instead of repeating it from what it read before.
    announced_to: frozenset[str] = frozenset()

    def read(self, side: str, record: Record, state: Record, ctx: Any, basis: Basis | None = None) -> Any:
        raise NotImplementedError

    def write(self, side: str, current: Record | None, state: Record, ctx: Any) -> Record:
        raise NotImplementedError

    def follow(self, side: str, current: Record | None, state: Record, ctx: Any, **against) -> Record:
        return self.write(side, current, state, ctx, **against)

    def refs(self, side: str, record: Record, ctx: Any = None) -> list[tuple[str, str, str]]:
        """(entity, side, id) of each linked record this field points to."""
        return []


class Text:
    """A value that travels verbatim; empty means absent on both sides."""
    after: tuple[str, ...] = ()  # canonical fields read before this one (a region needs its country)

    def normalise(self, raw: Any, state: Record) -> Any:
        return values.text(raw)

    def to_side(self, side: str, value: Any) -> Any:
        return value


class Code(Text):
    """An ISO code (currency, country): compared case-insensitively, upper case canonical."""

    def normalise(self, raw: Any, state: Record) -> Any:
        return values.code(raw)


@dataclass(frozen=True)
class Money(Text):
    """A decimal amount, compared as its shortest exact string; never below `minimum`; written to
    the shop with `shop_places` fixed decimals ("19.90")."""
    minimum: Decimal | None = None
    shop_places: int | None = None

    def normalise(self, raw: Any, state: Record) -> Any:
        return values.decimal(raw, minimum=self.minimum)

    def to_side(self, side: str, value: Any) -> Any:
        if value is None or side != SHOP or self.shop_places is None:
            return value
        return str(Decimal(value).quantize(Decimal(1).scaleb(-self.shop_places), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Region(Text):
    """An ISO 3166-2 subdivision; a shop's local part (`ON`) is read with its `country` field's value."""
    country: str = ""

    @property
    def after(self) -> tuple[str, ...]:
        return (self.country,)

    def normalise(self, raw: Any, state: Record) -> Any:
        return values.region(raw, state.get(self.country))


TEXT = Text()


@dataclass(frozen=True)
class Field:
    name: str
    shop: str | None = None
    wave: str | None = None
    wave_input: str | None = None  # where Wave's input takes it, when not where Wave returns it
    value: Text = TEXT  # the value's type: Text, Code, Money, Region
    codec: Codec | None = None
    only_to: str | None = None  # travels one way only, into this side (payments: into the shop)
    create_only: bool = False  # set when the sync creates a record, never compared afterwards

    def read_path(self, side: str) -> str | None:
        return self.shop if side == SHOP else self.wave

    def write_path(self, side: str) -> str | None:
        return self.shop if side == SHOP else (self.wave_input or self.wave)

    def group(self, side: str) -> str | None:
        """Nested objects are written whole: a change to one city sends its whole address."""
        path = self.write_path(side)
        return path.split(".")[0] if path and "." in path else None

    def normalise(self, raw: Any, state: Record) -> Any:
        return self.value.normalise(raw, state)

    def to_side(self, side: str, value: Any) -> Any:
        return self.value.to_side(side, value)


class Mapping:
    def __init__(self, fields: Iterable[Field]):
        every = tuple(fields)
        self.fields = tuple(f for f in every if not f.create_only)
        self.create_fields = tuple(f for f in every if f.create_only)
        # A value that reads another (a region, its country) is read after the plain ones.
        self._read_order = sorted(self.fields, key=lambda f: bool(f.value.after))
        self.names = tuple(f.name for f in self.fields)

    def one_way_into(self, side: str) -> frozenset[str]:
        """Fields that only ever travel into `side`: that side's own changes to them stay there."""
        return frozenset(f.name for f in self.fields if f.only_to == side)

    def canonical(self, side: str, record: Record, ctx: Any = None, basis: Basis | None = None) -> Record:
        state: Record = {}
        for field in self._read_order:
            if field.codec is not None:
                state[field.name] = field.codec.read(side, record, state, ctx, basis)
                continue
            path = field.read_path(side)
            try:
                state[field.name] = field.normalise(get_path(record, path) if path else None, state)
            except values.BadValue as bad:
                raise values.BadValue(f"{field.name}: {bad}") from None
        if basis is not None:
            for name, default in basis.absorbed.items():
                if name in state and state[name] == default and basis.agreed.get(name) is None:
                    state[name] = None
        return {name: state[name] for name in self.names}

    def announced(self, side: str, names: Iterable[str]) -> bool:
        """Whether writing `names` to `side` is announced in the link first (Codec.announced_to)."""
        chosen = set(names)
        return any(f.codec is not None and side in f.codec.announced_to
                   and (f.name in chosen or not chosen.isdisjoint(f.codec.follows)) for f in self.fields)

    def value(self, side: str, record: Record, name: str) -> Any:
        """One plain field's canonical value (adoption lookups compare names, emails, numbers)."""
        field = next(f for f in self.fields if f.name == name)
        return field.normalise(get_path(record, field.read_path(side)), {})

    def refs(self, side: str, record: Record, ctx: Any = None) -> list[tuple[str, str, str]]:
        """(entity, side, id) of every linked record the record points to: its dependencies."""
        return [ref for f in self.fields if f.codec is not None for ref in f.codec.refs(side, record, ctx)]

    def payload(self, side: str, state: Record, names: Iterable[str] | None = None,
                current: Record | None = None, ctx: Any = None, basis: Basis | None = None) -> Record:
        """The document that sets `names` (all fields, and the create-only ones, when None) on
        `side` to `state`'s values.

        For an update (`current` given) only the named fields and their nested siblings are
        sent; siblings keep the side's own current spelling so nothing else moves.
        """
        creating = names is None
        chosen = set(self.names if creating else names)
        groups = {f.group(side) for f in self.fields if f.name in chosen} - {None}
        document: Record = {}
        for field in self.fields + (self.create_fields if creating else ()):
            followed = field.codec is not None and not chosen.isdisjoint(field.codec.follows)
            if field.name not in chosen and field.group(side) not in groups and not field.create_only and not followed:
                continue
            if field.only_to is not None and field.only_to != side:
                continue
            if field.codec is not None:
                against = {"basis": basis} if side in field.codec.writes_against_basis else {}
                if field.name in chosen or field.create_only:
                    document.update(field.codec.write(side, current, state, ctx, **against))
                elif followed:
                    document.update(field.codec.follow(side, current, state, ctx, **against))
                continue
            path = field.write_path(side)
            if path is None:
                continue
            value = self._value_for(side, field, state, chosen, current)
            if value is None and current is None:
                continue  # creates leave absent fields out
            set_path(document, path, value)
        return document

    @staticmethod
    def _value_for(side: str, field: Field, state: Record, chosen: set[str], current: Record | None) -> Any:
        if field.name not in chosen and current is not None and side == SHOP:
            return get_path(current, field.shop)
        return field.to_side(side, state.get(field.name))


def address_fields(name: str, *, shop: str, wave: str) -> tuple[Field, ...]:
    """The six address fields, declared once for billing and shipping addresses."""
    return (
        Field(f"{name}.line1", shop=f"{shop}.line1", wave=f"{wave}.addressLine1"),
        Field(f"{name}.line2", shop=f"{shop}.line2", wave=f"{wave}.addressLine2"),
        Field(f"{name}.city", shop=f"{shop}.city", wave=f"{wave}.city"),
        Field(f"{name}.postal_code", shop=f"{shop}.postal_code", wave=f"{wave}.postalCode"),
        Field(f"{name}.country", shop=f"{shop}.country", wave=f"{wave}.country.code",
              wave_input=f"{wave}.countryCode", value=Code()),
        Field(f"{name}.region", shop=f"{shop}.region", wave=f"{wave}.province.code",
              wave_input=f"{wave}.provinceCode", value=Region(country=f"{name}.country")),
    )
