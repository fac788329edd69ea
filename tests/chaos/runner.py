"""One chaos run: seeded random operations under faults, then fault-free passes until quiet,
then the convergence check and one more pass that must write nothing."""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field

from devstack.convergence import check
from shopwave.clients.errors import AuthenticationFailed
from shopwave.wave.client import WaveTransportError
from shopwave.webshop.client import WebshopTransportError
from shopwave.engine import SweepMode
from shopwave.flows import FLOWS
from shopwave.mapping import WAVE

from tests.integration.handlers import Context, load_handler, sample_event

from .faults import Crasher, Credentials, SimulatedCrash, new_process
from .mail import Mailman
from .world import World

# op name -> weight; flow runs and deliveries are where crashes happen
OPS = {"create_customer": 8, "create_product": 6, "create_order": 9, "create_wave_customer": 2,
       "edit_shop_mapped": 12, "edit_shop_unmapped": 4, "edit_wave": 10, "edit_both_sides": 6, "delete_customer": 2, "retire_product": 2, "cancel_order": 2,
       "pay_invoice": 5, "pay_in_shop": 4, "refund_in_shop": 2, "delete_wave_invoice": 2, "revoke_credentials": 2,
       "run_flow": 18, "reconcile_flow": 4, "deliver_webhooks": 10}
WAVE_FAULT_KINDS = ("429", "500", "timeout", "error_200")  # error_200: INTERNAL_SERVER_ERROR inside an HTTP 200
# the flows with a Reconcile schedule (template.yaml): those that read Wave
RECONCILING = tuple(name for name, flow in FLOWS.items() if flow.source == WAVE)
TRANSPORT = (WaveTransportError, WebshopTransportError)


@dataclass
class Settings:
    seed: int
    ops: int
    wave_fault_rate: float = 0.10
    shop_fault_rate: float = 0.10
    # Wave serves this many requests at once and answers 429 without Retry-After beyond: one
    # fewer than the deployment's budget (WAVE_MAX_CONCURRENCY 2), as if another client shared the token
    wave_concurrency_cap: int | None = 1
    crash_rate: float = 0.3  # share of flow runs and delivery rounds armed to crash
    lose: float = 0.15
    duplicate: float = 0.15
    settle_rounds: int = 10
    lease_wait: float = 1.2  # longer than every lease a crash can leave behind


@dataclass
class Outcome:
    settings: Settings
    log: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    findings: str = ""
    seconds: float = 0.0

    def describe(self) -> str:
        s = self.settings
        return (f"chaos: seed={s.seed} ops={s.ops} wave_faults={s.wave_fault_rate} shop_faults={s.shop_fault_rate} "
                f"({self.seconds:.0f}s) counts={dict(self.counts)}")


