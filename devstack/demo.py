"""The demo: the whole stack on this machine, seeded, synced until quiet, edited, synced again.

    python -m devstack.demo [--rounds 8] [--verbose] [--json]
    python -m devstack.demo --serve [--interval 10]     # then keep it running (Ctrl-C or SIGTERM stops)

Exit status 0 only if every run succeeded, nothing was parked, every webhook delivery was
answered 2xx and the last pass wrote nothing.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from devstack import seed
from devstack.localstack import LocalStack

log = logging.getLogger("devstack.demo")
FIGURES = ("read", "created", "updated", "adopted", "filled", "echoes", "conflicts", "parked", "deleted",
           "wave_calls", "webshop_calls")
HEADERS = {"sweeps": "sweep runs", "webhooks": "webhook runs", "echoes": "echoes skipped",
           "wave_calls": "Wave calls", "webshop_calls": "shop calls"}
QUIET_ENV = {"POWERTOOLS_LOG_LEVEL": "ERROR", "LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"}  # the report says the rest


@dataclass
class FlowTotals:
    flow: str
    sweeps: int = 0
    webhooks: int = 0
    figures: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def add(self, report: dict) -> None:
        self.flow = report.get("flow") or self.flow
        self.figures.update({name: int(report.get(name, 0)) for name in FIGURES})
        self.failures += report.get("failures", [])


@dataclass
class Outcome:
    flows: dict[str, FlowTotals] = field(default_factory=dict)  # by function logical id
    deliveries: Counter = field(default_factory=Counter)        # HTTP status (None: unreachable) -> count
    rounds: int = 0
    final_writes: int | None = None
    settled: bool = True
    expected: dict[str, dict] = field(default_factory=dict)      # entity -> what its seed implies
    notes: list[str] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)            # the seeded payments as each side shows them

    def add(self, function_id: str, report: dict, *, webhook: bool = False) -> None:
        totals = self.flows.setdefault(function_id, FlowTotals(function_id))
        totals.add(report)
        if webhook:
            totals.webhooks += 1
        else:
            totals.sweeps += 1

    def problems(self) -> list[str]:
        found = [f"{t.flow}: {failure}" for t in self.flows.values() for failure in t.failures]
        found += [f"{t.flow}: {t.figures['parked']} record(s) parked" for t in self.flows.values() if t.figures["parked"]]
        found += [f"{n} webhook deliveries answered {status or 'nothing (unreachable or timed out)'}"
                  for status, n in self.deliveries.items() if status is None or not 200 <= status < 300]
        if not self.settled:
            found.append(f"did not settle: the last pass still wrote {self.final_writes} record(s)")
        return found

    def as_dict(self) -> dict:
        return {"flows": {fid: {"flow": t.flow, "sweeps": t.sweeps, "webhooks": t.webhooks, **t.figures,
                                "failures": t.failures} for fid, t in self.flows.items()},
                "webhook_deliveries": {str(status): n for status, n in self.deliveries.items()},
                "rounds": self.rounds, "final_writes": self.final_writes, "settled": self.settled,
                "payments": self.payments,
                "expected": self.expected, "problems": self.problems()}


# ---------------------------------------------------------------------------------- running
def settle(stack: LocalStack, outcome: Outcome, max_rounds: int) -> None:
    """Run every scheduled function once per round until a whole round writes nothing."""
    for _ in range(max_rounds):
        outcome.rounds += 1
        reports = [(fid, run_once(stack, fid)) for fid in stack.flow_functions()]
        for fid, report in reports:
            outcome.add(fid, report)
        outcome.final_writes = sum(report["writes"] for _, report in reports)
        if outcome.final_writes == 0:
            return
    outcome.settled = False


def run_once(stack: LocalStack, function_id: str) -> dict:
    """One scheduled run; a handler that raises is reported as a failure (a failed invocation)."""
    try:
        return stack.run(function_id)
    except Exception as exc:  # noqa: BLE001 - the demo reports it and exits non-zero
        log.exception("%s failed", function_id)
        return {"writes": 0, "failures": [f"invocation failed: {type(exc).__name__}: {exc}"]}


def deliver_webhooks(stack: LocalStack, outcome: Outcome) -> None:
    """The webshop sandbox posts its pending events to the gateway's HTTP routes."""
    stack.gateway.http_results.clear()
    for _event, status in stack.sandboxes.shop.deliver_webhooks():
        outcome.deliveries[status] += 1
    for fid, response in list(stack.gateway.http_results):
        body = _json_body(response)
        if body and "writes" in body:
            outcome.add(fid, body, webhook=True)
    stack.gateway.http_results.clear()


