"""In-memory stand-ins for both systems and the state store, behind the engine's Protocols
(shopwave/engine/ports.py), so the sync rules run as unit tests in milliseconds.

Each side keeps its records in that system's own shape and applies writes with the sandboxes'
own rules (devstack/webshop_sandbox, devstack/wave_sandbox: the same stores, driven directly,
without HTTP, GraphQL or threads of their own); the state store keeps the semantics of
state/store.py in dictionaries. `World` wires them to the real engine and the real flows.
Test code only: nothing in layers/ imports this package.
"""
from .clock import LogicalClock
from .shop import MemoryShopSide
from .store import MemoryStore
from .wave import MemoryCatalog, MemoryWaveSide
from .world import World, make_world, world

__all__ = ["LogicalClock", "MemoryCatalog", "MemoryShopSide", "MemoryStore", "MemoryWaveSide", "World", "make_world", "world"]
