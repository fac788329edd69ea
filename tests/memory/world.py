"""The real engine and the real flows on in-memory systems: `World()` is a webshop, a Wave
business and a state store that live as long as one test.

    def test_...(world):
        customer = world.shop.create("customers", {...})      # the merchant, in the shop's admin
        world.wave.create_customer(name=..., email=...)       # the merchant, in Wave
        report = world.run("customer_to_wave")                # one scheduled sweep
        world.settle()                                         # every flow until nothing is written

`world.shop` / `world.wave` are the sandboxes (their merchant-side helpers, as the integration
tests use them), `world.sides[...]` the Sides the engine talks to (faults and request counters),
`world.store` the state store, `world.later(seconds)` moves the store's clock on (leases run
out, parked records fall due) and `world.crash_at(point)` stops a run dead at an engine checkpoint.
"""
from __future__ import annotations

import dataclasses

from datetime import timedelta
from typing import Any, Callable

import pytest

from devstack.wave_sandbox import WaveSandbox
from devstack.webshop_sandbox import WebshopSandbox
from devstack.webshop_sandbox.values import format_ts
from shopwave.config import Options
from shopwave.engine import Engine, Report, SweepMode
from shopwave.flows import FLOWS, flow_for
from shopwave.mapping import SHOP, WAVE

from .clock import LogicalClock, WallClock
from .shop import MemoryShopSide
from .store import MemoryStore
from .wave import MemoryCatalog, MemoryWaveSide

class Crash(BaseException):
    """The process dies here: not an Exception, so nothing is released or parked on the way out."""


class World:
    def __init__(self, *, options: dict[str, Any] | None = None, concurrency: int = 1, claim_wait: float = 0.0,
                 claim_lease: float = 60.0, sweep_lease: float = 900.0, park_backoff: float = 60.0,
                 park_max_attempts: int = 10):
        self.options = dataclasses.replace(Options(), **(options or {}))  # what a deployment configures
        self.clock = LogicalClock()
        self.wall = WallClock()
        self.shop = WebshopSandbox(db_path=":memory:")
        self.shop.store.next_ts = lambda: format_ts(self.clock.tick())
        self.wave = WaveSandbox()
        self.wave.store.clock = self.clock
        self.sides = {SHOP: MemoryShopSide(self.shop), WAVE: MemoryWaveSide(self.wave, self.options)}
        self.catalog = MemoryCatalog(self.sides[WAVE], self.options)
        self.store = MemoryStore(clock=self.wall, park_backoff=timedelta(seconds=park_backoff),
                                 park_max_attempts=park_max_attempts)
        self._hooks: list[list] = []  # [checkpoint, passes left before it acts, action]
        self.engine = Engine(self.store, self.sides, flows=flow_for, catalog=self.catalog, options=self.options,
                             claim_lease=timedelta(seconds=claim_lease), claim_wait=claim_wait,
                             sweep_lease=timedelta(seconds=sweep_lease), checkpoint=self._checkpoint,
                             concurrency=concurrency, now=self.wall.now)

    def close(self) -> None:
        self.engine.workers.close()

    # -- running the flows -------------------------------------------------------------------
    def run(self, flow_name: str, **kwargs) -> Report:
        """One sweep of a flow, as its schedule runs it."""
        return self.engine.sweep(FLOWS[flow_name], **kwargs)

    def reconcile(self, flow_name: str, **kwargs) -> Report:
        """One reconciliation pass of a flow, as its Reconcile schedule runs it."""
        return self.engine.sweep(FLOWS[flow_name], mode=SweepMode.RECONCILE, **kwargs)

    def sync_ids(self, flow_name: str, ids: list[str]) -> Report:
        """Named records now: a webhook delivery, or an operator's `ops retry`."""
        return self.engine.sync_ids(FLOWS[flow_name], ids)

    def settle(self, flows=tuple(FLOWS), rounds: int = 6) -> list[list[Report]]:
        """Every flow until a whole round writes and parks nothing; the reports of each round."""
        history = []
        for _ in range(rounds):
            reports = [self.run(name) for name in flows]
            history.append(reports)
            if not any(r.writes or r.parked for r in reports):
                return history
        raise AssertionError(f"did not settle in {rounds} rounds: {[[r.as_dict() for r in rs] for rs in history]}")

    def settles_quietly(self) -> bool:
        """Everything settles, and one more round writes nothing to either system."""
        self.settle()
        self.reset_counters()
        self.settle()
        return self.wave_writes == 0 and self.shop_writes == 0

    # -- what the merchant and an operator see --------------------------------------------------
    def link(self, entity: str, shop_id: str):
        return self.store.get_link(entity, SHOP, shop_id)

    def wave_record(self, entity: str, shop_id: str) -> dict | None:
        """The Wave counterpart of a shop record, through its link."""
        link = self.link(entity, shop_id)
        return self.sides[WAVE].fetch(FLOWS[f"{entity}_to_wave"].entity, link.wave_id) if link else None

    @property
    def wave_writes(self) -> int:
        return self.sides[WAVE].faults.writes

    @property
    def shop_writes(self) -> int:
        return self.sides[SHOP].faults.writes

    def reset_counters(self) -> None:
        for side in self.sides.values():
            side.faults.reset_counters()

    # -- time and crashes ------------------------------------------------------------------------
    def later(self, seconds: float) -> None:
        """Our clock moves on (the state store's and the engine's): leases run out, parked records
        fall due, what a Wave sweep re-reads before its watermark narrows."""
        self.wall.advance(timedelta(seconds=seconds))

    def crash_at(self, point: str, after: int = 0) -> None:
        """The next run dies at the engine checkpoint `point` ("after_remote_write",
        "after_link_write", "after_record", "after_watermark"), after passing it `after` times."""
        def crash():
            raise Crash(point)
        self.at(point, crash, after)

    def at(self, point: str, action: Callable[[], Any], after: int = 0) -> None:
        """Do `action` once, the `after`+1-th time a run passes the checkpoint `point` (another
        writer acting in the middle of a run, a crash)."""
        self._hooks.append([point, after, action])

    def _checkpoint(self, point: str) -> None:
        for hook in list(self._hooks):
            if hook[0] == point:
                if hook[1] == 0:
                    self._hooks.remove(hook)
                    hook[2]()
                else:
                    hook[1] -= 1


@pytest.fixture
def world():
    built = World()
    yield built
    built.close()


@pytest.fixture
def make_world():
    """Worlds with their own settings: `make_world(park_max_attempts=3, ...)`."""
    built: list[World] = []

    def make(**settings) -> World:
        built.append(World(**settings))
        return built[-1]
    yield make
    for each in built:
        each.close()