def _json_body(response) -> dict | None:
    try:
        return json.loads(response.get("body") or "null") if isinstance(response, dict) else None
    except ValueError:
        return None


def run_demo(stack: LocalStack, max_rounds: int, *, seed_real_wave: bool = False) -> Outcome:
    """Seed (sandbox webshop only; a real Wave only when asked), settle, edit, deliver, settle."""
    outcome = Outcome()
    shop, wave = stack.sandboxes.shop, stack.sandboxes.wave
    seeding = shop is not None and (wave is not None or seed_real_wave)
    if seeding:
        outcome.expected = seed.seed_all(shop, wave)
    else:
        outcome.notes.append("nothing seeded: " + ("the webshop is a real one" if shop is None else
                                                   "Wave is a real business (--seed-real-wave seeds it)"))
    settle(stack, outcome, max_rounds)
    if seeding and outcome.settled:
        for entity, expected in seed.edit_all(shop, wave).items():
            outcome.expected[entity].update(expected)
        deliver_webhooks(stack, outcome)
        settle(stack, outcome, max_rounds)
        if wave is not None:
            outcome.payments = seed.payments_shown(shop, wave)
    return outcome


# ---------------------------------------------------------------------------------- report
def render(outcome: Outcome) -> str:
    """A fixed-width table, one row per flow (sums over every run), then the verdict."""
    columns = ["sweeps", "webhooks", *FIGURES]
    titles = [HEADERS.get(c, c).split(" ", 1) + [""] for c in columns]  # two header lines
    widths = [max(len(top), len(bottom), 4) for top, bottom, *_ in titles]
    rows = [[t.flow, t.sweeps, t.webhooks, *(t.figures[f] for f in FIGURES)] for t in outcome.flows.values()]
    rows.append(["total", *(sum(row[i] for row in rows) for i in range(1, len(columns) + 1))])
    name_width = max(len(str(row[0])) for row in rows + [["flow"]])

    def line(cells) -> str:
        return "  ".join([str(cells[0]).ljust(name_width)] + [str(c).rjust(w) for c, w in zip(cells[1:], widths)]).rstrip()

    rule = "-" * len(line(["", *(top for top, *_ in titles)]))
    out = [line(["", *(top for top, *_ in titles)]), line(["flow", *(bottom for _, bottom, *_ in titles)]), rule,
           *map(line, rows[:-1]), rule, line(rows[-1]), ""]
    statuses = ", ".join(f"{n} x {status or 'no answer'}" for status, n in sorted(outcome.deliveries.items(), key=str))
    out.append(f"webhook deliveries : {sum(outcome.deliveries.values())} ({statuses or 'none'})")
    out.append(f"rounds run         : {outcome.rounds}")
    out.append(f"final pass writes  : {outcome.final_writes}")
    out += [f"payment            : {line}" for line in outcome.payments]
    out += [f"note               : {note}" for note in outcome.notes]
    problems = outcome.problems()
    out.append("result             : " + ("OK" if not problems else "FAILED"))
    out += [f"  - {problem}" for problem in problems]
    return "\n".join(out)


