"""2. Idle cost on a large linked data set, against a full-list reader; then 7. memory of a
sweep over changed records of that same data set (in a child process)."""
from __future__ import annotations

import os
import time

import requests

from .harness import FLOW_ORDER, SHOP_KEY, WAVE_TOKEN, Stack, now_iso, shop_customer, shop_order, shop_product
from .report import Section

FULL_PAGE = 200
WAVE_AGE = 900  # seconds: how long before the benchmark Wave's seeded records were last changed


def seed_linked(stack: Stack, customers: int, products: int, orders: int) -> dict[str, float]:
    """Both sides equal and linked, written directly: records through the sandboxes' Python APIs,
    links with the layer's Link/LinkItem (batch writes: 25 items a request)."""
    from shopwave.config import Options
    from shopwave.mapping.context import SyncContext
    from shopwave.flows.customers import CUSTOMER
    from shopwave.flows.orders import ORDER
    from shopwave.flows.products import PRODUCT
    from shopwave.mapping import SHOP, WAVE, state_hash
    from shopwave.wave.side import WaveSide
    from shopwave.webshop.side import ShopSide
    from shopwave.state import Link
    from shopwave.state.models import LinkItem
    from shopwave.state.store import _item_from, link_key

    shop, wave = stack.shop, stack.wave
    stack.runtime  # binds the pynamodb models to this stack's tables
    wave.advance_clock(-WAVE_AGE)  # the Wave data set was last changed a while ago: idle, past the sweep overlap
    options = Options.from_env(os.environ)
    ctx = SyncContext(store=None, catalog=None, options=options)
    timings: dict[str, float] = {}
    links: list[Link] = []

    def pair(entity, shop_record, create):
        state = entity.mapping.canonical(SHOP, shop_record, ctx)
        payload = entity.mapping.payload(WAVE, state, ctx=ctx)
        payload = {k: v for k, v in payload.items() if not k.startswith("@")}
        write = entity.wave.write
        extras = write.create_extras(shop_record["id"], options) if write.create_extras else {}
        wave_record = create({**extras, **payload})
        link = Link(entity=entity.name, shop_id=shop_record["id"], wave_id=wave_record["id"], state=state,
                    state_hash=state_hash(state), shop_seen=ShopSide.stamp(entity, shop_record),
                    wave_seen=WaveSide.stamp(entity, wave_record),
                    extra=entity.link_extra({SHOP: shop_record}) if entity.link_extra else {}, revision=1)
        ctx._remember(link)
        links.append(link)
        return link

    t0 = time.perf_counter()
    shop_customers = [shop.create("customers", shop_customer(i)) for i in range(customers)]
    shop_products = [shop.create("products", shop_product(i)) for i in range(products)]
    shop_orders = [shop.create("orders", shop_order(i, shop_customers[i % customers], shop_products, lines=2, tax=False))
                   for i in range(orders)]
    timings["webshop records"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in shop_customers:
        pair(CUSTOMER, c, wave.store.customer_create)
    for p in shop_products:
        pair(PRODUCT, p, wave.store.product_create)
    for o in shop_orders:
        pair(ORDER, o, wave.store.invoice_create)
    timings["Wave records"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with LinkItem.batch_write() as batch:
        for link in links:
            for side in ("shop", "wave"):
                batch.save(_item_from(link, link_key(link.entity, side, link.id_on(side)), 1))
    timings["links (DynamoDB)"] = time.perf_counter() - t0
    return timings


def set_watermarks_now(stack: Stack) -> str:
    from shopwave.flows import FLOWS
    from shopwave.state import Watermark

    time.sleep(1.2)  # past the webshop pager's 1 s overlap: the seeded records are all "before now"
    store, now = stack.runtime.store, now_iso()
    for flow in FLOWS.values():
        side = stack.runtime.engine.sides[flow.source]
        for partition in side.partitions(flow.entity):
            # read_at: the sweep that got here began now, and Wave's records are older than its
            # overlap (seed_linked sets Wave's clock back), so an idle sweep re-reads nothing
            store.save_watermark(flow.name + (f"#{partition}" if partition else ""), Watermark(ts=now, read_at=now))
    time.sleep(0.01)
    return now


def full_reader_cycle(stack: Stack) -> dict[str, int]:
    """What Sesam's Wave connector does on every cycle: every list in full, pages of 200 (and the
    same for the webshop's lists, following its cursor). Bounded by the totals the lists report."""
    from shopwave.flows.customers import CUSTOMER
    from shopwave.flows.orders import ORDER
    from shopwave.flows.products import PRODUCT

    wave_session, shop_session = requests.Session(), requests.Session()
    calls = {}
    for entity in (CUSTOMER, PRODUCT, ORDER):
        res = entity.wave.read
        document = (f"query Full{entity.wave.type_name}s($businessId: ID!, $page: Int!, $pageSize: Int!) {{ "
                    f"business(id: $businessId) {{ {res.list_field}(page: $page, pageSize: $pageSize) {{ "
                    f"pageInfo {{ currentPage totalPages totalCount }} edges {{ node {{ {res.selection} }} }} }} }} }}")
        page, pages, n = 1, 1, 0
        while page <= pages and n < 10_000:
            body = wave_session.post(stack.wave.url, timeout=60, headers={"Authorization": f"Bearer {WAVE_TOKEN}"},
                                     json={"query": document, "variables": {"businessId": stack.wave.business_id,
                                                                            "page": page, "pageSize": FULL_PAGE}}).json()
            pages = body["data"]["business"][res.list_field]["pageInfo"]["totalPages"] or 1
            page, n = page + 1, n + 1
        calls[f"Wave {res.list_field}"] = n
        cursor, n = None, 0
        while n < 10_000:
            params = {"limit": FULL_PAGE, **({"cursor": cursor} if cursor else {})}
            body = shop_session.get(f"{stack.shop.base_url}/{entity.shop.resource}", params=params, timeout=60,
                                    headers={"Authorization": f"Bearer {SHOP_KEY}"}).json()
            n += 1
            cursor = body.get("next_cursor")
            if not cursor:
                break
        calls[f"webshop {entity.shop.resource}"] = n
    return calls


def run(sec2: Section, sec7: Section | None, quick: bool) -> None:
    customers, products, orders = (2_000, 400, 2_000) if quick else (10_000, 2_000, 10_000)
    with Stack() as stack:
        timings = seed_linked(stack, customers, products, orders)
        mark = set_watermarks_now(stack)

        # shopwave's idle cycle: all six flows once, nothing changed -----------------------------
        per_flow, store = {}, stack.runtime.store
        r0, w0 = store.reads, store.writes
        t0 = time.perf_counter()
        for name in FLOW_ORDER:
            stack.reset_counters()
            report = stack.run(name)
            per_flow[name] = {"wave": stack.wave_ops(), "shop": _shop_lists(stack), "read": report.read,
                              "writes": report.writes, "wave_n": len(stack.wave.requests),
                              "shop_n": len(stack.shop.requests)}
        idle_seconds = time.perf_counter() - t0
        idle_dynamo = (store.reads - r0, store.writes - w0)
        idle_calls = sum(f["wave_n"] + f["shop_n"] for f in per_flow.values())

        # the full reader, same process, same data ----------------------------------------------
        stack.reset_counters()
        t0 = time.perf_counter()
        full = full_reader_cycle(stack)
        full_seconds = time.perf_counter() - t0
        full_calls = len(stack.wave.requests) + len(stack.shop.requests)

        if sec7 is not None:
            from . import s7_memory
            s7_memory.run_on(stack, sec7, quick, customers)

    ratio = full_calls / max(idle_calls, 1)
    sec2.add(f"{customers:,} customers, {products:,} products and {orders:,} orders/invoices (2 lines each), equal on "
             f"both sides and linked. Seeded directly: records through the sandboxes' Python APIs, the Wave side "
             f"from each webshop record's canonical state (`mapping.canonical` then `mapping.payload`), links with "
             f"the layer's `Link` written as `LinkItem`s in batch writes (one `StateStore.save_link` transaction per "
             f"link would take minutes); every flow's watermark (both Wave product partitions) set to now "
             f"({mark}), 1.2 s after the last record so the webshop pager's 1 s overlap re-reads nothing; Wave's clock "
             f"set back {WAVE_AGE // 60} minutes for the seeding, so its records are older than the sweeps' "
             f"{300 // 60}-minute overlap (WAVE_SWEEP_OVERLAP_SECONDS), as an idle business's are. "
             f"Seeding took " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + ".", "",
             "One idle cycle of all six flows:", "")
    rows = []
    ok = True
    for name, f in per_flow.items():
        limit = 2 if name == "product_to_webshop" else 1
        lists = sum(v for k, v in f["wave"].items() if k.startswith("query:List")) + sum(f["shop"].values())
        ok &= lists <= limit and f["wave_n"] + f["shop_n"] == lists
        rows.append([name, f["wave_n"], f["shop_n"], f"{lists} (goal <= {limit})", f["read"], f["writes"]])
    sec2.table(["flow", "Wave calls", "webshop calls", "list calls", "records read", "writes"], rows)
    sec2.add(f"DynamoDB for the idle cycle: {idle_dynamo[0]} reads (watermarks, parked-record queries), "
             f"{idle_dynamo[1]} writes (the per-flow sweep lease, taken and released); {idle_seconds:.2f} s.", "",
             f"A full reader on the same data in the same process (what Sesam's Wave connector does each cycle: every "
             f"Wave list in full, pages of {FULL_PAGE}; the webshop's lists likewise, limit {FULL_PAGE} with its cursor):", "")
    sec2.table(["list", "calls"], [[k, v] for k, v in full.items()] + [["**total**", f"**{full_calls}**"]])
    sec2.table(["figure", "value", "goal"], [
        ["shopwave idle cycle: API calls", idle_calls, "<= 7"],
        ["full reader cycle: API calls", full_calls, ""],
        ["**calls ratio (full / shopwave)**", f"**{ratio:.1f}x**", ">= 18x"],
        ["wall time: shopwave idle cycle / full reader", f"{idle_seconds:.2f} s / {full_seconds:.2f} s", ""],
    ])
    sec2.goal("idle cycle: <= 1 list call per flow (2 for Wave products), nothing else", ok,
              f"{idle_calls} calls in all for six flows")
    sec2.goal("full reader makes >= 18x the calls", ratio >= 18, f"{full_calls} / {idle_calls} = {ratio:.1f}x")


def _shop_lists(stack: Stack) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in list(stack.shop.requests):
        key = f"{r['method']} {r['path'].split('?')[0]}"
        out[key] = out.get(key, 0) + 1
    return out
