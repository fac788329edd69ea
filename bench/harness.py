"""The benchmark stack: moto's DynamoDB server, the Wave and webshop sandboxes on loopback
ports, and the layer's runtime wired to them through the environment, as a deployed function
would be (the same variables tests/integration/conftest.py sets).

Everything here is bounded: every loop has a round limit and every wait a deadline.
"""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from typing import Any

BENCH_ENV = {
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "shopwave",
    "POWERTOOLS_METRICS_NAMESPACE": "Shopwave", "POWERTOOLS_DEV": "false", "POWERTOOLS_LOG_LEVEL": "ERROR",
}
os.environ.update(BENCH_ENV)
for _name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)

import boto3  # noqa: E402
import requests  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from devstack.template import create_tables, load_template  # noqa: E402
from devstack.wave_sandbox import WaveSandbox  # noqa: E402
from devstack.webshop_sandbox import WebshopSandbox  # noqa: E402

WAVE_TOKEN = "wave-bench-token-0123456789"
SHOP_KEY = "shop-bench-key-0123456789"
TRIVIAL = "query Trivial($businessId: ID!) { business(id: $businessId) { id } }"
WEBHOOK_SECRET = "whsec_bench_0123456789"
FLOW_ORDER = ("customer_to_wave", "customer_to_webshop", "product_to_wave", "product_to_webshop",
              "order_to_wave", "invoice_to_webshop")

logging.getLogger("werkzeug").setLevel(logging.ERROR)
logging.getLogger("shopwave").setLevel(logging.ERROR)


def cheap_moto_transactions() -> None:
    """Harness workaround for a moto limit (moto 5.x, in this process only): TransactWriteItems
    deep-copies every table it touches before writing, as its rollback snapshot. That costs time
    and memory in proportion to the table, so every link write grows with the links table
    (measured: 300 link writes +310 MB RSS, 600 +1.1 GB; with a 44,000-item table, even a shallow
    snapshot per write grew the process by ~1.7 GB a minute). Here the snapshot is the table
    itself, i.e. no rollback: a transaction failing half way would keep its first put. The layer's
    transactions only fail when two writers race for one link (LinkRaced), which a single
    benchmark writer with per-record claims does not do. DynamoDB itself has no such cost."""
    import copy

    import moto.dynamodb.models as backend
    from moto.dynamodb.models.table import Table

    if getattr(backend, "_bench_cheap_snapshot", False):
        return

    class _Copy:
        def __getattr__(self, name):
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):
            if isinstance(value, Table):
                return value
            return copy.deepcopy(value, memo)

    backend.copy = _Copy()
    backend._bench_cheap_snapshot = True


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Stack:
    """One fresh stack per benchmark section. `tuning` is laid over the runtime's environment
    (SYNC_CONCURRENCY, WAVE_MAX_RPS, ...)."""

    _serial = 0

    def __init__(self, tuning: dict[str, str] | None = None):
        self.tuning = dict(tuning or {})
        self.moto: ThreadedMotoServer | None = None
        self.wave: WaveSandbox | None = None
        self.shop: WebshopSandbox | None = None
        self.env: dict[str, str] = {}
        self._saved: dict[str, str | None] = {}

    def __enter__(self) -> "Stack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        cheap_moto_transactions()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        # moto keeps its DynamoDB state per process, not per server: every stack gets tables of
        # its own (a fresh prefix), and drops them when it stops.
        Stack._serial += 1
        self._dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        tables = create_tables(self._dynamodb, load_template(), prefix=f"bench{Stack._serial}-")
        self._tables = list(tables.values())
        self.wave = WaveSandbox(token=WAVE_TOKEN)
        self.wave.start()
        self.shop = WebshopSandbox(db_path=":memory:", api_key=SHOP_KEY, webhook_secret=WEBHOOK_SECRET)
        self.shop.start()
        self.env = {**BENCH_ENV, **tables, "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                    "WAVE_API_URL": self.wave.url, "WAVE_TOKEN": WAVE_TOKEN, "WAVE_BUSINESS_ID": self.wave.business_id,
                    "WEBSHOP_API_URL": self.shop.base_url, "WEBSHOP_API_KEY": SHOP_KEY,
                    "WEBHOOK_SECRET": WEBHOOK_SECRET, **self.tuning}
        for name, value in self.env.items():
            self._saved.setdefault(name, os.environ.get(name))
            os.environ[name] = value
        self.rebuild()

    def stop(self) -> None:
        for name in getattr(self, "_tables", []):
            try:
                self._dynamodb.delete_table(TableName=name)
            except Exception:  # noqa: BLE001 - best effort: the process ends soon anyway
                pass
        for sandbox in (self.shop, self.wave):
            if sandbox is not None:
                sandbox.stop()
        if self.moto is not None:
            self.moto.stop()
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved.clear()
        self.rebuild()

    @staticmethod
    def rebuild() -> None:
        from shopwave import idempotency, runtime

        runtime.current.cache_clear()
        idempotency._handled_once.cache_clear()

    # the layer ---------------------------------------------------------------------------
    @property
    def runtime(self):
        from shopwave import runtime

        return runtime.current()

    def run(self, flow_name: str):
        from shopwave.flows import FLOWS

        return self.runtime.engine.sweep(FLOWS[flow_name])

    def round(self) -> list:
        return [self.run(name) for name in FLOW_ORDER]

    def settle(self, max_rounds: int = 8) -> list[list]:
        """Rounds of all six flows until one writes nothing (bounded)."""
        history = []
        for _ in range(max_rounds):
            reports = self.round()
            history.append(reports)
            if not any(r.writes or r.parked for r in reports):
                return history
        raise RuntimeError(f"did not settle in {max_rounds} rounds: "
                           f"{[[r.as_dict() for r in rs] for rs in history[-2:]]}")

    # counting ----------------------------------------------------------------------------
    def reset_counters(self) -> None:
        self.wave.reset_counters()
        self.shop.reset_counters()

    def trivial_wave_query(self, session=None):
        """The cheapest request Wave answers: the sandbox's own round trip, without the engine."""
        return (session or requests).post(
            self.wave.url, json={"query": TRIVIAL, "variables": {"businessId": self.wave.business_id}},
            headers={"Authorization": f"Bearer {WAVE_TOKEN}"}, timeout=30)

    def wave_counts(self) -> dict[str, int]:
        requests = list(self.wave.requests)
        return {"writes": sum(1 for r in requests if r["kind"] == "mutation"),
                "reads": sum(1 for r in requests if r["kind"] == "query"),
                "total": len(requests), "429": sum(1 for r in requests if r["status"] == 429)}

    def shop_counts(self) -> dict[str, int]:
        requests = list(self.shop.requests)
        return {"writes": sum(1 for r in requests if r["method"] in ("POST", "PATCH", "DELETE")),
                "reads": sum(1 for r in requests if r["method"] == "GET"), "total": len(requests)}

    def wave_ops(self) -> dict[str, int]:
        ops: dict[str, int] = {}
        for r in list(self.wave.requests):
            key = f"{r['kind']}:{','.join(r['fields'])}" if r["kind"] == "mutation" else f"query:{r['operationName']}"
            ops[key] = ops.get(key, 0) + 1
        return dict(sorted(ops.items()))

    def parked(self) -> dict[str, int]:
        from shopwave.flows import FLOWS

        store = self.runtime.store
        return {name: len(store.parked(name)) for name in FLOWS if store.parked(name)}


