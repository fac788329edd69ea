"""8. What it costs a month: measured invocations, durations, DynamoDB request units, webhook
requests, log bytes and custom metrics, priced at AWS's on-demand list prices (a dated table),
for a merchant with 1,000 orders, 200 new customers and 50 product edits a day on the
template's 5-minute schedules, and for an idle month; next to integration platforms' plans.

Measured with the real handlers (functions/<flow>/app.py) against the bench stack: idle cycles
of all six flows, then one hour's share of the day's changes delivered as the webshop's signed
webhooks, then the sweeps that follow. DynamoDB units are counted per request from what went
over the wire (botocore, every client: the layer's pynamodb and Powertools Idempotency):
item sizes by DynamoDB's rules, BatchGetItem per item, transactions double.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import statistics
import threading
import time
from dataclasses import dataclass, field

from .report import Section

# bench.harness (moto, the sandboxes, the bench environment) is imported where it is used, so the
# counting helpers here can be imported by tests without changing their process's environment.

# --------------------------------------------------------------------------------- prices
PRICES_AS_OF = "2026-12-02"
PRICES = {  # AWS list prices, us-east-1, on-demand (no Savings Plans, no free tier)
    "lambda_gb_s_arm64": (0.0000133334, "Lambda arm64 compute, per GB-second"),
    "lambda_request": (0.20 / 1e6, "Lambda requests, per request ($0.20 per million)"),
    "dynamodb_wru": (0.625 / 1e6, "DynamoDB on-demand write request unit ($0.625 per million, after the Nov 2024 cut)"),
    "dynamodb_rru": (0.125 / 1e6, "DynamoDB on-demand read request unit ($0.125 per million)"),
    "dynamodb_storage_gb_month": (0.25, "DynamoDB Standard table storage, per GB-month (first 25 GB free)"),
    "apigw_rest_request": (3.50 / 1e6, "API Gateway REST API requests ($3.50 per million, first 333 M)"),
    "logs_ingest_gb": (0.50, "CloudWatch Logs ingestion (standard class), per GB"),
    "logs_store_gb_month": (0.03, "CloudWatch Logs storage, per GB-month (compressed)"),
    "custom_metric_month": (0.30, "CloudWatch custom metric (first 10,000), per metric-month, prorated by the hour"),
    "alarm_month": (0.10, "CloudWatch standard-resolution alarm, per alarm-month"),
    "dashboard_month": (3.00, "CloudWatch dashboard, per dashboard-month"),
    "xray_trace": (5.00 / 1e6, "X-Ray traces recorded ($5 per million)"),
    "kms_key_month": (1.00, "KMS customer managed key, per key-month"),
}
FREE_TIER = {  # AWS's always-free allowances per account and month (not the 12-month trial)
    "lambda_request": 1_000_000, "lambda_gb_s_arm64": 400_000, "xray_trace": 100_000, "custom_metric_month": 10,
    "alarm_month": 10, "dashboard_month": 3, "logs_ingest_gb": 5, "dynamodb_storage_gb_month": 25,
}
FREE_LINES = ("SSM Parameter Store: standard SecureString parameters and standard-throughput API calls are free; "
              "EventBridge scheduled rules are free; SQS/SNS (failed-sweep queue, alarm topic) stay inside their "
              "free million requests; data transfer out (a few KB per API call) stays inside the 100 GB a month "
              "AWS gives every account.")

# Integration platforms' published list prices, approximate (USD a month, as shown on their pricing
# pages; plans, tiers and units change often: check before quoting).
PLATFORMS_AS_OF = "2026-12-02"
PLATFORMS = [
    ("Zapier Professional, 5,000 tasks/month tier", 89.00, 5_000, "task = one successful action step; "
     "overage at 1.25x the tier's per-task price, capped at 3x the tier"),
    ("Make Core, 10,000 credits/month", 10.59, 10_000, "credit = one module operation (renamed from operations "
     "in Aug 2025); larger credit tiers cost roughly in proportion"),
]

# --------------------------------------------------------------------------------- workload
DAY = {"orders": 1000, "new_customers": 200, "product_edits": 50}
SCHEDULE_MINUTES = 5
HOURS_PER_MONTH = 730  # AWS's month
# What the sandboxes on loopback do not have: real round trips. Lambda bills wall time, so each
# external call's latency is added to the measured duration (assumed, not measured here).
RTT = {"wave": 0.25, "shop": 0.15}  # seconds per request: Wave's public GraphQL, a webshop API
PLATFORM_LOG_BYTES = 350  # START, END and REPORT lines Lambda itself writes per invocation
LOG_EVENT_OVERHEAD = 26  # bytes CloudWatch Logs counts per event on top of the message
COLD_STARTS_PER_FUNCTION_HOUR = 1.0  # assumed: a 5-minute schedule keeps a sandbox warm, recycled ~hourly
INIT_SECONDS = 0.6  # section 6: handler + first-invocation imports ~0.30 s, doubled for the runtime's own start
FLOW_FOR_RESOURCE = {"customers": "customer_to_wave", "products": "product_to_wave", "orders": "order_to_wave"}
FLOWS = ("customer_to_wave", "customer_to_webshop", "product_to_wave", "product_to_webshop", "order_to_wave",
         "invoice_to_webshop")


# --------------------------------------------------------------------------------- DynamoDB units
def attr_size(value: dict) -> int:
    """Bytes of one attribute value by DynamoDB's item-size rules (wire format {"S": ...})."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode("utf-8"))
    if kind == "N":
        digits = v.lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + attr_size(x) for k, x in v.items())
    if kind == "L":
        return 3 + sum(1 + attr_size(x) for x in v)
    if kind == "SS":
        return sum(len(x.encode()) for x in v)
    if kind == "NS":
        return sum(attr_size({"N": x}) for x in v)
    if kind == "BS":
        return sum(len(x) for x in v)
    return 0


