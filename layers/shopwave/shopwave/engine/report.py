"""What one run did, per flow: the figures in metrics, logs and the demo's report."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Report:
    flow: str
    mode: str = "incremental"  # or "reconcile" (SweepMode)
    read: int = 0
    created: int = 0
    updated: int = 0
    adopted: int = 0
    dependencies: int = 0  # records synced first because this flow's records needed them
    filled: int = 0  # source records completed with what the target filled in
    echoes: int = 0
    conflicts: int = 0
    parked: int = 0
    unparked: int = 0
    deleted: int = 0
    kept: int = 0  # deleted or cancelled at the source, counterpart kept by policy (reported)
    skipped: int = 0
    stale: int = 0  # read again older than its link last saw it (a late replica, a page read ahead): not written
    # A reconciliation pass's records that differed from their links and were written (or parked):
    # what the incremental sweeps missed. The ReconciledRecords metric an operator alarms on.
    reconciled: int = 0
    wave_calls: int = 0
    webshop_calls: int = 0
    wave_throttled: int = 0  # Wave's 429 answers, retried ones included
    wave_seconds: float = 0.0  # time spent waiting for Wave (retries and backoff included)
    stopped_early: bool = False
    busy: bool = False  # another sweep of this flow was running: this one did nothing
    failures: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # the systems that stopped the run (Unavailable.system)
    credentials_refused: list[str] = field(default_factory=list)  # of those, the ones that refused the sync's secret
    # One entry per record written: {"source_id", "target_id", "action", "fields"} (names, never
    # values). Kept out of as_dict(): a backfill's list does not belong in one log line.
    changes: list[dict] = field(default_factory=list)

    @classmethod
    def of_busy(cls, flow: str, mode: str) -> "Report":
        """A run that did nothing: another run of this flow and mode held its lease."""
        return cls(flow, mode=mode, busy=True)

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.adopted + self.filled + self.deleted

    def as_dict(self) -> dict:
        figures = asdict(self)
        figures.pop("changes")
        return {**figures, "writes": self.writes}

    def change(self, action: str, source_id: str, target_id: str | None, fields=()) -> None:
        self.changes.append({"source_id": source_id, "target_id": target_id, "action": action,
                             "fields": sorted(fields)})

    def merge(self, other: "Report") -> None:
        for name, value in asdict(other).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and name != "flow":
                setattr(self, name, getattr(self, name) + value)
        self.failures += other.failures
        self.unavailable += [system for system in other.unavailable if system not in self.unavailable]
        self.credentials_refused += [s for s in other.credentials_refused if s not in self.credentials_refused]
        self.changes += other.changes
        self.stopped_early |= other.stopped_early
        self.busy |= other.busy
