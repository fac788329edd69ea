"""1. Write efficiency, and 5. DynamoDB per synced record (measured on the same batch)."""
from __future__ import annotations

import time

from .harness import Stack, shop_customer, shop_order, shop_product, wave_customer
from .instrument import StoreCounter
from .report import Section


def run(sec1: Section, sec5: Section, quick: bool) -> None:
    scale = 2 if quick else 1
    base_c, base_p, base_o, base_w = 60 // scale, 30 // scale, 40 // scale, 30 // scale
    new_c, edit_c = 50 // scale, 50 // scale
    new_p, edit_p = 15 // scale, 15 // scale
    new_o, edit_o = 25 // scale, 25 // scale
    wave_new_c, wave_edit_c, wave_edit_p, wave_paid = 20 // scale, 20 // scale, 10 // scale, 10 // scale

    with Stack() as stack:
        shop, wave = stack.shop, stack.wave
        customers = [shop.create("customers", shop_customer(i)) for i in range(base_c)]
        products = [shop.create("products", shop_product(i)) for i in range(base_p)]
        orders = [shop.create("orders", shop_order(i, customers[i % base_c], products)) for i in range(base_o)]
        for i in range(base_w):
            wave.create_customer(**wave_customer(i))
        t0 = time.perf_counter()
        baseline_rounds = stack.settle()
        baseline_seconds = time.perf_counter() - t0

        # the batch of changes -----------------------------------------------------------
        stack.reset_counters()
        counter = StoreCounter(stack.runtime.store)
        # every other new record is sparse: optional fields left out, for Wave to fill with its defaults
        # (a created record still costs exactly one write: what the target fills in is not written back)
        new_customers = [shop.create("customers", shop_customer(i, "n") if i % 2 else sparse_customer(i))
                         for i in range(new_c)]
        for c in customers[:edit_c]:
            shop.update("customers", c["id"], {"phone": "+1 647 555 0199", "notes": "edited in the bench"})
        new_products = [shop.create("products", shop_product(i, "n") if i % 2 else sparse_product(i))
                        for i in range(new_p)]
        for p in products[:edit_p]:
            shop.update("products", p["id"], {"price": "99.95", "description": "edited in the bench"})
        pool = products + new_products
        buyers = new_customers + customers
        for i in range(new_o):
            shop.create("orders", shop_order(1000 + i, buyers[i % len(buyers)], pool))
        for o in orders[:edit_o]:
            lines = [{"id": line["id"]} for line in o["lines"]]
            lines[0]["quantity"] = "9"
            shop.update("orders", o["id"], {"note": "edited in the bench", "lines": lines})
        shop_changed = {"customers": new_c + edit_c, "products": new_p + edit_p, "orders": new_o + edit_o}

        linked = {l_.wave_id for l_ in _links(stack, "customer")}
        wave_linked_customers = [c for c in wave.customers() if c["id"] in linked and c.get("displayId")]
        # Wave edits go to records the shop did not edit (no same-field clash in this benchmark).
        edited_shop_ids = {c["id"] for c in customers[:edit_c]}
        untouched = [c for c in wave_linked_customers if c["displayId"] not in edited_shop_ids]
        for i in range(wave_new_c):
            wave.create_customer(**wave_customer(5000 + i))
        for c in untouched[:wave_edit_c]:
            wave.update_customer(c["id"], mobile="+1 905 555 0142")
        product_links = {l_.shop_id: l_.wave_id for l_ in _links(stack, "product")}
        wave_products = products[edit_p:edit_p + wave_edit_p]
        for p in wave_products:
            wave.update_product(product_links[p["id"]], unitPrice="42.5")
        order_links = {l_.shop_id: l_.wave_id for l_ in _links(stack, "order")}
        paid_orders = orders[edit_o:edit_o + wave_paid]
        for o in paid_orders:
            invoice_id = order_links[o["id"]]
            wave.approve_invoice(invoice_id)
            wave.record_payment(invoice_id, wave.get_invoice(invoice_id)["amountDue"]["value"])
        wave_edit_p, wave_paid = len(wave_products), len(paid_orders)
        wave_changed = {"customers": wave_new_c + min(wave_edit_c, len(untouched)), "products": wave_edit_p,
                        "invoices": wave_paid}

        counter.reset()
        t0 = time.perf_counter()
        rounds = stack.settle()
        seconds = time.perf_counter() - t0
        w, s = stack.wave_counts(), stack.shop_counts()
        ops = stack.wave_ops()
        shop_ops = _shop_ops(stack)
        synced = sum(r.created + r.updated + r.adopted + r.deleted for rs in rounds for r in rs)
        read = sum(r.read for rs in rounds for r in rs)
        store_reads, store_writes, by_method = counter.reads(), counter.writes(), counter.by_method()

        # a pass after everything settled --------------------------------------------------
        stack.reset_counters()
        stack.round()
        w_final, s_final = stack.wave_counts(), stack.shop_counts()
        parked = stack.parked()

    n_shop, n_wave = sum(shop_changed.values()), sum(wave_changed.values())
    n_all = n_shop + n_wave
    wave_ratio, shop_ratio = w["writes"] / n_shop, s["writes"] / n_wave
    sec1.add(f"Baseline: {base_c} customers, {base_p} products, {base_o} orders in the shop and {base_w} Wave-only "
             f"customers, settled in {len(baseline_rounds)} rounds ({baseline_seconds:.1f} s); counters reset.", "",
             "Then one batch of changes, made directly in the sandboxes (not counted); every other new customer "
             "and product is sparse (a customer with only an email, a product with only a name and price), so "
             "Wave fills in its defaults (currency) on create:", "")
    sec1.table(["side", "customers", "products", "orders / invoices", "total"],
               [["webshop (new + edited)", f"{new_c} + {edit_c}", f"{new_p} + {edit_p}", f"{new_o} + {edit_o}", n_shop],
                ["Wave (new + edited / paid)", f"{wave_new_c} + {wave_changed['customers'] - wave_new_c}",
                 f"0 + {wave_edit_p}", f"0 + {wave_paid} paid", n_wave]])
    sec1.add(f"New orders reference new and existing customers and products (unlinked ones are synced first, "
             f"as dependencies). Settled in {len(rounds)} rounds of all six flows, {seconds:.1f} s.", "")
    sec1.table(["figure", "value", "goal"], [
        ["Wave writes (mutations)", w["writes"], ""],
        ["**Wave writes per changed webshop record**", f"{w['writes']} / {n_shop} = **{wave_ratio:.2f}**", "1.00"],
        ["webshop writes (POST/PATCH/DELETE)", s["writes"], ""],
        ["**webshop writes per changed Wave record**", f"{s['writes']} / {n_wave} = **{shop_ratio:.2f}**", "1.00"],
        ["Wave reads (queries) per changed record (both sides)", f"{w['reads']} / {n_all} = {w['reads'] / n_all:.2f}", ""],
        ["webshop reads (GET) per changed record (both sides)", f"{s['reads']} / {n_all} = {s['reads'] / n_all:.2f}", ""],
        ["records read by the sweeps (all rounds)", read, ""],
        ["pass after settling: Wave writes / webshop writes", f"{w_final['writes']} / {s_final['writes']}", "0 / 0"],
        ["pass after settling: Wave / webshop calls", f"{w_final['total']} / {s_final['total']}", ""],
        ["parked at the end", sum(parked.values()), "0"],
    ])
    sec1.add("Wave requests by operation:", "")
    sec1.table(["operation", "count"], [[k, v] for k, v in ops.items()])
    sec1.add("Webshop requests by method and resource:", "")
    sec1.table(["request", "count"], [[k, v] for k, v in shop_ops.items()])
    sec1.add("Per round (writes by flow):", "")
    sec1.table(["round"] + [r.flow for r in rounds[0]],
               [[i + 1] + [f"{r.writes}w/{r.read}r" for r in rs] for i, rs in enumerate(rounds)])
    sec1.goal("Wave writes per changed webshop record = 1.00", abs(wave_ratio - 1) < 0.005,
              f"{w['writes']}/{n_shop} = {wave_ratio:.2f}")
    sec1.goal("webshop writes per changed Wave record = 1.00", abs(shop_ratio - 1) < 0.005,
              f"{s['writes']}/{n_wave} = {shop_ratio:.2f}")
    sec1.goal("a pass after settling writes nothing", w_final["writes"] == 0 and s_final["writes"] == 0 and not parked,
              f"{w_final['writes']} Wave + {s_final['writes']} webshop writes, {sum(parked.values())} parked")

    # 5. DynamoDB on the same batch --------------------------------------------------------
    sec5.add(f"The batch of section 1 ({n_all} changed records; {synced} records written on a side: created, "
             f"updated, adopted or deleted). Counted with `StateStore.reads` / `.writes` "
             f"(one per DynamoDB request: a BatchGetItem of up to 100 keys is one read, a link's two-key "
             f"TransactWriteItems is one write).", "")
    sec5.table(["figure", "value"], [
        ["DynamoDB reads", store_reads], ["DynamoDB writes", store_writes],
        ["**reads per synced record**", f"{store_reads} / {synced} = **{store_reads / max(synced, 1):.2f}**"],
        ["**writes per synced record**", f"{store_writes} / {synced} = **{store_writes / max(synced, 1):.2f}**"],
        ["reads per changed record", f"{store_reads / n_all:.2f}"],
        ["writes per changed record", f"{store_writes / n_all:.2f}"],
    ])
    sec5.add("By StateStore method (calls, and DynamoDB requests they made):", "")
    sec5.table(["method", "calls", "DynamoDB reads", "DynamoDB writes"],
               [[k, v["calls"], v["reads"], v["writes"]] for k, v in by_method.items()])
    sec5.add("Per record the engine takes a claim (conditional put) and releases it (conditional delete), "
             "re-reads the link consistently before deciding (`get_link`, one BatchGetItem of one key) and "
             "saves the link (one two-item transaction); per page it looks links up in BatchGetItems of 100 and "
             "saves the watermark once.", "")
    sec5.goal("link look-ups for a page are one BatchGetItem per 100 ids", by_method.get("get_links", {}).get("ok", True),
              "see the method table")


def sparse_customer(i: int) -> dict:
    """A customer with only what a checkout asks for: no name, phone, currency or address."""
    return {"email": f"sparse{i}@bench.example.com"}


def sparse_product(i: int) -> dict:
    return {"name": f"Bench product s{i}", "price": f"{3 + i % 20}.50"}


def _links(stack: Stack, entity: str):
    from shopwave.state.models import LinkItem
    from shopwave.state.store import _link_from

    return [_link_from(item) for item in LinkItem.scan(LinkItem.entity == entity) if "#shop#" in item.pk]


def _shop_ops(stack: Stack) -> dict[str, int]:
    ops: dict[str, int] = {}
    for r in list(stack.shop.requests):
        parts = r["path"].split("?")[0].strip("/").split("/")
        resource = next((p for p in parts if p in ("customers", "products", "orders")), parts[-1])
        key = f"{r['method']} {resource}" + ("/{id}" if parts[-1] != resource else "")
        ops[key] = ops.get(key, 0) + 1
    return dict(sorted(ops.items()))
