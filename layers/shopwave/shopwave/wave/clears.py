"""How a patch clears a field in Wave. Wave's handling of an explicit `null` in a patch input is
undocumented (README "The live API in 2026"), so the sync sends as few nulls as it can:

- a text field (a plain `String` the mapping carries verbatim) is cleared with "", which every
  reading treats as absent (mapping.values.text);
- any other field (an enum such as `countryCode` or `currency`, a province code, a decimal) is
  cleared with null, and only where Wave holds a value: a null for what is already empty is left out;
- if Wave refuses a patch that carries nulls (`didSucceed: false` or a GraphQL error), it is sent
  once more without them (wave/side.py), and from then on this process leaves nulls out at once.
  A clear Wave did not take is seen by the engine in the record Wave answers: the pair agrees on
  Wave's value and a conflict is recorded (engine/record.py), so nothing bounces.
"""
from __future__ import annotations

from typing import Any

from ..mapping import WAVE, Text, get_path
from ..mapping.core import Mapping

Record = dict[str, Any]


def _pop_path(document: Record, path: str) -> None:
    *parents, leaf = path.split(".")
    node: Any = document
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(leaf, None)


def _has_path(document: Record, path: str) -> bool:
    *parents, leaf = path.split(".")
    node: Any = document
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    return isinstance(node, dict) and leaf in node


def _copy(document: Any) -> Any:
    return {k: _copy(v) for k, v in document.items()} if isinstance(document, dict) else document


def spelled(mapping: Mapping, fields: Record, current: Record | None) -> Record:
    """The patch input as the sync sends it: text clears as "", other clears as null only where
    Wave's current record has a value."""
    document = _copy(fields)
    for field in mapping.fields:
        path = field.write_path(WAVE) if field.codec is None else None
        if path is None or not _has_path(document, path) or get_path(document, path) is not None:
            continue
        if type(field.value) is Text:
            *parents, leaf = path.split(".")
            node = document
            for part in parents:
                node = node[part]
            node[leaf] = ""
        elif get_path(current, field.read_path(WAVE)) is None:
            _pop_path(document, path)  # nothing to clear
    return document


def has_nulls(document: Any) -> bool:
    if isinstance(document, dict):
        return any(v is None or has_nulls(v) for v in document.values())
    if isinstance(document, list):
        return any(has_nulls(v) for v in document)
    return False


def without_nulls(document: Record) -> Record:
    """The input with every null left out, in lists' objects too (an object left empty by it too)."""
    out: Record = {}
    for key, value in document.items():
        if isinstance(value, dict):
            value = without_nulls(value)
            if not value:
                continue
        elif isinstance(value, list):
            value = [without_nulls(v) if isinstance(v, dict) else v for v in value if v is not None]
        elif value is None:
            continue
        out[key] = value
    return out
