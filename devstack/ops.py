"""Operator CLI: what the sync parked or found in conflict, and retrying parked records now.

    python -m devstack.ops parked [--flow customer_to_wave] [--json]
    python -m devstack.ops conflicts [--entity customer] [--json]
    python -m devstack.ops retry FLOW [ID ...] [--json]     # no ID: every record parked in FLOW
    python -m devstack.ops check [--entity order] [--json]  # are both systems in step? (read-only)

Works against whatever the environment points at, like a deployed function: LINKS_TABLE and
STATE_TABLE with AWS credentials (AWS_ENDPOINT_URL_DYNAMODB for a local moto server);
`retry` and `check` also need the function's settings (WAVE_*, WEBSHOP_*, secrets directly or as
*_PARAM names). `check` only reads: webshop GETs, Wave queries and the link table; it exits 1
when it finds anything (records the sync parked are listed as pending, not counted).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from typing import Any, Iterable

from shopwave.flows import FLOWS

TEXT_WIDTH = 40


def _store():
    from shopwave.state import StateStore
    from shopwave.state.models import bind

    missing = [name for name in ("LINKS_TABLE", "STATE_TABLE") if not os.environ.get(name)]
    if missing:
        raise SystemExit(f"ops: set {' and '.join(missing)} (the deployment's table names)")
    bind(os.environ["LINKS_TABLE"], os.environ["STATE_TABLE"])
    return StateStore()


def _entities() -> list[str]:
    return sorted({flow.entity.name for flow in FLOWS.values()})


def _cell(value: Any) -> str:
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", " ")
    return text if len(text) <= TEXT_WIDTH else text[:TEXT_WIDTH - 1] + "…"


def table(rows: list[dict], columns: Iterable[str]) -> str:
    columns = list(columns)
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


# -------------------------------------------------------------------------------- commands
def parked(args) -> tuple[Any, str, int]:
    store = _store()
    rows = [{"flow": p.flow, "id": p.source_id, "attempts": p.attempts, "due": p.due_at, "kind": p.kind,
             "reason": p.reason} for flow in ([args.flow] if args.flow else FLOWS) for p in store.parked(flow)]
    text = table(rows, ("flow", "id", "attempts", "due", "reason")) if rows else "nothing is parked"
    return rows, text, 0


def conflicts(args) -> tuple[Any, str, int]:
    store = _store()
    rows = [{"entity": entity, **conflict} for entity in ([args.entity] if args.entity else _entities())
            for conflict in store.conflicts(entity)]
    text = (table(rows, ("at", "entity", "shop_id", "field", "flow", "winner", "agreed", "shop", "wave"))
            if rows else "no conflicts recorded")
    return rows, text, 0


def retry(args) -> tuple[Any, str, int]:
    from shopwave import runtime

    store = _store()
    ids = args.ids or [p.source_id for p in store.parked(args.flow)]
    if not ids:
        return {"flow": args.flow, "ids": [], "still_parked": []}, f"nothing is parked in {args.flow}", 0
    try:
        engine = runtime.current().engine
    except RuntimeError as exc:  # a setting the functions need is missing
        raise SystemExit(f"ops: {exc}") from None
    report = engine.sync_ids(FLOWS[args.flow], ids)
    still = [asdict(p) for p in (store.parked_one(args.flow, i) for i in ids) if p is not None]
    result = {**report.as_dict(), "ids": ids, "still_parked": still}
    figures = ("read", "created", "updated", "adopted", "filled", "echoes", "conflicts", "parked", "unparked", "skipped")
    text = table([result], figures)
    text += "".join(f"\nfailure: {failure}" for failure in report.failures)
    text += "".join(f"\nstill parked: {p['source_id']} ({p['reason']})" for p in still)
    return result, text, 1 if report.failures or still else 0


def check(args) -> tuple[Any, str, int]:
    from devstack.convergence import check as converge
    from shopwave import runtime

    _store()  # says which table settings are missing, like the other commands
    try:
        rt = runtime.current()
    except RuntimeError as exc:  # a setting the functions need is missing
        raise SystemExit(f"ops: {exc}") from None
    findings = converge(rt, [args.entity] if args.entity else None)
    return findings.as_dict(), findings.summary(), 0 if findings.ok else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    parser = argparse.ArgumentParser(prog="python -m devstack.ops", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("parked", parents=[common], help="list parked records")
    cmd.add_argument("--flow", choices=list(FLOWS))
    cmd.set_defaults(run=parked)
    cmd = commands.add_parser("conflicts", parents=[common], help="list recorded conflicts")
    cmd.add_argument("--entity", choices=_entities())
    cmd.set_defaults(run=conflicts)
    cmd = commands.add_parser("retry", parents=[common], help="sync parked records now")
    cmd.add_argument("flow", choices=list(FLOWS))
    cmd.add_argument("ids", nargs="*", metavar="ID", help="source record ids (default: all parked in FLOW)")
    cmd.set_defaults(run=retry)
    cmd = commands.add_parser("check", parents=[common], help="compare both systems and the links (read-only)")
    cmd.add_argument("--entity", choices=_entities())
    cmd.set_defaults(run=check)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data, text, code = args.run(args)
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str) if args.json else text)
    return code


if __name__ == "__main__":
    sys.exit(main())
