"""Chaos: a seeded random interleaving of edits on both sides, flow runs and webhook deliveries
under injected faults and crashes; then, fault-free, the sync must settle, the convergence
checker must find nothing and one more pass must write nothing.

    CHAOS_SEED=7 CHAOS_OPS=2000 python -m pytest tests/chaos -q -x

CHAOS_SEED (default: random, printed) and CHAOS_OPS (default 500) choose the runs (records one
at a time, then four at a time); the test summary lists every run's seed under "chaos seeds",
passed or failed, so `CHAOS_SEED=... CHAOS_OPS=...` repeats it (thread timing aside).
"""
from __future__ import annotations

import os
import random

import pytest

from tests.integration.conftest import WEBHOOK_SECRET

from .conftest import record_seed
from .runner import Chaos, Settings

QUICK_SEEDS = (11, 22, 33)


def run_chaos(stack, seed: int, ops: int) -> None:
    settings = Settings(seed=seed, ops=ops, wave_fault_rate=float(os.environ.get("CHAOS_WAVE_FAULT_RATE", 0.10)),
                        shop_fault_rate=float(os.environ.get("CHAOS_SHOP_FAULT_RATE", 0.10)))
    print(f"chaos: seed={seed} ops={ops}", flush=True)
    outcome = Chaos(stack, settings, WEBHOOK_SECRET).run()
    print(outcome.describe())
    if outcome.problems:
        print(outcome.findings)
        print("\n".join(outcome.log[-40:]))
    assert not outcome.problems, (f"{outcome.describe()}\nrepeat with CHAOS_SEED={seed} CHAOS_OPS={ops}\n"
                                  + "\n".join(outcome.problems) + "\n" + outcome.findings)


def test_chaos(chaos_stack, request):
    seed, ops = int(os.environ.get("CHAOS_SEED") or random.randrange(1, 10**6)), int(os.environ.get("CHAOS_OPS") or 500)
    record_seed(request, seed, ops)
    run_chaos(chaos_stack, seed, ops)


def test_chaos_with_records_four_at_a_time(chaos_stack, monkeypatch, request):
    """The same under SYNC_CONCURRENCY=4 (a backfill's setting): the sliding window, the shared
    limiters and the read-ahead, with crashes landing on pool threads."""
    monkeypatch.setenv("SYNC_CONCURRENCY", "4")
    chaos_stack.rebuild()
    seed, ops = int(os.environ.get("CHAOS_SEED") or random.randrange(1, 10**6)), int(os.environ.get("CHAOS_OPS") or 500)
    record_seed(request, seed, ops)
    run_chaos(chaos_stack, seed, ops)


@pytest.mark.parametrize("seed", QUICK_SEEDS)
def test_chaos_quick(chaos_stack, seed, request):
    record_seed(request, seed, 60)
    run_chaos(chaos_stack, seed, 60)
