"""Field-level three-way merge against the last agreed state (SYNC.md rule 4).

A flow writes only its target. For each field the source changed since the agreed state:
- the target still holds the agreed value (or already the same new value): the source's value
  is written to the target;
- the target changed it too, to something else: the later edit wins; the loss is a conflict.
  When the target's edit is the later one, nothing is written here and the agreed state takes
  the source's value, so the reverse flow sees the target's value as its change and carries it
  back. Fields only the target changed are left to the reverse flow for the same reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


@dataclass
class Conflict:
    field: str
    agreed: Any
    source: Any
    target: Any
    winner: str  # "source" | "target"


@dataclass
class Merge:
    agreed: Record
    write: list[str] = field(default_factory=list)  # fields to set on the target
    conflicts: list[Conflict] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # one-way fields the source changed on its own


def merge(base: Record, source: Record, target: Record, *, source_is_later: bool,
          ignore: frozenset[str] = frozenset()) -> Merge:
    """`ignore`: fields that only travel into the source (payments into the shop): the
    source's own changes to them stay where they are."""
    result = Merge(agreed=dict(base))
    for name, value in source.items():
        agreed = base.get(name)
        if value == agreed:
            continue
        if name in ignore:
            result.ignored.append(name)
            continue
        result.agreed[name] = value
        theirs = target.get(name)
        if theirs == value:
            continue
        if theirs == agreed:
            result.write.append(name)
            continue
        winner = "source" if source_is_later else "target"
        result.conflicts.append(Conflict(name, agreed, value, theirs, winner))
        if source_is_later:
            result.write.append(name)
    return result


def adopt(source: Record, target: Record, *, into_source: frozenset[str] = frozenset(),
          into_target: frozenset[str] = frozenset()) -> tuple[Record, list[str], list[str]]:
    """Two records met for the first time (no agreed state): the source's values win where it
    has one, the target fills what the source leaves empty; a field that travels only one
    way takes the value of the side it comes from. Returns the agreed state and the fields to
    write to the target and to the source."""
    def pick(name):
        if name in into_source:
            return target.get(name)
        if name in into_target or source.get(name) is not None:
            return source.get(name)
        return target.get(name)
    agreed = {name: pick(name) for name in source}
    to_target = [n for n in agreed if agreed[n] != target.get(n)]
    to_source = [n for n in agreed if agreed[n] != source.get(n)]
    return agreed, to_target, to_source
