"""9. The deployment-wide Wave budget: all six flows, each in a container of its own, plus a burst
of 200 order webhook deliveries at once, against a Wave sandbox that serves 2 requests at a time
(429 without Retry-After beyond) with LATENCY per request.

A "container" is a Runtime of its own (its clients, its SharedBudget, its thread), as a Lambda
container would have; they share only DynamoDB (moto's server) and the sandboxes. The deliveries
queue in front of the order function's webhook containers (WebhookConcurrency 5: 4 for deliveries)
and each runs the engine's delivery path (`engine.sync_ids`, what the handler calls).
"""
from __future__ import annotations

import queue
import threading
import time

from .harness import FLOW_ORDER, Stack, shop_customer, shop_order, shop_product, wave_customer
from .report import Section

CAP = 2
LATENCY = 0.3
DELIVERIES = 200
DELIVERY_CONTAINERS = 4
TUNING = {"WAVE_MAX_CONCURRENCY": str(CAP), "WAVE_MAX_RPS": "0", "SYNC_CONCURRENCY": "4"}


def run(sec: Section, quick: bool) -> None:
    from shopwave import runtime
    from shopwave.config import Config
    from shopwave.flows import FLOWS

    deliveries = 60 if quick else DELIVERIES
    with Stack(tuning=TUNING) as stack:
        shop, wave = stack.shop, stack.wave
        # linked first, uncapped: the orders' customers and products
        customers = [shop.create("customers", shop_customer(i)) for i in range(20)]
        products = [shop.create("products", shop_product(i)) for i in range(20)]
        stack.settle()
        # what the six flows find: new records on both sides, and the orders of the burst
        for i in range(20, 50):
            shop.create("customers", shop_customer(i))
        for i in range(20, 35):
            shop.create("products", shop_product(i))
        for i in range(15):
            wave.create_customer(**wave_customer(i))
            wave.create_product(name=f"Wave only product {i}", unitPrice=f"{3 + i}.50")
        orders = [shop.create("orders", shop_order(n, customers[n % 20], products)) for n in range(deliveries)]
        stack.reset_counters()
        wave.set_concurrency_cap(CAP, retry_after=None)
        wave.set_latency(LATENCY)
        stamps: list[float] = []
        original = wave._log

        def _log(operation, status, payload, headers=None):
            if status == 200:
                stamps.append(time.monotonic())
            return original(operation, status, payload, headers)

        wave._log = _log
        containers = {name: runtime.Runtime(Config.from_env()) for name in FLOW_ORDER}
        webhook_containers = [runtime.Runtime(Config.from_env()) for _ in range(DELIVERY_CONTAINERS)]
        reports, errors = [], []
        burst: queue.Queue = queue.Queue()
        for order in orders:
            burst.put(order["id"])

        def sweep(name: str) -> None:
            try:
                reports.append(containers[name].engine.sweep(FLOWS[name]))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(f"{name}: {exc!r}")

        def deliver(rt) -> None:
            while True:
                try:
                    order_id = burst.get_nowait()
                except queue.Empty:
                    return
                try:
                    reports.append(rt.engine.sync_ids(FLOWS["order_to_wave"], [order_id]))
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(f"delivery {order_id}: {exc!r}")

        threads = [threading.Thread(target=sweep, args=(name,)) for name in FLOW_ORDER]
        threads += [threading.Thread(target=deliver, args=(rt,)) for rt in webhook_containers]
        t0 = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
        wall = time.monotonic() - t0
        wave.set_latency(0)
        wave.set_concurrency_cap(None)
        log = list(wave.requests)
        over_cap, peak, served_seconds = wave.over_cap_answers, wave.peak_in_flight, wave.served_seconds
        budget_calls = sum(rt.budget.calls for rt in [*containers.values(), *webhook_containers] if rt.budget)
        parked = stack.parked()
        settle = stack.settle(max_rounds=4)  # the next scheduled round: what is left to do
        invoices = len(wave.invoices())

    answered = sum(1 for r in log if r["status"] != 429)
    throttled = sum(1 for r in log if r["status"] == 429)
    busy = (max(stamps) - min(stamps)) if len(stamps) > 1 else wall
    rate = (len(stamps) - 1) / busy if busy else 0.0
    # the middle 80% of the busy window: leaves out the start and the tail, when fewer
    # containers than slots still have requests to make
    low, high = min(stamps) + 0.1 * busy, min(stamps) + 0.9 * busy
    steady = sum(1 for t in stamps if low <= t <= high) / (0.8 * busy) if busy else 0.0
    ceiling = CAP / LATENCY
    share_429 = throttled / len(log) if log else 0.0
    left_over = sum(r.writes for r in settle[0])
    answered_ok = max(len(stamps), 1)
    per_request = served_seconds / answered_ok  # inside the sandbox: LATENCY plus executing the GraphQL
    utilisation = served_seconds / (CAP * busy) if busy else 0.0
    parked_runs = sum(r.parked for r in reports)

    sec.add(f"Wave sandbox: at most {CAP} requests served at once, 429 without Retry-After beyond; {LATENCY * 1000:.0f} ms "
            f"per request, so the ceiling is {CAP} / {LATENCY} s = {ceiling:.2f} requests/s. The deployment's budget "
            f"is WAVE_MAX_CONCURRENCY={CAP} (SYNC_CONCURRENCY=4, read-ahead on). 20 customers and 20 products were "
            f"linked first (uncapped); then, at once: the six flows' sweeps, each in a container of its own (a Runtime "
            f"with its own clients and SharedBudget), over 30 new webshop customers, 15 new webshop products, 15 Wave "
            f"customers and 15 Wave products and the {deliveries} new orders; and a burst of {deliveries} order webhook "
            f"deliveries queued in front of {DELIVERY_CONTAINERS} webhook containers (WebhookConcurrency 5, one kept for "
            f"the sweep). The containers share only DynamoDB (moto's server, one process) and the sandboxes.", "")
    sec.table(["figure", "value"], [
        ["wall time, all containers done", f"{wall:.1f} s"],
        ["Wave requests (answered / 429)", f"{answered} / {throttled} ({share_429:.2%})"],
        ["throughput while busy (first to last answer)", f"{rate:.2f} requests/s = {rate / ceiling:.2f} x the ceiling"],
        ["throughput in the middle 80% of that window", f"{steady:.2f} requests/s = {steady / ceiling:.2f} x the ceiling"],
        ["most requests Wave served at once", f"{peak}"],
        ["time a request spent inside the sandbox (mean)", f"{per_request * 1000:.0f} ms (latency {LATENCY * 1000:.0f} ms "
         f"+ GraphQL execution); so the sandbox's own ceiling is {CAP / per_request:.2f}/s"],
        ["slot use: time served / (2 x busy window)", f"{utilisation:.2f}"],
        ["records parked (runs' reports / state table)", f"{parked_runs} / {sum(parked.values())}"],
        ["invoices in Wave", f"{invoices} of {deliveries} orders"],
        ["DynamoDB requests of the budget", f"{budget_calls} = {budget_calls / max(len(log), 1):.1f} per Wave request"],
        ["writes left for the next round", f"{left_over}"],
        ["errors", "; ".join(errors[:3]) or "none"],
    ])
    sec.add("Runs have ended with 0 to 2 answers 429 (at most 0.5%); where they come from is not established: "
            "12 callers racing for one free slot on moto's server, 40 times, never both got it. "
            "Slot use below 1 is the hand-off (a release, then the next caller's take, a few ms each against "
            "moto on this 2-core machine shared with other runs) and the tail, when "
            "fewer containers than slots still have requests to make. Waiting callers poll the slots with one "
            "Query, 10 ms doubling to 100 ms apart: that polling is most of the DynamoDB requests per Wave request.", "")
    sec.goal("nothing parked", not parked_runs and not parked and not errors,
             f"{parked_runs} parked in runs, {sum(parked.values())} in the table, {len(errors)} errors")
    sec.goal("429s <= 1% of Wave requests", share_429 <= 0.01, f"{throttled} of {len(log)} = {share_429:.2%}")
    sec.goal(f"throughput >= 0.85 x {ceiling:.2f}/s", rate >= 0.85 * ceiling,
             f"{rate:.2f}/s = {rate / ceiling:.2f} x")
    sec.goal("every order reached Wave", invoices >= deliveries, f"{invoices} invoices of {deliveries} orders")
