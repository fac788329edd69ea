"""A sweep that runs out of Lambda time stops taking work, keeps what it did, and the next
run goes on: repeated short runs finish the same work with nothing lost or doubled."""
from __future__ import annotations

from collections import Counter

from .handlers import load_handler, sample_event


class ShortLivedContext:
    """A Lambda context whose remaining time runs out after `records` checks."""
    function_name = "CustomerToWaveFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:CustomerToWaveFunction"
    aws_request_id = "req-budget"

    def __init__(self, checks: int):
        self.checks = checks

    def get_remaining_time_in_millis(self) -> int:
        self.checks -= 1
        return 60_000 if self.checks > 0 else 1_000  # 1 s left: under the engine's reserve


def test_given_a_tiny_time_budget_when_sweeps_repeat_then_all_records_sync_once_and_nothing_is_lost(stack):
    emails = [f"budget{i}@example.com" for i in range(12)]
    for email in emails:
        stack.shop.create("customers", {"email": email, "first_name": "B", "last_name": email[:8]})
    handler = load_handler("customer_to_wave")
    runs = []
    for _ in range(20):
        result = handler(sample_event("schedule.json"), ShortLivedContext(checks=3))
        runs.append(result)
        if not result["stopped_early"]:
            break
    assert len(runs) > 3, "the budget should have cut the work into several runs"
    assert all(r["stopped_early"] for r in runs[:-1]) and not runs[-1]["stopped_early"]
    assert sum(r["created"] for r in runs) == 12
    in_wave = Counter(c["email"] for c in stack.wave.customers())
    assert in_wave == Counter(emails)  # every customer exactly once
    assert stack.run("customer_to_wave").writes == 0


def test_given_a_sweep_already_running_when_another_starts_then_it_does_nothing(stack):
    stack.shop.create("customers", {"email": "solo@example.com"})
    token = "someone-else"
    from datetime import timedelta
    assert stack.store.claim("sweep#customer_to_wave", token, timedelta(minutes=5))
    report = stack.run("customer_to_wave")
    assert report.busy and report.read == 0 and stack.wave.customers() == []
    stack.store.release("sweep#customer_to_wave", token)
    assert stack.run("customer_to_wave").created == 1