# ---------------------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="most passes per settle (default 8)")
    parser.add_argument("--serve", action="store_true", help="keep the stack running after the demo")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between scheduled runs with --serve")
    parser.add_argument("--data-dir", default=".devstack", help="where the webshop sandbox keeps its SQLite file")
    parser.add_argument("--seed-real-wave", action="store_true",
                        help="with a real Wave (WAVE_* set) and the webshop sandbox, sync the sample customers into it")
    parser.add_argument("--verbose", action="store_true", help="show the handlers' INFO logs and metrics")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # Powertools warns about metrics the local stack does not publish
        warnings.filterwarnings("ignore", category=UserWarning, module="aws_lambda_powertools")
    with LocalStack(data_dir=args.data_dir, extra_env=None if args.verbose else QUIET_ENV) as stack:
        # With --json, stdout carries the report alone: the handlers' JSON logs go to stderr.
        with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
            outcome = run_demo(stack, args.rounds, seed_real_wave=args.seed_real_wave)
        print(json.dumps(outcome.as_dict(), indent=2) if args.json else render(outcome), flush=True)
        if args.serve:
            serve(stack, args.interval)
    return 1 if outcome.problems() else 0


def serve_instructions(stack: LocalStack, interval: float) -> str:
    """URLs, sandbox credentials (local values only; a real token or key is never shown), how to edit."""
    wave, shop, env = stack.sandboxes.wave, stack.sandboxes.shop, stack.env
    out = ["", f"The local stack is running; schedules fire every {interval:g} s. Ctrl-C stops it.",
           f"  gateway          {stack.url}"]
    out += [f"    POST {url}" for url in stack.webhook_urls().values()]
    if shop:
        out.append(f"  webshop sandbox  {shop.base_url}  (API key {shop.api_key}, webhook secret {shop.webhook_secret};"
                   " webhooks are delivered as records change)")
    else:
        out.append(f"  webshop          {env['WEBSHOP_API_URL']}  (real; key not shown; point its webhooks at the routes above)")
    if wave:
        out.append(f"  Wave sandbox     {wave.url}  (token {wave.token}, business {wave.business_id})")
    else:
        out.append(f"  Wave             {env['WAVE_API_URL']}  (real; token not shown)")
    out.append(f"  DynamoDB (moto)  {env['AWS_ENDPOINT_URL_DYNAMODB']}")
    if shop:
        auth = f"-H 'Authorization: Bearer {shop.api_key}'"
        first = next((c["id"] for c in shop.all("customers")), "c_1001")
        json_type = "-H 'Content-Type: application/json'"
        out += ["", "Edit records in the webshop sandbox, then watch them reach Wave:",
                f"  curl -s {auth} {shop.base_url}/customers",
                f"  curl -s -X PATCH {auth} {json_type} -d '{{\"phone\": \"+1 416 555 0000\"}}' {shop.base_url}/customers/{first}",
                f"  curl -s -X POST {auth} {json_type} -d '{{\"email\": \"ines@example.com\", \"first_name\": \"Inês\"}}'"
                f" {shop.base_url}/customers"]
    if wave:
        query = '{"query": "{ business { customers { edges { node { id name email phone } } } } }"}'
        out += ["And read Wave's side:",
                f"  curl -s -H 'Authorization: Bearer {wave.token}' -H 'Content-Type: application/json' -d '{query}' {wave.url}"]
    tables = " ".join(f"{name}={env[name]}" for name in ("LINKS_TABLE", "STATE_TABLE") if name in env)
    out += ["", "Operator CLI against this stack's tables:",
            "  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1 \\",
            f"  AWS_ENDPOINT_URL_DYNAMODB={env['AWS_ENDPOINT_URL_DYNAMODB']} {tables} python3 dev.py ops parked"]
    return "\n".join(out)


def _value(report: Any, name: str, default: Any = None) -> Any:
    """A report's figure, whether the report is the engine's Report or its as_dict()."""
    if isinstance(report, dict):
        return report.get(name, default)
    return getattr(report, name, default)


