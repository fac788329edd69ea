"""`python3 dev.py serve`: a signal to dev.py stops the whole stack (its child, moto's server, both
sandboxes, the gateway) within a bound; and what serve prints for each synced record."""
from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from devstack.demo import ChangePrinter, change_lines, result_lines

ROOT = Path(__file__).resolve().parents[1]
REAL_SYSTEM_ENV = ("WAVE_API_URL", "WAVE_TOKEN", "WAVE_BUSINESS_ID", "WEBSHOP_API_URL", "WEBSHOP_API_KEY",
                   "WEBHOOK_SECRET", "LINKS_TABLE", "STATE_TABLE", "IDEMPOTENCY_TABLE", "AWS_ENDPOINT_URL_DYNAMODB")
STARTUP_SECONDS = 180  # the demo runs first (seed, settle, edit, settle) on a shared 2-core machine
STOP_SECONDS = 20


# ----------------------------------------------------------------------------- the process tree
def descendants(pid: int) -> set[int]:
    """Every process below `pid` (Linux /proc: each task's `children`)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for kid in map(int, kids):
                if kid not in found:
                    found.add(kid)
                    todo.append(kid)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has stopped; only its parent's wait is missing


def listening_ports(pids: set[int]) -> set[int]:
    """TCP ports in LISTEN state whose socket one of `pids` holds open."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.mark.parametrize("signum, group", [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGINT, True)],
                         ids=["SIGTERM", "SIGINT", "Ctrl-C to the process group"])
