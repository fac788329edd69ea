"""What every function's handler is: one flow, run on a schedule or for a webhook delivery.

This module stays light so a handler imports fast (cold starts): logging and metrics are set
up here once per process; the engine, clients, tracer and flows load on the first invocation
(`flow_runner`).
"""
from __future__ import annotations

from typing import Any, Callable

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()


def flow_handler(flow_name: str) -> Callable[[dict, Any], dict]:
    """The Lambda handler for one flow: schedule events sweep, API Gateway events are webhooks."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict, context: Any) -> dict:
        logger.append_keys(flow=flow_name)
        logger.set_correlation_id(_correlation_id(event))
        # What a previous invocation left unflushed (nothing: Powertools keeps an empty set's
        # dimensions) is dropped, so this flow's dimension never overwrites another's.
        metrics.clear_metrics()
        metrics.add_dimension(name="flow", value=flow_name)
        from . import flow_runner  # loaded once, on the first invocation

        return flow_runner.run(flow_name, event, context)

    return handler


def _correlation_id(event: dict) -> str | None:
    return (event.get("requestContext") or {}).get("requestId") or event.get("id")