def change_lines(report: Any, *, via: str = "") -> list[str]:
    """One line per record a flow run wrote, from `report.changes` ({source_id, target_id,
    action, fields}), e.g. `customer_to_wave c_1001 -> QnVz...: updated email, phone`. A report
    without `changes` (a layer from before them) gets one summary line if the run wrote anything.
    Parked records, conflicts and failures get a line each way."""
    flow = _value(report, "flow") or "?"
    suffix = f" ({via})" if via else ""
    lines = []
    changes = _value(report, "changes", None) or []
    for change in changes:
        get = change.get if isinstance(change, dict) else (lambda name, c=change: getattr(c, name, None))
        fields = ", ".join(str(f) for f in (get("fields") or []))
        lines.append(f"{flow} {get('source_id') or '?'} -> {get('target_id') or '?'}: {get('action') or 'written'}"
                     + (f" {fields}" if fields else "") + suffix)
    figures = {name: int(_value(report, name, 0) or 0) for name in ("created", "updated", "adopted", "filled", "deleted")}
    if not changes and any(figures.values()):
        lines.append(f"{flow}: " + ", ".join(f"{name} {n}" for name, n in figures.items() if n) + suffix)
    for name in ("parked", "conflicts"):
        if int(_value(report, name, 0) or 0):
            lines.append(f"{flow}: {name} {_value(report, name)} (python3 dev.py ops {name})" + suffix)
    lines += [f"{flow}: FAILED {failure}{suffix}" for failure in _value(report, "failures", None) or []]
    return lines


def result_lines(event: dict, result: Any) -> list[str]:
    """What one invocation's answer shows: a sweep returns the report, a webhook a proxy
    response whose JSON body carries it (or says why the delivery was refused)."""
    if not (isinstance(event, dict) and "httpMethod" in event):
        return change_lines(result) if isinstance(result, dict) else []
    body = _json_body(result) or {}
    status = result.get("statusCode") if isinstance(result, dict) else None
    if "flow" in body:
        return change_lines(body, via="webhook")
    if status is not None and not 200 <= int(status) < 300:
        return [f"webhook {event.get('path')}: answered {status} {body.get('error') or ''}".rstrip()]
    return []


class ChangePrinter:
    """The gateway's on_result for `serve`: a timestamped line per synced record, as it happens."""

    def __init__(self, out=None):
        self.out = out
        self._lock = threading.Lock()

    def __call__(self, logical_id: str, event: dict, result: Any) -> None:
        lines = result_lines(event, result)
        if not lines:
            return
        stamp = time.strftime("%H:%M:%S")
        with self._lock:
            out = self.out or sys.stdout
            for line in lines:
                print(f"{stamp} {line}", file=out, flush=True)


def _stop_on_sigterm() -> None:
    """SIGTERM (and SIGHUP) stop `serve` the way Ctrl-C does, so the stack shuts down cleanly."""
    def stop(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


def serve(stack: LocalStack, interval: float) -> None:
    if threading.current_thread() is threading.main_thread():
        _stop_on_sigterm()
    stack.gateway.on_result = ChangePrinter()
    stack.start_background(interval)
    print(serve_instructions(stack, interval), flush=True)
    print("\nSynced records appear below as they change (flow source id -> target id: action fields).", flush=True)
    try:
        while True:
            # Short sleeps: a signal the kernel hands to another thread (the stack has many) only
            # sets a flag that the main thread acts on when it next runs Python code.
            time.sleep(0.2)
    except KeyboardInterrupt:
        # Ctrl-C in a terminal reaches dev.py and this process both, and dev.py passes it on
        # too: a second signal must not cut the stack's shutdown short.
        if threading.current_thread() is threading.main_thread():
            for name in ("SIGINT", "SIGTERM", "SIGHUP"):
                if hasattr(signal, name):
                    signal.signal(getattr(signal, name), signal.SIG_IGN)
        print("\nstopping the local stack", flush=True)


if __name__ == "__main__":
    sys.exit(main())
