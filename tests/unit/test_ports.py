"""The engine's Protocols (engine/ports.py) hold for what is deployed and for the in-memory
stand-ins the rule tests run on, method by method and parameter by parameter: a rule test on
the in-memory systems exercises the same calls the engine makes in Lambda."""
from __future__ import annotations

import inspect
from typing import Protocol

import pytest

from shopwave import runtime
from shopwave.engine.ports import Deletes, OperatedStore, Side, Store
from shopwave.mapping import SHOP, WAVE
from tests.memory import MemoryStore, World


@pytest.fixture
def deployed(monkeypatch):
    """The runtime a Lambda function builds (no request is made by building it)."""
    for name, value in {"WAVE_API_URL": "http://127.0.0.1:9/graphql/public", "WAVE_TOKEN": "t", "WAVE_BUSINESS_ID": "b",
                        "WEBSHOP_API_URL": "http://127.0.0.1:9/api/v1", "WEBSHOP_API_KEY": "k",
                        "LINKS_TABLE": "links", "STATE_TABLE": "state"}.items():
        monkeypatch.setenv(name, value)
    runtime.current.cache_clear()
    yield runtime.current()
    runtime.current.cache_clear()


@pytest.fixture
def memory():
    built = World()
    yield built
    built.close()


def members(protocol: type) -> dict[str, inspect.Signature | None]:
    """The protocol's methods (signature without `self`) and data members (None)."""
    found: dict[str, inspect.Signature | None] = {}
    for klass in reversed(protocol.__mro__):
        if klass is object or klass is Protocol or not getattr(klass, "_is_protocol", False):
            continue
        found.update({name: None for name in getattr(klass, "__annotations__", {})})
        for name, value in vars(klass).items():
            if inspect.isfunction(value) and not name.startswith("_"):
                signature = inspect.signature(value)
                found[name] = signature.replace(parameters=list(signature.parameters.values())[1:])
    return found


def shape(signature: inspect.Signature) -> list[tuple]:
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


def mismatches(implementation: object, protocol: type) -> list[str]:
    problems = []
    for name, wanted in members(protocol).items():
        if not hasattr(implementation, name):
            problems.append(f"{name}: missing")
        elif wanted is not None and shape(inspect.signature(getattr(implementation, name))) != shape(wanted):
            problems.append(f"{name}{inspect.signature(getattr(implementation, name))} is not {name}{wanted}")
    return problems


def test_given_the_protocols_when_listed_then_they_name_every_call_the_engine_makes_of_a_side_and_the_store():
    assert set(members(Side)) == {
        "name", "record_id", "stamp", "deleted", "writable", "takes_writes", "must_replace", "deletable", "status_of",
        "reread_window", "partitions", "pages", "fetch", "fetch_many", "look_up_many", "candidates", "create", "update"}
    assert set(members(Deletes)) - set(members(Side)) == {"delete"}
    assert set(members(Store)) == {"get_links", "get_link", "save_link", "watermark", "save_watermark", "park",
                                   "unpark", "parked", "record_conflict", "claim", "release"}


def test_given_the_deployed_runtime_when_checked_then_its_sides_and_store_keep_the_protocols(deployed):
    shop, wave = deployed.engine.sides[SHOP], deployed.engine.sides[WAVE]
    assert isinstance(shop, Side) and isinstance(wave, Deletes)
    assert isinstance(deployed.store, OperatedStore)
    assert mismatches(shop, Side) == []
    assert mismatches(wave, Deletes) == []
    assert mismatches(deployed.store, OperatedStore) == []


def test_given_the_in_memory_world_when_checked_then_its_sides_and_store_keep_the_same_protocols(memory):
    shop, wave = memory.sides[SHOP], memory.sides[WAVE]
    assert isinstance(shop, Side) and isinstance(wave, Deletes)
    assert isinstance(memory.store, OperatedStore)
    assert mismatches(shop, Side) == []
    assert mismatches(wave, Deletes) == []
    assert mismatches(MemoryStore(), OperatedStore) == []


def test_given_a_side_whose_write_takes_other_parameters_when_checked_then_the_mismatch_is_named():
    class Wrong:
        name = "shop"

        def create(self, entity, payload):  # no source_id
            return payload

    problems = mismatches(Wrong(), Side)
    assert any(p.startswith("create(entity, payload) is not create(entity") for p in problems), problems
    assert "fetch: missing" in problems