def test_given_dev_py_serve_running_when_dev_py_gets_a_signal_then_the_stack_and_its_ports_are_gone(tmp_path, signum,
                                                                                                  group):
    env = {k: v for k, v in os.environ.items() if k not in REAL_SYSTEM_ENV}
    # As a user starts it: `python3 dev.py serve`, dev.py then starts .venv's python as its child.
    # A new session, so the signal reaches dev.py alone (not a terminal's whole process group).
    proc = subprocess.Popen([sys.executable, "dev.py", "serve", "--interval", "2", "--data-dir", str(tmp_path)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        assert wait_for(lambda: any("The local stack is running" in line for line in output)
                        or proc.poll() is not None, STARTUP_SECONDS), "".join(output)[-3000:]
        assert proc.poll() is None, "".join(output)[-3000:]
        tree = descendants(proc.pid)
        assert tree, "dev.py started no child"
        ports = listening_ports(tree | {proc.pid})
        shown = {int(p) for p in re.findall(r"http://127\.0\.0\.1:(\d+)", "".join(output))}
        # The gateway, both sandboxes and moto's DynamoDB server listen, and serve printed them.
        assert len(ports) >= 4 and shown <= ports, (ports, shown)
        assert all(accepts(port) for port in ports)

        started = time.monotonic()
        if group:  # as a terminal's Ctrl-C: dev.py and its child both get it (and dev.py passes it on)
            os.killpg(proc.pid, signum)
        else:  # dev.py only, as `kill` or a service manager would
            os.kill(proc.pid, signum)
        assert wait_for(lambda: proc.poll() is not None, STOP_SECONDS), "dev.py did not exit: " + "".join(output)[-3000:]
        assert wait_for(lambda: not any(alive(pid) for pid in tree), STOP_SECONDS), \
            f"left running: {[pid for pid in tree if alive(pid)]}"
        assert wait_for(lambda: not any(accepts(port) for port in ports), 5), \
            f"still listening: {[port for port in ports if accepts(port)]}"
        took = time.monotonic() - started
        reader.join(timeout=5)
        assert "stopping the local stack" in "".join(output), "".join(output)[-2000:]  # the child's clean stop
        assert took < STOP_SECONDS
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # our own session only
            proc.wait(timeout=10)


# ----------------------------------------------------------------------------- what serve prints
CHANGES = [
    {"source_id": "c_1001", "target_id": "QnVzaW5lc3M6Q3VzdDox", "action": "updated", "fields": ["email", "phone"]},
    {"source_id": "c_1002", "target_id": "QnVzaW5lc3M6Q3VzdDoy", "action": "created",
     "fields": ["name", "email"]},
]


def test_given_a_report_with_changes_then_one_line_per_change_names_flow_ids_action_and_fields():
    report = SimpleNamespace(flow="customer_to_wave", changes=CHANGES, created=1, updated=1, parked=0,
                             conflicts=0, failures=[])
    assert change_lines(report) == [
        "customer_to_wave c_1001 -> QnVzaW5lc3M6Q3VzdDox: updated email, phone",
        "customer_to_wave c_1002 -> QnVzaW5lc3M6Q3VzdDoy: created name, email",
    ]


def test_given_the_report_as_a_dict_then_the_same_lines_and_parked_conflicts_failures_too():
    report = {"flow": "invoice_to_webshop", "changes": [{"source_id": "SW52OjE=", "target_id": "o_7",
                                                         "action": "updated", "fields": ["payment"]}],
              "updated": 1, "parked": 2, "conflicts": 1, "failures": ["Wave is down"]}
    assert change_lines(report) == [
        "invoice_to_webshop SW52OjE= -> o_7: updated payment",
        "invoice_to_webshop: parked 2 (python3 dev.py ops parked)",
        "invoice_to_webshop: conflicts 1 (python3 dev.py ops conflicts)",
        "invoice_to_webshop: FAILED Wave is down",
    ]


def test_given_a_report_without_changes_then_a_summary_line_only_if_it_wrote_anything():
    # A layer from before Report.changes: serve still says what a run wrote.
    old = SimpleNamespace(flow="product_to_wave", created=2, updated=1, adopted=0, filled=0, deleted=0)
    assert change_lines(old) == ["product_to_wave: created 2, updated 1"]
    assert change_lines({"flow": "product_to_wave", "created": 0, "updated": 0, "changes": []}) == []
    assert change_lines({"flow": "order_to_wave", "updated": 0, "changes": [{"source_id": "o_1", "target_id": None,
                                                                             "action": "deleted", "fields": []}]}) \
        == ["order_to_wave o_1 -> ?: deleted"]


def test_given_invocations_then_sweeps_and_webhooks_print_their_changes_and_refusals_a_line():
    import json

    sweep = {"flow": "customer_to_wave", "changes": CHANGES[:1], "updated": 1}
    assert result_lines({"id": "sched", "detail-type": "Scheduled Event"}, sweep) == [
        "customer_to_wave c_1001 -> QnVzaW5lc3M6Q3VzdDox: updated email, phone"]
    synced = {"statusCode": 200, "body": json.dumps({"status": "synced", "delivery": "dlv_1", **sweep})}
    assert result_lines({"httpMethod": "POST", "path": "/webhooks/customers"}, synced) == [
        "customer_to_wave c_1001 -> QnVzaW5lc3M6Q3VzdDox: updated email, phone (webhook)"]
    refused = {"statusCode": 401, "body": json.dumps({"error": "bad signature"})}
    assert result_lines({"httpMethod": "POST", "path": "/webhooks/customers"}, refused) == [
        "webhook /webhooks/customers: answered 401 bad signature"]
    quiet = {"flow": "customer_to_wave", "changes": [], "read": 0}
    assert result_lines({"id": "sched"}, quiet) == []

    out = io.StringIO()
    ChangePrinter(out)("CustomerToWaveFunction", {"id": "sched"}, sweep)
    ChangePrinter(out)("CustomerToWaveFunction", {"id": "sched"}, quiet)
    assert re.fullmatch(r"\d\d:\d\d:\d\d customer_to_wave c_1001 -> QnVzaW5lc3M6Q3VzdDox: updated email, phone\n",
                        out.getvalue())


def test_given_the_gateway_when_a_function_returns_then_on_result_sees_it_and_its_errors_stay_out():
    from devstack.gateway import LocalGateway
    from devstack.template import load_template

    gateway = LocalGateway(load_template())
    seen = []
    logical_id = next(iter(gateway.specs))
    gateway._handlers[logical_id] = lambda event, context: {"flow": "x", "changes": []}
    gateway.on_result = lambda *args: seen.append(args)
    assert gateway.invoke(logical_id, {"id": "e"}) == {"flow": "x", "changes": []}
    assert seen == [(logical_id, {"id": "e"}, {"flow": "x", "changes": []})]

    def broken(*args):
        raise RuntimeError("printer broke")

    gateway.on_result = broken
    assert gateway.invoke(logical_id, {"id": "e"}) == {"flow": "x", "changes": []}
    gateway.stop()