def item_size(item: dict | None) -> int:
    return sum(len(k.encode("utf-8")) + attr_size(v) for k, v in (item or {}).items())


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


class DynamoUnits:
    """Request units of every DynamoDB call in this process while installed (all botocore clients)."""

    def __init__(self):
        self.rru = 0.0
        self.wru = 0.0
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        self._original = None

    def __enter__(self):
        from botocore.client import BaseClient

        self._original, counter = BaseClient._make_api_call, self

        def _make_api_call(client, operation, params):
            if client.meta.service_model.service_name != "dynamodb":
                return counter._original(client, operation, params)
            try:
                response = counter._original(client, operation, params)
            except Exception:
                counter.count(operation, params, None)  # a failed condition still consumes its write
                raise
            counter.count(operation, params, response)
            return response

        BaseClient._make_api_call = _make_api_call
        return self

    def __exit__(self, *exc):
        from botocore.client import BaseClient

        BaseClient._make_api_call = self._original

    def snapshot(self) -> tuple[float, float]:
        with self._lock:
            return self.rru, self.wru

    def count(self, op: str, params: dict, response: dict | None) -> None:
        rru = wru = 0.0
        response = response or {}
        if op == "PutItem":
            wru = write_units(item_size(params.get("Item")))
        elif op in ("UpdateItem", "DeleteItem"):
            # The item's size before/after is not on the wire: the key and new values, at least 1 unit.
            wru = write_units(item_size(params.get("Key")) + sum(attr_size(v) for v in
                                                                 (params.get("ExpressionAttributeValues") or {}).values()))
        elif op == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                (kind, body), = entry.items()
                wru += 2 * write_units(item_size(body.get("Item") or body.get("Key")))
        elif op == "GetItem":
            rru = read_units(item_size(response.get("Item")), bool(params.get("ConsistentRead")))
        elif op == "BatchGetItem":
            for table, request in params.get("RequestItems", {}).items():
                consistent = bool(request.get("ConsistentRead"))
                found = response.get("Responses", {}).get(table, [])
                rru += sum(read_units(item_size(i), consistent) for i in found)
                rru += max(0, len(request.get("Keys", [])) - len(found)) * read_units(0, consistent)
        elif op in ("Query", "Scan"):
            rru = read_units(sum(item_size(i) for i in response.get("Items", [])), bool(params.get("ConsistentRead")))
        elif op == "TransactGetItems":
            rru = sum(2 * read_units(item_size(r.get("Item")), True) for r in response.get("Responses", []))
        with self._lock:
            self.rru += rru
            self.wru += wru
            self.calls[op] = self.calls.get(op, 0) + 1


