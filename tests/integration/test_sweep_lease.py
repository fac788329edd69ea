"""The sweep lease and the function's timeout agree: a sweep killed by Lambda's hard timeout
(it never releases its lease) blocks the next runs only until just after that timeout, not for
SWEEP_LEASE_SECONDS (900 s against a 120 s timeout: the next runs skipped silently)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from shopwave import flow_runner
from shopwave.state import store as store_module

from .handlers import Context, load_handler, sample_event

FUNCTION_TIMEOUT_SECONDS = 120  # template.yaml, Globals.Function.Timeout


class FreshInvocation(Context):
    """A context at the start of an invocation: the whole function timeout still ahead."""

    def get_remaining_time_in_millis(self):
        return FUNCTION_TIMEOUT_SECONDS * 1000


@pytest.fixture
def clock(monkeypatch):
    """The state store's clock, moved on by hand (claims and leases are compared against it)."""
    real_now, offset = store_module._now, {"seconds": 0.0}
    monkeypatch.setattr(store_module, "_now", lambda: real_now() + timedelta(seconds=offset["seconds"]))
    return offset


def test_given_a_sweep_killed_by_the_hard_timeout_when_the_function_timeout_has_passed_then_the_next_run_syncs(
        stack, monkeypatch, clock):
    stack.shop.create("customers", {"email": "first@example.com"})
    handler = load_handler("customer_to_wave")
    release = type(stack.store).release

    def killed_before_releasing(self, key, owner):  # the process is gone: the lease stays behind
        if not key.startswith("sweep#"):
            release(self, key, owner)

    monkeypatch.setattr(type(stack.store), "release", killed_before_releasing)
    handler(sample_event("schedule.json"), FreshInvocation())
    monkeypatch.setattr(type(stack.store), "release", release)
    stack.shop.create("customers", {"email": "second@example.com"})

    clock["seconds"] = FUNCTION_TIMEOUT_SECONDS - 20  # the killed run could still be alive: wait
    during = handler(sample_event("schedule.json"), FreshInvocation())
    assert during["busy"] and during["read"] == 0

    clock["seconds"] = FUNCTION_TIMEOUT_SECONDS + 10  # it is certainly dead (lease: timeout + a 5 s margin)
    after = handler(sample_event("schedule.json"), FreshInvocation())
    assert not after["busy"] and after["created"] == 1
    assert sorted(c["email"] for c in stack.wave.customers()) == ["first@example.com", "second@example.com"]


def test_given_a_lambda_context_when_a_sweep_starts_then_its_lease_is_the_remaining_time_plus_a_margin():
    assert flow_runner.sweep_lease(FreshInvocation()) == timedelta(seconds=FUNCTION_TIMEOUT_SECONDS + flow_runner.LEASE_MARGIN_SECONDS)
    assert flow_runner.sweep_lease(Context()) == timedelta(seconds=60 + flow_runner.LEASE_MARGIN_SECONDS)


def test_given_no_lambda_context_when_a_sweep_starts_then_the_configured_lease_applies(stack, monkeypatch, clock):
    """Tools and tests that call the engine without a context keep SWEEP_LEASE_SECONDS."""
    assert flow_runner.sweep_lease(None) is None
    monkeypatch.setenv("SWEEP_LEASE_SECONDS", "600")
    stack.rebuild()
    assert stack.runtime.engine.sweep_lease == timedelta(seconds=600)
    release = type(stack.store).release
    monkeypatch.setattr(type(stack.store), "release", lambda self, key, owner: None if key.startswith("sweep#")
                        else release(self, key, owner))
    stack.run("customer_to_wave")
    monkeypatch.setattr(type(stack.store), "release", release)
    clock["seconds"] = 590
    assert stack.run("customer_to_wave").busy
    clock["seconds"] = 601
    assert not stack.run("customer_to_wave").busy
