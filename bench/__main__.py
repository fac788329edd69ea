"""`python3 dev.py bench [--quick] [--only 1,3]`: run the benchmark suite and write BENCHMARKS.md.

Sections: 1 write efficiency (and 5 DynamoDB, on the same batch), 2 idle cost, 3 backfill at the
rate limit, 4 one change end to end, 6 cold start and size, 7 memory, 8 what it costs a month,
9 the deployment-wide Wave budget (six flows and a webhook burst at a concurrency cap of 2),
10 the reconciliation pass.
BENCHMARKS.md is rewritten after every section, so a partial run leaves partial results; with
--only, the sections not run keep what BENCHMARKS.md already says.
"""
from __future__ import annotations

import argparse
import sys
import time
import traceback
from datetime import datetime, timezone

from . import harness  # noqa: F401  (sets the environment before anything imports boto3)
from .report import Section, write

TITLES = {
    "1": "Write efficiency", "2": "Idle cost", "3": "Backfill at the rate limit", "4": "One change, end to end",
    "5": "DynamoDB per synced record", "6": "Cold start and size", "7": "Memory", "8": "What it costs a month",
    "9": "The Wave budget: six flows and a webhook burst at a cap of 2",
    "10": "The reconciliation pass",
}
ORDER = ("6", "1", "4", "8", "2", "3", "9", "10")  # fast first: a partial run has the most sections


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 dev.py bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (minutes instead of tens of minutes)")
    parser.add_argument("--only", default="", help="comma-separated sections to run, e.g. 1,4 (5 runs with 1)")
    args = parser.parse_args(argv)
    wanted = set(filter(None, args.only.split(","))) or set(TITLES)
    if "5" in wanted:
        wanted.add("1")
    if "7" in wanted:
        wanted.add("2")  # the memory sweep runs on section 2's data set
    started, t0 = datetime.now(timezone.utc), time.perf_counter()
    sections = {key: Section(key, TITLES[key] + (" (quick)" if args.quick else "")) for key in TITLES}
    shown: list[Section] = []

    def save(finished: bool = False) -> None:
        write(sorted(shown, key=lambda s: int(s.key)), started=started, argv=argv, finished=finished,
              elapsed=time.perf_counter() - t0, keep_others=bool(args.only))

    for key in ORDER:
        if key not in wanted:
            continue
        group = [sections[key]] + ([sections["5"]] if key == "1" else []) + (
            [sections["7"]] if key == "2" and "7" in wanted else [])
        shown.extend(group)
        print(f"[bench] section {key}: {TITLES[key]} ...", flush=True)
        s0 = time.perf_counter()
        try:
            _run(key, group, args.quick)
        except Exception:
            for section in group:
                section.error = traceback.format_exc()
            print(traceback.format_exc(), file=sys.stderr, flush=True)
        for section in group:
            section.seconds = time.perf_counter() - s0
        print(f"[bench] section {key} done in {time.perf_counter() - s0:.1f} s", flush=True)
        save()
    save(finished=True)
    total = time.perf_counter() - t0
    missed = [(s.key, g) for s in shown for g in s.goals if not g.ok] + [(s.key, None) for s in shown if s.error]
    print(f"[bench] wrote BENCHMARKS.md in {total:.0f} s; {len(missed)} goal(s) missed", flush=True)
    for key, goal in missed:
        print(f"  MISSED {key}: " + (f"{goal.name}: {goal.measured}" if goal else "section failed"), flush=True)
    return 0


def _run(key: str, group: list[Section], quick: bool) -> None:
    if key == "1":
        from . import s1_writes
        s1_writes.run(group[0], group[1], quick)
    elif key == "2":
        from . import s2_idle
        s2_idle.run(group[0], group[1] if len(group) > 1 else None, quick)
    elif key == "3":
        from . import s3_backfill
        s3_backfill.run(group[0], quick)
    elif key == "4":
        from . import s4_one_change
        s4_one_change.run(group[0], quick)
    elif key == "6":
        from . import s6_cold_start
        s6_cold_start.run(group[0], quick)
    elif key == "8":
        from . import s8_cost
        s8_cost.run(group[0], quick)
    elif key == "9":
        from . import s9_budget
        s9_budget.run(group[0], quick)
    elif key == "10":
        from . import s10_reconcile
        s10_reconcile.run(group[0], quick)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