# --------------------------------------------------------------------------------- one invocation
@dataclass
class Run:
    kind: str  # "sweep" | "webhook"
    flow: str
    seconds: float  # measured in this process
    wave_calls: int
    shop_calls: int
    rru: float
    wru: float
    log_bytes: int
    log_events: int
    metrics: set = field(default_factory=set)  # (namespace, name, dimensions)

    @property
    def billed_seconds(self) -> float:
        """What Lambda would bill: measured + real round trips, rounded up to the millisecond."""
        return math.ceil((self.seconds + self.wave_calls * RTT["wave"] + self.shop_calls * RTT["shop"]) * 1000) / 1000


def emf_metrics(line: str) -> set:
    """(namespace, metric, ((dimension, value), ...)) for each metric of one EMF log line."""
    try:
        doc = json.loads(line)
    except ValueError:
        return set()
    found = set()
    for directive in (doc.get("_aws") or {}).get("CloudWatchMetrics", []):
        for dims in directive.get("Dimensions", []):
            key = tuple(sorted((d, str(doc.get(d))) for d in dims))
            for metric in directive.get("Metrics", []):
                found.add((directive.get("Namespace"), metric["Name"], key))
    return found


@contextlib.contextmanager
def captured_logs():
    """Everything an invocation writes to stdout: Powertools' EMF lines (print) and its logger's
    JSON lines (a StreamHandler bound to the real stdout when the logger was made)."""
    import sys

    buffer = io.StringIO()
    swapped = []
    for logger in [logging.getLogger()] + [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stdout, sys.__stdout__):
                swapped.append((handler, handler.setStream(buffer)))
    try:
        with contextlib.redirect_stdout(buffer):
            yield buffer
    finally:
        for handler, stream in swapped:
            handler.setStream(stream)


class Meter:
    def __init__(self, stack, units: DynamoUnits):
        from tests.integration.handlers import Context, load_handler, sample_event

        self.stack, self.units = stack, units
        self.handlers = {flow: load_handler(flow) for flow in FLOWS}
        self.context, self.schedule = Context(), sample_event("schedule.json")

    def invoke(self, kind: str, flow: str, event: dict) -> tuple[Run, dict]:
        wave0, shop0 = len(self.stack.wave.requests), len(self.stack.shop.requests)
        r0, w0 = self.units.snapshot()
        with captured_logs() as out:
            t0 = time.perf_counter()
            result = self.handlers[flow](event, self.context)
            seconds = time.perf_counter() - t0
        r1, w1 = self.units.snapshot()
        lines = [line for line in out.getvalue().splitlines() if line.strip()]
        metrics = set().union(*(emf_metrics(line) for line in lines)) if lines else set()
        run = Run(kind, flow, seconds, len(self.stack.wave.requests) - wave0, len(self.stack.shop.requests) - shop0,
                  r1 - r0, w1 - w0, sum(len(line.encode()) + 1 for line in lines), len(lines), metrics)
        return run, result

    def cycle(self) -> list[Run]:
        runs = []
        for flow in FLOWS:
            run, result = self.invoke("sweep", flow, dict(self.schedule))
            run.read = result.get("read", 0) if isinstance(result, dict) else 0
            runs.append(run)
        return runs

    def deliver(self, resource: str, event: dict) -> Run:
        from tests.integration.handlers import webhook_event

        from .harness import WEBHOOK_SECRET

        flow = FLOW_FOR_RESOURCE[resource]
        api_event = webhook_event(WEBHOOK_SECRET, event["data"]["id"], delivery_id=event["id"],
                                  event_type=event["type"], resource=resource)
        run, result = self.invoke("webhook", flow, api_event)
        if not 200 <= result.get("statusCode", 500) < 300:
            raise RuntimeError(f"delivery {event['type']} {event['data']['id']} answered {result}")
        return run


# --------------------------------------------------------------------------------- template facts
def template_facts() -> dict:
    from devstack.template import load_template

    template = load_template()
    resources = template.get("Resources", {})
    kinds = [r.get("Type") for r in resources.values()]
    memory = ((template.get("Globals") or {}).get("Function") or {}).get("MemorySize", 512)
    retention = [r.get("Properties", {}).get("RetentionInDays") for r in resources.values()
                 if r.get("Type") == "AWS::Logs::LogGroup"]
    return {"memory_gb": float(memory) / 1024, "alarms": kinds.count("AWS::CloudWatch::Alarm"),
            "dashboards": kinds.count("AWS::CloudWatch::Dashboard"), "kms_keys": kinds.count("AWS::KMS::Key"),
            "retention_days": min((int(d) for d in retention if isinstance(d, int)), default=None),
            "access_logs": "AccessLogSetting" in json.dumps(template, default=str),
            "dashboard_metrics": sum(_dashboard_metrics(r) for r in resources.values()
                                     if r.get("Type") == "AWS::CloudWatch::Dashboard")}


