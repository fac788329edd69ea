"""10. The reconciliation pass on section 2's linked data set: its Wave calls (pages of 200) and
writes when nothing was missed; then a few payments Wave recorded without moving the invoices'
modifiedAt, which the incremental sweep misses and the pass catches."""
from __future__ import annotations

import time
from decimal import Decimal

from .harness import Stack
from .report import Section
from .s2_idle import seed_linked, set_watermarks_now

RECONCILING = ("customer_to_webshop", "product_to_webshop", "invoice_to_webshop")
PAYMENTS = 5


def run(sec: Section, quick: bool) -> None:
    from shopwave.engine import SweepMode
    from shopwave.flows import FLOWS

    customers, products, orders = (2_000, 400, 2_000) if quick else (10_000, 2_000, 10_000)
    with Stack() as stack:
        timings = seed_linked(stack, customers, products, orders)
        set_watermarks_now(stack)
        engine, store = stack.runtime.engine, stack.runtime.store

        def reconcile_all() -> dict[str, dict]:
            figures = {}
            for name in RECONCILING:
                stack.reset_counters()
                r0, w0 = store.reads, store.writes
                t0 = time.perf_counter()
                report = engine.sweep(FLOWS[name], mode=SweepMode.RECONCILE)
                figures[name] = {"report": report, "seconds": time.perf_counter() - t0, "wave": stack.wave_counts(),
                                 "ops": stack.wave_ops(), "shop": stack.shop_counts(),
                                 "dynamo": (store.reads - r0, store.writes - w0)}
            return figures

        clean = reconcile_all()

        # a few payments Wave records without moving modifiedAt; the incremental sweep misses them
        stack.wave.play_undocumented(payments_bump_modified_at=False)
        invoices = sorted(stack.wave.store.invoices_by_id.values(), key=lambda r: r["id"])[:PAYMENTS]
        for invoice in invoices:
            stack.wave.record_payment(invoice["id"], str(Decimal(invoice["amountDue"]["value"]) / 2))
        stack.reset_counters()
        swept = stack.run("invoice_to_webshop")
        swept_writes = stack.shop_counts()["writes"]
        caught = reconcile_all()

    total = {k: sum(f["wave"][k] for f in clean.values()) for k in ("reads", "writes")}
    writes = sum(f["report"].writes + f["shop"]["writes"] + f["wave"]["writes"] for f in clean.values())
    sec.add(f"Section 2's data set: {customers:,} customers, {products:,} products and {orders:,} invoices (2 lines "
            f"each), equal on both sides and linked, seeded the same way (" +
            ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + "); every watermark at now. One reconciliation "
            f"pass of each flow that reads Wave (`engine.sweep(flow, mode=SweepMode.RECONCILE)`, what the "
            f"`Reconcile` schedule runs), pages of `RECONCILE_PAGE_SIZE` = 200 (the most Wave allows), SYNC_CONCURRENCY=1:", "")
    rows = []
    for name, f in clean.items():
        report = f["report"]
        pages = sum(v for k, v in f["ops"].items() if k.startswith("query:List"))
        rows.append([name, report.read, f["wave"]["reads"], pages, report.echoes, report.writes + f["shop"]["writes"],
                     report.reconciled, f"{f['dynamo'][0]} / {f['dynamo'][1]}", f"{f['seconds']:.1f} s"])
    sec.table(["flow", "records read", "Wave calls", "of them list pages", "hash-skipped", "writes", "reconciled",
               "DynamoDB reads / writes", "wall time"], rows)
    expected_pages = -(-customers // 200) + -(-products // 200) + 1 + -(-orders // 200)
    sec.add(f"Wave calls in all: {total['reads']}, for {expected_pages} pages of 200 (ceil(records / 200) per list, "
            f"the empty archived-products list, and an empty page after a list that ends exactly at 200). The rest "
            f"are the exact pager's boundary re-reads: each page asks again after its last `modifiedAt` less 1 ms, so "
            f"records sharing that millisecond (the seeding writes about one a millisecond) come again and are "
            f"skipped as already read. Writes to either system: {writes}. "
            f"DynamoDB writes are the pass's lease (taken and released) and its progress, saved after each page so a "
            f"pass cut short goes on next time.", "",
            f"Then Wave recorded {PAYMENTS} payments without moving the invoices' `modifiedAt` (the sandbox's "
            f"`play_undocumented(payments_bump_modified_at=False)`): the incremental `invoice_to_webshop` sweep read "
            f"{swept.read} records and wrote {swept_writes}; the next pass:", "")
    sec.table(["flow", "records read", "Wave calls", "reconciled", "webshop writes", "Wave writes"],
              [[name, f["report"].read, f["wave"]["reads"], f["report"].reconciled, f["shop"]["writes"],
                f["wave"]["writes"]] for name, f in caught.items()])
    found = sum(f["report"].reconciled for f in caught.values())
    sec.goal("reconciliation pass of the linked data set: pages of 200 (Wave calls within 5% of records / 200), 0 writes",
             writes == 0 and total["reads"] <= expected_pages * 1.05,
             f"{total['reads']} Wave calls for {expected_pages} pages of 200, {writes} writes")
    sec.goal(f"the pass catches the {PAYMENTS} payments the incremental sweep missed", found == PAYMENTS and swept_writes == 0,
             f"incremental sweep: {swept_writes} writes; pass: {found} reconciled, "
             f"{sum(f['shop']['writes'] for f in caught.values())} webshop writes, "
             f"{sum(f['wave']['writes'] for f in caught.values())} Wave writes")
