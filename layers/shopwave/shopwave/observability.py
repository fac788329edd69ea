"""Logs, metrics and traces (Powertools), shared by the handler (`lambda_entry`) and the work
behind it (`flow_runner`), so neither imports the other for them.

The handler module imports this, so it stays light: the Logger and Metrics are made here at
import; the Tracer (which loads the X-Ray SDK) is made on first use, when `flow_runner` imports
`tracer` on the first invocation.

What a run did, per flow, goes in the one structured line every run writes ("flow run finished",
with its report: records read, created, updated, adopted, parked, conflicts, API calls, Wave's
429s and time): the operator dashboard reads it with Logs Insights, at no cost per flow or
figure. Custom metrics cost $0.30 a month each for every hour they get a value (BENCHMARKS.md
section 8), so there are only those an alarm needs, at the service dimension only, and emitted
only when non-zero: a quiet sweep publishes none.

- ParkedRecords: a record the sync could not carry (refused, a missing dependency) waits for an
  operator; ParkedRecordsAlarm.
- SweepsFailed: a sweep stopped because a system it needs (Wave, the webshop, DynamoDB, SSM) was
  unavailable or refused the sync's credentials (a revoked token: the log line says which); SweepsFailedAlarm fires when that lasts, before FailedInvocationsAlarm sees the
  attempts Lambda gave up on.

Considered and left to free sources:
- Conflicts: most are same-field clashes the merge resolved by its rule, recorded for the record
  rather than to wake anyone; per flow in the log line and on the dashboard, `ops conflicts`.
- WebhooksRefused: API Gateway's 4XXError (free) counts every refused delivery; the function's
  "webhook refused" log line says why, the access log who sent it.
- WebhooksDeferred (503, a system unavailable): API Gateway's 5XXError counts them and
  WebhookErrorsAlarm watches it; the webshop retries and the sweep catches up.
- WaveThrottled: Wave's 429s are retried as Retry-After says, ordinary back-pressure; per flow in
  the log line (`wave_throttled`) and on the dashboard. 429s that outlast the retries fail the
  sweep, and SweepsFailed alarms.
"""
from __future__ import annotations

import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics()

PARKED_RECORDS = "ParkedRecords"
SWEEPS_FAILED = "SweepsFailed"
# Records a reconciliation pass found differing and wrote: what the incremental sweeps missed.
RECONCILED_RECORDS = "ReconciledRecords"
ALARM_METRICS = (PARKED_RECORDS, SWEEPS_FAILED, RECONCILED_RECORDS)

EMPTY_METRICS_WARNING = "No application metrics to publish"


def quiet_empty_metrics() -> None:
    """Most invocations publish no metric, by design. Powertools' documented way to say that is
    to ignore its "No application metrics to publish" warning (`log_metrics` then writes nothing)."""
    warnings.filterwarnings("ignore", f"{EMPTY_METRICS_WARNING}*")


quiet_empty_metrics()


def count(name: str, value: int) -> None:
    """Add `value` to an alarm's metric (service dimension only: Powertools adds `service`), if non-zero."""
    if name not in ALARM_METRICS:
        raise ValueError(f"{name} is not a metric an alarm needs (observability.ALARM_METRICS)")
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def __getattr__(name: str) -> Any:
    """`tracer`, made on first use (PEP 562): loading the X-Ray SDK waits for the first invocation."""
    if name == "tracer":
        from aws_lambda_powertools import Tracer

        globals()["tracer"] = made = Tracer()
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