def _dashboard_metrics(dashboard: dict) -> int:
    """Metrics a dashboard's metric widgets chart (the free tier's dashboards hold up to 50 each)."""
    import re

    body = (dashboard.get("Properties") or {}).get("DashboardBody")
    text = body.get("Fn::Sub") if isinstance(body, dict) else body
    text = text[0] if isinstance(text, list) else text
    widgets = json.loads(re.sub(r"\$\{([^}]+)\}", r"\1", text or "{}")).get("widgets", [])
    return sum(1 for w in widgets for m in w.get("properties", {}).get("metrics", [])
               if not (isinstance(m[-1], dict) and "expression" in m[-1]))


# --------------------------------------------------------------------------------- the section
def run(sec: Section, quick: bool) -> None:
    from .harness import Stack, shop_customer, shop_order, shop_product

    hours = 1 if quick else 3  # the share of a day's changes measured
    idle_cycles = 3 if quick else 6
    share = {name: max(1, round(n * hours / 24)) for name, n in DAY.items()}
    facts = template_facts()
    shopwave_logger = logging.getLogger("shopwave")
    saved_level = shopwave_logger.level
    with Stack() as stack, DynamoUnits() as units:
        shop = stack.shop
        # Baseline (not counted): a linked catalogue to sell from.
        customers = [shop.create("customers", shop_customer(i, tag="base")) for i in range(40)]
        products = [shop.create("products", shop_product(i, tag="base")) for i in range(20)]
        for i in range(40):
            shop.create("orders", shop_order(i, customers[i % len(customers)], products, lines=2))
        stack.settle()
        shop.take_outbox()
        from shopwave.observability import logger as powertools_logger

        powertools_logger.setLevel("INFO")  # the template's LogLevel default: what a deployment logs
        meter = Meter(stack, units)
        meter.cycle()  # warm-up: first-invocation imports (priced as cold starts below)

        idle = [meter.cycle() for _ in range(idle_cycles)]

        # One hour's (or `hours`') share of the day's changes, made in the shop ---------------
        new_customers = [shop.create("customers", shop_customer(1000 + i, tag="new")) for i in range(share["new_customers"])]
        for i in range(share["product_edits"]):
            p = products[i % len(products)]
            shop.update("products", p["id"], {"price": f"{20 + i}.{i % 100:02d}"})
        buyers = new_customers + customers
        for i in range(share["orders"]):
            shop.create("orders", shop_order(1000 + i, buyers[i % len(buyers)], products, lines=2))
        webhooks, echo_rounds = [], 0
        for _ in range(4):  # the sync's own writes to the shop raise events too; deliver those as well
            events = shop.take_outbox()
            if not events:
                break
            echo_rounds += 1
            webhooks += [meter.deliver(resource, event) for resource, event in events]
        busy = []
        for _ in range(4):  # the sweeps that follow, until a cycle reads nothing
            runs = meter.cycle()
            busy.append(runs)
            if not any(getattr(r, "read", 0) for r in runs):
                break
        parked = stack.parked()
        storage = link_storage(stack)
    shopwave_logger.setLevel(saved_level)

    # ------------------------------------------------------------------------------ per unit
    idle_runs = [r for c in idle for r in c]
    per_idle_cycle = totals(idle_runs, len(idle), facts["memory_gb"])
    busy_runs = [r for c in busy for r in c]
    busy_extra = {k: totals(busy_runs, 1, facts["memory_gb"])[k] - per_idle_cycle[k] * len(busy) for k in per_idle_cycle}
    hook = totals(webhooks, 1, facts["memory_gb"])
    changes = sum(share.values())
    cycles_month = 60 // SCHEDULE_MINUTES * HOURS_PER_MONTH
    months_of_share = HOURS_PER_MONTH / hours  # how many measured shares in a month
    metrics_seen = set().union(*(r.metrics for r in idle_runs + busy_runs + webhooks))
    idle_metrics = set().union(*(r.metrics for r in idle_runs))

    def month(busy_month: bool) -> dict:
        m = {k: per_idle_cycle[k] * cycles_month for k in per_idle_cycle}
        if busy_month:
            for k in m:
                m[k] += (busy_extra[k] + hook[k]) * months_of_share
        m["invocations"] = 6 * cycles_month + (hook["invocations"] * months_of_share if busy_month else 0)
        m["webhooks"] = hook["invocations"] * months_of_share if busy_month else 0
        m["cold_starts"] = 6 * HOURS_PER_MONTH * COLD_STARTS_PER_FUNCTION_HOUR
        m["metrics"] = len(metrics_seen if busy_month else idle_metrics)
        m["storage_gb"] = storage["month_gb"] if busy_month else 0.0
        return m

    months = {"busy": month(True), "idle": month(False)}
    bills = {name: bill(m, facts) for name, m in months.items()}

    # ------------------------------------------------------------------------------ report
    sec.add(f"The workload: {DAY['orders']:,} orders, {DAY['new_customers']} new customers and "
            f"{DAY['product_edits']} product edits a day; all six flows on {SCHEDULE_MINUTES}-minute schedules "
            f"({cycles_month:,} runs of each a month, {HOURS_PER_MONTH} h); every change reaches the sync as the "
            f"webshop's signed webhook as well. Measured with the real handlers (`functions/<flow>/app.py`, "
            f"Powertools logger at INFO as the template's `LogLevel` default, metrics on) against the bench stack, "
            f"after a baseline of 40 customers, 20 products and 40 orders linked (not counted):", "",
            f"1. {len(idle)} idle cycles of the six flows (nothing changed);",
            f"2. {hours} hour's share of the day's changes made in the webshop ({share['orders']} orders, "
            f"{share['new_customers']} of them for new customers, {share['product_edits']} product edits), delivered "
            f"as the {len(webhooks)} webhooks the webshop queued for them (and for any write the sync made back "
            f"to the shop; {echo_rounds} round(s) of deliveries), each through its function's handler as a signed API Gateway event;",
            f"3. the sweeps that follow, {len(busy)} cycle(s), until one reads nothing (they find the records the "
            f"webhooks synced and skip them as echoes).", "",
            f"A month is {cycles_month:,} idle cycles, plus (busy) {months_of_share:g} times the measured share's "
            f"webhooks and the sweeps' work beyond an idle cycle. Lambda bills wall time: each invocation's "
            f"measured duration here (loopback sandboxes, moto) plus an assumed round trip per external call "
            f"(Wave {RTT['wave'] * 1000:.0f} ms, webshop {RTT['shop'] * 1000:.0f} ms), at the template's "
            f"MemorySize ({facts['memory_gb'] * 1024:.0f} MB), plus {COLD_STARTS_PER_FUNCTION_HOUR:g} cold start per "
            f"function and hour (init {INIT_SECONDS} s, billed since Aug 2025). Parked at the end: "
            f"{sum(parked.values())}.", "")
    sec.add("Measured per invocation (mean):", "")
    sec.table(["invocation", "count", "duration here", "billed (with round trips)", "Wave / shop calls",
               "DynamoDB RRU / WRU", "log bytes", "EMF metrics"],
              [row("idle sweep", idle_runs), row("sweep after changes", busy_runs),
               row("webhook delivery", webhooks)])
    sec.add(f"Per change ({changes} changes, {len(webhooks)} deliveries): webhooks {hook['gb_s'] / changes:.3f} GB-s, "
            f"{hook['rru'] / changes:.1f} RRU, {hook['wru'] / changes:.1f} WRU; the sweeps after them "
            f"{busy_extra['rru'] / changes:.1f} RRU and {busy_extra['wru'] / changes:.1f} WRU more than idle cycles. "
            f"DynamoDB calls by operation over the whole section: "
            + ", ".join(f"{op} {n}" for op, n in sorted(units.calls.items())) + ".", "")

    sec.add(f"Prices (us-east-1, on-demand list prices as of {PRICES_AS_OF}; free tiers in the last column only):", "")
    sec.table(["item", "price"], [[desc, f"${price:.10g}"] for price, desc in PRICES.values()])
    sec.add(FREE_LINES, "")
    sec.add("A month:", "")
    rows = []
    for key, label in LINES:
        b, i = bills["busy"][key], bills["idle"][key]
        rows.append([label(months["busy"], facts), f"${b[0]:.2f}", f"${b[1]:.2f}",
                     label(months["idle"], facts), f"${i[0]:.2f}", f"${i[1]:.2f}"])
    total = {name: (sum(v[0] for v in b.values()), sum(v[1] for v in b.values())) for name, b in bills.items()}
    rows.append(["**total**", f"**${total['busy'][0]:.2f}**", f"${total['busy'][1]:.2f}", "**total**",
                 f"**${total['idle'][0]:.2f}**", f"${total['idle'][1]:.2f}"])
    sec.table(["busy month", "list", "with free tier", "idle month", "list", "with free tier"], rows)

    # custom metrics: which, and where the goals need AWS's always-free tier
    from shopwave.observability import ALARM_METRICS

    by_name: dict[str, set] = {}
    for namespace, name, dims in metrics_seen:
        by_name.setdefault(name, set()).add(dims)
    sec.add(f"Custom metrics emitted (EMF lines in the handlers' output; each distinct namespace + name + "
            f"dimension set is one custom metric, charged for every hour it gets a value): {len(metrics_seen)} in "
            f"the busy run, {len(idle_metrics)} in idle cycles alone.", "")
    if by_name:
        sec.table(["metric", "dimension sets", "in idle cycles"],
                  [[name, "; ".join(", ".join(f"{d}={v}" for d, v in dims) for dims in sorted(sets)),
                    sum(1 for m in idle_metrics if m[1] == name)] for name, sets in sorted(by_name.items())])
    alarm_metrics = " and ".join(f"`{name}`" for name in ALARM_METRICS)
    sec.add(f"Per-flow figures (records read, synced, parked, conflicts, API calls, Wave's 429s and seconds) are "
            f"in the one `flow run finished` log line each run writes, which the dashboard's Logs Insights widgets "
            f"read; the only custom metrics are the ones alarms need, {alarm_metrics}, at the service dimension "
            f"only and published only when non-zero (`shopwave/observability.py` says why each candidate is or is "
            f"not one). A quiet month publishes none; each costs $0.30 a month prorated by the hours it gets a "
            f"value, so even a month with a record parked or a sweep failed every hour adds at most "
            f"${len(ALARM_METRICS) * PRICES['custom_metric_month'][0]:.2f}. Before this design every sweep "
            f"published ten counters with a `flow` dimension, zeros included: 60 custom metrics, $18.00 a month "
            f"whether anything changed or not.", "")

    dashboard_metrics = facts["dashboard_metrics"]
    fixed = ("alarms", "dashboards")  # monitoring the template declares: a monthly price, whatever the traffic
    usage = {name: sum(v[0] for k, v in b.items() if k not in fixed) for name, b in bills.items()}
    fixed_list = {name: sum(b[k][0] for k in fixed) for name, b in bills.items()}
    busy_free, idle_free = total["busy"][1], total["idle"][1]
    idle_top = sorted(((v[0], k) for k, v in bills["idle"].items() if k not in fixed), reverse=True)[:3]
    sec.table(["month", "list prices", "of which dashboard and alarms", "usage alone (list)",
               "with AWS's always-free tier"],
              [["busy", f"${total['busy'][0]:.2f}", f"${fixed_list['busy']:.2f}", f"${usage['busy']:.2f}",
                f"${busy_free:.2f}"],
               ["idle", f"${total['idle'][0]:.2f}", f"${fixed_list['idle']:.2f}", f"${usage['idle']:.2f}",
                f"${idle_free:.2f}"]])
    sec.add(f"**The goals need AWS's always-free tier.** At list prices the operator dashboard alone costs "
            f"${PRICES['dashboard_month'][0]:.2f} a month and the {facts['alarms']} alarms "
            f"${facts['alarms'] * PRICES['alarm_month'][0]:.2f}, more than either goal whatever the traffic; the "
            f"always-free tier covers 3 dashboards (up to 50 metrics each), 10 alarms and 10 custom metrics per "
            f"account, and also the X-Ray traces (100,000 a month), Lambda (1 M requests, 400,000 GB-s) and the "
            f"first 5 GB of logs, on an account that does not use them up elsewhere. With it the busy month is "
            f"${busy_free:.2f} and the idle month ${idle_free:.2f}: what remains is DynamoDB's request units (no "
            f"always-free allowance in on-demand mode) and API Gateway's requests (free in an account's first "
            f"year only). The dashboard charts {dashboard_metrics} metrics. Usage alone at list prices is ${usage['busy']:.2f} busy and "
            f"${usage['idle']:.2f} idle; idle's largest lines: "
            + ", ".join(f"{k.replace('_', ' ')} ${v:.2f}" for v, k in idle_top) + ". "
            f"The dashboard's Logs Insights widgets cost $0.005 per GB of logs scanned each time it is viewed: "
            f"a week of this workload's logs is {months['busy']['log_bytes'] / 1e9 * 7 / 30 * 1000:.0f} MB, "
            f"${months['busy']['log_bytes'] / 1e9 * 7 / 30 * 0.005:.4f} a view. "
            f"DynamoDB link storage grows by {storage['month_gb'] * 1000:.1f} MB a month "
            f"({storage['bytes_per_link']:.0f} bytes per link, stored under both ids), "
            f"${storage['month_gb'] * 12 * PRICES['dynamodb_storage_gb_month'][0]:.2f} a month after a year "
            f"(inside the 25 GB free for years).", "")

    # platforms
    tasks_min = sum(DAY.values()) * HOURS_PER_MONTH / 24
    tasks_typical = (DAY["orders"] * 3 + DAY["new_customers"] * 2 + DAY["product_edits"]) * HOURS_PER_MONTH / 24
    sec.add(f"The same work on an integration platform (list prices as published, approximate, as of "
            f"{PLATFORMS_AS_OF}: Zapier's Professional 5,000-task tier as its published tier price, Make's Core "
            f"plan billed monthly; plans and units change often, check before quoting). Tasks a month: at least one per "
            f"record carried one way, {tasks_min:,.0f}; typically {tasks_typical:,.0f} (an order: find the customer, "
            f"find or create the invoice, create it; a customer: find, create; a product edit: update), one way only: "
            f"no payments carried back, no three-way merge, no adoption checks.", "")
    sec.table(["plan (list price, approximate)", "plan price", "units included", f"{tasks_min:,.0f} tasks",
               f"{tasks_typical:,.0f} tasks", "unit"],
              [[name, f"${price:.2f}", f"{units_:,}", f"~${price * tasks_min / units_:,.0f}",
                f"~${price * tasks_typical / units_:,.0f}", note] for name, price, units_, note in PLATFORMS])
    sec.add("Platform figures scale the named tier's price per unit to the task count: rough, since larger tiers "
            "cost less per unit and a real plan is the next tier up. Either way they are tens to hundreds of "
            "times the AWS bill above.", "")

    sec.goal("busy month < $2 (list prices)", total["busy"][0] < 2, f"${total['busy'][0]:.2f}: dashboard and alarms "
             f"${fixed_list['busy']:.2f}, usage ${usage['busy']:.2f}, custom metrics ${bills['busy']['metrics'][0]:.2f}")
    sec.goal("busy month < $2 with AWS's always-free tier", busy_free < 2, f"${busy_free:.2f}")
    sec.goal("idle month < $0.25 (list prices)", total["idle"][0] < 0.25, f"${total['idle'][0]:.2f}: dashboard and "
             f"alarms ${fixed_list['idle']:.2f}, usage ${usage['idle']:.2f}, custom metrics ${bills['idle']['metrics'][0]:.2f}")
    sec.goal("idle month < $0.25 with AWS's always-free tier", idle_free < 0.25, f"${idle_free:.2f}")
    sec.goal("no record parked", not parked, f"{sum(parked.values())} parked")