# sample data -------------------------------------------------------------------------------
PROVINCES = (("ON", "Toronto", "M5X 1A9"), ("QC", "Montréal", "H3G 1P1"), ("BC", "Vancouver", "V6B 1A1"))


def shop_customer(i: int, tag: str = "c") -> dict[str, Any]:
    region, city, postal = PROVINCES[i % len(PROVINCES)]
    return {"email": f"{tag}{i}@bench.example.com", "first_name": f"First{i}", "last_name": f"Last{tag}{i}",
            "phone": f"+1 416 555 {i % 10000:04d}", "currency": "CAD",
            "billing_address": {"line1": f"{i} King St W", "city": city, "region": region,
                                "postal_code": postal, "country": "CA"}}


def shop_product(i: int, tag: str = "p") -> dict[str, Any]:
    return {"sku": f"SKU-{tag}{i}", "name": f"Bench product {tag}{i}", "description": f"Product number {i}",
            "price": f"{5 + i % 50}.{i % 100:02d}", "currency": "CAD"}


def shop_order(i: int, customer: dict, products: list[dict], lines: int = 3, tax: bool = True) -> dict[str, Any]:
    chosen = [products[(i * 7 + k) % len(products)] for k in range(lines)]
    seen, unique = set(), []
    for p in chosen:
        if p["id"] not in seen:
            seen.add(p["id"])
            unique.append(p)
    return {"customer_id": customer["id"], "currency": "CAD", "order_date": "2026-03-15",
            "note": f"Bench order {i}",
            "lines": [{"product_id": p["id"], "quantity": str(1 + (i + k) % 4), "unit_price": p["price"],
                       "tax_rate": "0.13" if tax else None} for k, p in enumerate(unique)]}


def wave_customer(i: int) -> dict[str, Any]:
    return {"name": f"Wave Only {i} Ltd", "firstName": f"Wfirst{i}", "lastName": f"Wlast{i}",
            "email": f"wave{i}@bench.example.com", "currency": "CAD",
            "address": {"addressLine1": f"{i} Bay St", "city": "Toronto", "provinceCode": "CA-ON",
                        "postalCode": "M5J 2J2", "countryCode": "CA"}}


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
