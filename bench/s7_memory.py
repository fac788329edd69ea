"""7. Memory: peak RSS of a sweep over many changed records, in a child process (the sandboxes
and moto stay in the parent, so their memory does not count)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from .report import ROOT, Section

LIMIT_MB = 200
CONCURRENCY = "4"


def run_on(stack, sec: Section, quick: bool, count: int) -> None:
    shop = stack.shop
    t0 = time.perf_counter()
    ids = [c["id"] for c in shop.all("customers")][:count]
    for i, record_id in enumerate(ids):
        shop.update("customers", record_id, {"phone": f"+1 289 555 {i % 10000:04d}", "notes": "edited for the sweep"})
    edit_seconds = time.perf_counter() - t0
    env = {**os.environ, "SYNC_CONCURRENCY": CONCURRENCY, "PYTHONPATH": f"{ROOT / 'layers' / 'shopwave'}:{ROOT}"}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench.sweep_child", "customer_to_wave"], capture_output=True,
                          text=True, timeout=3600, env=env, cwd=str(ROOT))
    wall = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(f"sweep child failed: {done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    report = result["report"]
    peak = result["peak_rss_kb"] / 1024
    sec.add(f"{len(ids):,} of the section 2 customers edited directly in the webshop ({edit_seconds:.0f} s), then one "
            f"`customer_to_wave` sweep in a child process (`python -m bench.sweep_child`: the layer only; moto and "
            f"both sandboxes stay in the parent), SYNC_CONCURRENCY={CONCURRENCY}, pages of 100. Peak RSS is the "
            f"child's `VmHWM` (its high-water RSS since it started).", "")
    sec.table(["figure", "value"], [
        ["records read / updated / parked", f"{report['read']:,} / {report['updated']:,} / {report['parked']}"],
        ["sweep wall time", f"{result['seconds']:.0f} s ({wall:.0f} s with the child's start)"],
        ["Wave / webshop calls", f"{result['wave_calls']:,} / {result['webshop_calls']:,}"],
        ["DynamoDB reads / writes", f"{result['dynamodb']['reads']:,} / {result['dynamodb']['writes']:,}"],
        ["botocore clients created during the sweep", f"{result.get('botocore_clients', '?'):,}"],
        ["RSS after imports and the runtime", f"{result['rss_after_imports_kb'] / 1024:.0f} MB"],
        ["RSS at the end", f"{result['rss_end_kb'] / 1024:.0f} MB"],
        ["**peak RSS (VmHWM)**", f"**{peak:.0f} MB** (goal < {LIMIT_MB} MB)"],
        ["the child's `ru_maxrss`, for comparison", f"{result['maxrss_kb'] / 1024:.0f} MB"],
    ])
    sec.add("Why not `ru_maxrss`: on Linux a process keeps, across `exec`, the peak RSS of the image it replaced "
            "(`exec_mmap` folds the old mm's high-water mark into the process's), and a child started with "
            "`subprocess` begins as a copy of its parent, here the benchmark process holding moto's tables and "
            "both sandboxes. Earlier runs reported that figure (477-479 MB) as the sweep's peak; `VmHWM` belongs "
            "to the child's own image. Those runs also found that `StateStore.save_link` built a new botocore "
            "client per link write (~100 ms of CPU each); link writes now reuse one connection (the "
            "botocore clients row).", "")
    sec.goal(f"peak RSS of a sweep over {len(ids):,} changed records < {LIMIT_MB} MB", peak < LIMIT_MB,
             f"{peak:.0f} MB")
    sec.goal("the sweep handled every record", report["updated"] == len(ids) and not report["parked"],
             f"{report['updated']:,} updated of {len(ids):,}, {report['parked']} parked")