def totals(runs: list[Run], per: int, memory_gb: float) -> dict:
    per = max(per, 1)
    return {"invocations": len(runs) / per,
            "gb_s": sum(r.billed_seconds for r in runs) * memory_gb / per,
            "rru": sum(r.rru for r in runs) / per, "wru": sum(r.wru for r in runs) / per,
            "log_bytes": sum(r.log_bytes + r.log_events * LOG_EVENT_OVERHEAD + PLATFORM_LOG_BYTES for r in runs) / per}


def row(label: str, runs: list[Run]) -> list:
    if not runs:
        return [label, 0, "", "", "", "", "", ""]
    n = len(runs)
    mean = lambda f: sum(f(r) for r in runs) / n  # noqa: E731
    return [label, n, f"{mean(lambda r: r.seconds) * 1000:.1f} ms", f"{mean(lambda r: r.billed_seconds) * 1000:.0f} ms",
            f"{mean(lambda r: r.wave_calls):.2f} / {mean(lambda r: r.shop_calls):.2f}",
            f"{mean(lambda r: r.rru):.1f} / {mean(lambda r: r.wru):.1f}", f"{mean(lambda r: r.log_bytes):,.0f}",
            f"{mean(lambda r: len(r.metrics)):.1f}"]


def link_storage(stack) -> dict:
    """Bytes per link item in the links table, and the month's growth for the day's new records."""
    import boto3

    client = boto3.client("dynamodb", endpoint_url=stack.env["AWS_ENDPOINT_URL_DYNAMODB"], region_name="us-east-1")
    sizes, start = [], None
    while True:
        page = client.scan(TableName=stack.env["LINKS_TABLE"], **({"ExclusiveStartKey": start} if start else {}))
        sizes += [item_size(i) + 100 for i in page.get("Items", [])]  # +100: DynamoDB's per-item index overhead
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    per_item = statistics.mean(sizes) if sizes else 0
    links_month = (DAY["orders"] + DAY["new_customers"]) * HOURS_PER_MONTH / 24
    return {"bytes_per_link": 2 * per_item, "month_gb": links_month * 2 * per_item / 1e9}


