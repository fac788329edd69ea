"""The local stack in-process: DynamoDB from moto (tables built from template.yaml's key
schemas), the Wave and webshop sandboxes on loopback ports, and the layer's runtime wired to
them exactly as a deployed function would be, through environment variables."""
from __future__ import annotations

import threading

import boto3
import pytest
from moto import mock_aws

from devstack.template import create_tables, load_template
from devstack.wave_sandbox import WaveSandbox
from devstack.webshop_sandbox import WebshopSandbox
from shopwave import runtime
from shopwave.flows import FLOWS

WAVE_TOKEN = "wave-test-token-0123456789"
SHOP_KEY = "shop-test-key-0123456789"
WEBHOOK_SECRET = "whsec_test_0123456789"


class Stack:
    def __init__(self, wave: WaveSandbox, shop: WebshopSandbox, tables: dict[str, str]):
        self.wave, self.shop, self.tables = wave, shop, tables

    @property
    def runtime(self) -> runtime.Runtime:
        return runtime.current()

    @property
    def store(self):
        return self.runtime.store

    def rebuild(self):
        """Build the runtime again (after changing its environment)."""
        runtime.current.cache_clear()

    def run(self, flow_name: str, **kwargs):
        return self.runtime.engine.sweep(FLOWS[flow_name], **kwargs)

    def settle(self, flows=tuple(FLOWS), rounds: int = 6):
        """Run the flows until a whole round writes nothing; returns the reports of every round."""
        history = []
        for _ in range(rounds):
            reports = [self.run(name) for name in flows]
            history.append(reports)
            if not any(r.writes or r.parked for r in reports):
                return history
        raise AssertionError(f"did not settle in {rounds} rounds: {[[r.as_dict() for r in rs] for rs in history]}")

    def wave_writes(self) -> int:
        return sum(1 for r in self.wave.requests if r["kind"] == "mutation")

    def shop_writes(self) -> int:
        return sum(1 for r in self.shop.requests if r["method"] in ("POST", "PATCH", "DELETE"))

    def reset_counters(self):
        self.wave.reset_counters()
        self.shop.reset_counters()


@pytest.fixture
def aws_tables(monkeypatch):
    # moto's in-process backend is not thread-safe (TransactWriteItems deep-copies a table
    # another thread may be writing); DynamoDB serves each request atomically, so here one at a time.
    from moto.core.botocore_stubber import BotocoreStubber

    one_at_a_time, handle = threading.RLock(), BotocoreStubber.__call__

    def serialised(self, *args, **kwargs):
        with one_at_a_time:
            return handle(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", serialised)
    with mock_aws():
        yield create_tables(boto3.client("dynamodb"), load_template(), prefix="test-")


@pytest.fixture
def wave():
    sandbox = WaveSandbox(token=WAVE_TOKEN)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def shop(tmp_path):
    sandbox = WebshopSandbox(db_path=str(tmp_path / "shop.sqlite"), api_key=SHOP_KEY, webhook_secret=WEBHOOK_SECRET)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def stack(aws_tables, wave, shop, monkeypatch):
    env = {**aws_tables, "WAVE_API_URL": wave.url, "WAVE_TOKEN": WAVE_TOKEN, "WAVE_BUSINESS_ID": wave.business_id,
           "WEBSHOP_API_URL": shop.base_url, "WEBSHOP_API_KEY": SHOP_KEY, "WEBHOOK_SECRET": WEBHOOK_SECRET,
           "SYNC_PAGE_SIZE": "50"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from shopwave import idempotency

    runtime.current.cache_clear()
    idempotency._handled_once.cache_clear()
    yield Stack(wave, shop, aws_tables)
    runtime.current.cache_clear()
    idempotency._handled_once.cache_clear()