class Chaos:
    def __init__(self, stack, settings: Settings, secret: str):
        self.stack, self.s = stack, settings
        self.rng = random.Random(settings.seed)
        # Wave's undocumented answers, played one way or the other per run
        stack.wave.play_undocumented(payments_bump_modified_at=self.rng.random() < 0.5,
                                     after_inclusive=self.rng.random() < 0.5)
        self.crasher = Crasher(random.Random(self.rng.random()))
        self.world = World(stack, random.Random(self.rng.random()), self.crasher.process)
        self.mail = Mailman(stack.shop, secret, random.Random(self.rng.random()))
        self.credentials = Credentials(stack, random.Random(self.rng.random()))
        self.out = Outcome(settings)
        self.handlers: dict = {}

    # -- phases -----------------------------------------------------------------------------
    def run(self) -> Outcome:
        started = time.monotonic()
        self.faults(on=True)
        names, weights = list(OPS), list(OPS.values())
        for step in range(self.s.ops):
            op = self.rng.choices(names, weights)[0]
            self.out.counts[op] += 1
            self.out.log.append(f"{step}: {op}")
            self.step(op)
            self.credentials.tick()
        self.faults(on=False)
        self.out.counts.update({f"webhooks {k}": v for k, v in self.mail.stats.items()})
        self.out.counts["secrets rotated"] = self.credentials.rotations
        self.quiet()
        self.out.seconds = time.monotonic() - started
        return self.out

    def faults(self, *, on: bool) -> None:
        fault_rng = random.Random(self.rng.random())
        self.stack.wave.set_fault_rate(self.s.wave_fault_rate if on else 0, fault_rng, kinds=WAVE_FAULT_KINDS)
        self.stack.shop.set_fault_rate(self.s.shop_fault_rate if on else 0, fault_rng)
        self.stack.wave.set_concurrency_cap(self.s.wave_concurrency_cap if on else None, retry_after=None)
        if not on:
            self.credentials.restore()
            self.out.counts["wave 429s over its concurrency cap"] += self.stack.wave.over_cap_answers

    def step(self, op: str) -> None:
        if op == "run_flow":
            flow = self.rng.choice(list(FLOWS))
            if self.rng.random() < 0.25:  # as Lambda runs it: the function's handler with the schedule event
                self.guarded(f"invoke {flow}", lambda: self.schedule(flow))
            else:
                self.guarded(f"run {flow}", lambda: self.crasher.process().engine.sweep(FLOWS[flow]))
        elif op == "revoke_credentials":
            self.credentials.revoke()
        elif op == "reconcile_flow":
            flow = self.rng.choice(RECONCILING)
            if self.rng.random() < 0.25:  # the function's handler with the Reconcile schedule's event
                self.guarded(f"invoke {flow} reconcile", lambda: self.schedule(flow, "reconcile.json"))
            else:
                self.guarded(f"reconcile {flow}",
                             lambda: self.crasher.process().engine.sweep(FLOWS[flow], mode=SweepMode.RECONCILE))
        elif op == "deliver_webhooks":
            reorder = self.rng.random() < 0.5
            self.guarded("deliver", lambda: self.mail.round(lose=self.s.lose, duplicate=self.s.duplicate, reorder=reorder))
        else:
            getattr(self.world, op)()

    def schedule(self, flow: str, event: str = "schedule.json") -> None:
        self.crasher.process()
        self.handlers.setdefault(flow, load_handler(flow))(sample_event(event), Context())

    def guarded(self, what: str, work) -> None:
        """Run a flow or a delivery round, maybe crashing; a crash starts a new process."""
        if self.rng.random() < self.s.crash_rate:
            self.crasher.arm()
        try:
            report = work()
            if getattr(report, "credentials_refused", None):  # a sweep run directly: it stopped, and says why
                self.out.counts["credentials refused"] += 1
                if report.parked:
                    self.out.problems.append(f"{what} parked {report.parked} while {report.credentials_refused} "
                                             f"refused the sync's secret: {report.as_dict()}")
        except SimulatedCrash as crash:
            self.out.counts[f"crash {crash}"] += 1
            self.out.log.append(f"   crashed at {crash} in {what}")
            new_process()
        except TRANSPORT as exc:  # a system stayed down through the retries, or refused the secret: the run fails, state is kept
            self.out.counts["credentials refused" if isinstance(exc, AuthenticationFailed) or
                            getattr(exc, "credentials_refused", False) else "transport failure"] += 1
            self.out.log.append(f"   {what}: {type(exc).__name__}: {exc}")
        finally:
            self.crasher.disarm()

    def quiet(self) -> None:
        """Fault-free: leases left by crashes expire, then rounds of all six flows until one
        writes nothing; the checker; one more pass with no writes in either system."""
        time.sleep(self.s.lease_wait)
        rounds = []
        for _ in range(self.s.settle_rounds):
            reports = [self.crasher.process().engine.sweep(flow) for flow in FLOWS.values()]
            rounds.append([r.as_dict() for r in reports])
            if not any(r.writes or r.parked or r.busy or r.failures for r in reports):
                break
        else:
            self.out.problems.append(f"did not settle in {self.s.settle_rounds} rounds; last round: "
                                     f"{[r for r in rounds[-1] if r['writes'] or r['parked'] or r['busy'] or r['failures']]}")
        self.out.counts["settle rounds"] = len(rounds)
        # Settled by the incremental sweeps (their overlap re-reads what a payment left unstamped):
        # a reconciliation pass must find nothing they missed.
        passes = [self.crasher.process().engine.sweep(FLOWS[name], mode=SweepMode.RECONCILE) for name in RECONCILING]
        if any(r.reconciled or r.writes or r.failures for r in passes):
            self.out.problems.append(f"a reconciliation pass after settling caught: {[r.as_dict() for r in passes]}")
        findings = check(self.crasher.process())
        if not findings.ok or findings.pending:
            self.out.problems.append("convergence check failed")
        self.out.findings = findings.summary()
        self.stack.reset_counters()
        reports = [self.crasher.process().engine.sweep(flow) for flow in FLOWS.values()]
        wave_writes, shop_writes = self.stack.wave_writes(), self.stack.shop_writes()
        if wave_writes or shop_writes or any(r.writes for r in reports):
            self.out.problems.append(f"a pass after settling wrote: {wave_writes} Wave mutations, {shop_writes} webshop "
                                     f"writes; reports {[r.as_dict() for r in reports if r.writes]}")