def bill(m: dict, facts: dict) -> dict[str, tuple[float, float]]:
    """(list price, with the always-free tier) per line."""
    p = {k: v[0] for k, v in PRICES.items()}

    def line(key: str, quantity: float) -> tuple[float, float]:
        return quantity * p[key], max(0.0, quantity - FREE_TIER.get(key, 0)) * p[key]

    gb_s = m["gb_s"] + m["cold_starts"] * INIT_SECONDS * facts["memory_gb"]
    logs_gb = m["log_bytes"] / 1e9 + (m["webhooks"] * 400 / 1e9 if facts["access_logs"] else 0)
    retention_months = (facts["retention_days"] or 30) / 30
    return {
        "lambda_requests": line("lambda_request", m["invocations"]),
        "lambda_compute": line("lambda_gb_s_arm64", gb_s),
        "dynamodb_reads": line("dynamodb_rru", m["rru"]),
        "dynamodb_writes": line("dynamodb_wru", m["wru"]),
        "dynamodb_storage": line("dynamodb_storage_gb_month", m["storage_gb"]),
        "apigw": line("apigw_rest_request", m["webhooks"]),
        "logs": tuple(a + b for a, b in zip(line("logs_ingest_gb", logs_gb),
                                            (logs_gb * 0.15 * retention_months * p["logs_store_gb_month"],) * 2)),
        "metrics": line("custom_metric_month", m["metrics"]),
        "alarms": line("alarm_month", facts["alarms"]),
        "dashboards": line("dashboard_month", facts["dashboards"]),
        "kms": line("kms_key_month", facts["kms_keys"]),
        "xray": line("xray_trace", m["invocations"]),
    }


