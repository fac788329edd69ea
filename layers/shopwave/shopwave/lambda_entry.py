"""What every function's handler is: one flow, run on a schedule or for a webhook delivery.

This module stays light so a handler imports fast (cold starts): it imports only the Logger and
Metrics (`observability`); the engine, clients, tracer and flows load on the first invocation
(`flow_runner`), which also parses the event and sets the correlation id.
"""
from __future__ import annotations

from typing import Any, Callable

from .observability import logger, metrics


def flow_handler(flow_name: str) -> Callable[[dict, Any], dict]:
    """The Lambda handler for one flow: schedule events sweep, API Gateway events are webhooks."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict, context: Any) -> dict:
        logger.append_keys(flow=flow_name)
        from . import flow_runner  # loaded once, on the first invocation

        return flow_runner.run(flow_name, event, context)

    return handler
