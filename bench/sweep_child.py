"""Child process of the memory benchmark: one sweep of one flow with the layer only (no
sandboxes, no moto: those run in the parent), then its peak RSS as JSON on stdout.

    python -m bench.sweep_child <flow>    (environment: the stack's, from the parent)
"""
from __future__ import annotations

import json
import logging
import resource
import sys
import time


def status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


def rss_kb() -> int:
    return status_kb("VmRSS")


def main(flow_name: str) -> int:
    logging.getLogger("shopwave").setLevel(logging.ERROR)
    import botocore.session

    created = {"clients": 0}
    original = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):  # counted: each costs ~50-100 ms of CPU
        created["clients"] += 1
        return original(self, *args, **kwargs)

    botocore.session.Session.create_client = create_client
    from shopwave import runtime
    from shopwave.flows import FLOWS

    rt = runtime.current()
    baseline = rss_kb()
    t0 = time.perf_counter()
    report = rt.engine.sweep(FLOWS[flow_name])
    seconds = time.perf_counter() - t0
    print(json.dumps({"report": report.as_dict() | {"failures": report.failures[:5]}, "seconds": seconds,
                      "rss_after_imports_kb": baseline, "rss_end_kb": rss_kb(),
                      # VmHWM: this process image's peak. ru_maxrss also keeps the peak of the
                      # image before exec, i.e. the forking parent's RSS (Linux exec_mmap).
                      "peak_rss_kb": status_kb("VmHWM"),
                      "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "wave_calls": rt.wave.calls.total, "webshop_calls": rt.webshop.calls.total,
                      "dynamodb": {"reads": rt.store.reads, "writes": rt.store.writes},
                      "botocore_clients": created["clients"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