LINES = [
    ("lambda_requests", lambda m, f: f"Lambda requests: {m['invocations']:,.0f}"),
    ("lambda_compute", lambda m, f: f"Lambda compute: {m['gb_s'] + m['cold_starts'] * INIT_SECONDS * f['memory_gb']:,.0f} GB-s "
                                    f"({m['cold_starts']:,.0f} cold starts)"),
    ("dynamodb_reads", lambda m, f: f"DynamoDB reads: {m['rru']:,.0f} RRU"),
    ("dynamodb_writes", lambda m, f: f"DynamoDB writes: {m['wru']:,.0f} WRU"),
    ("dynamodb_storage", lambda m, f: f"DynamoDB storage: +{m['storage_gb'] * 1000:.1f} MB of links"),
    ("apigw", lambda m, f: f"API Gateway REST: {m['webhooks']:,.0f} requests"),
    ("logs", lambda m, f: f"CloudWatch Logs: {m['log_bytes'] / 1e6:,.0f} MB ingested"
                          + (" + access logs" if f["access_logs"] else "")),
    ("metrics", lambda m, f: f"custom metrics: {m['metrics']}"),
    ("alarms", lambda m, f: f"alarms: {f['alarms']}"),
    ("dashboards", lambda m, f: f"dashboards: {f['dashboards']}"),
    ("kms", lambda m, f: f"KMS keys: {f['kms_keys']}"),
    ("xray", lambda m, f: f"X-Ray traces: {m['invocations']:,.0f} (at most: every invocation sampled)"),
]

__all__ = ["run", "PRICES", "DynamoUnits", "item_size", "emf_metrics"]
