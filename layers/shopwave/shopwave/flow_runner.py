"""The work behind every handler: sweep for a schedule, sync one record for a webhook."""
from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from . import runtime, webhook
from .config import secret
from .engine import Report
from .flows import FLOWS
from .lambda_entry import logger, metrics

tracer = Tracer()

REPORT_METRICS = {
    "RecordsRead": "read", "RecordsCreated": "created", "RecordsUpdated": "updated", "RecordsAdopted": "adopted",
    "EchoesSkipped": "echoes", "Conflicts": "conflicts", "RecordsParked": "parked", "RecordsDeleted": "deleted",
}


@tracer.capture_method(capture_response=False)
def run(flow_name: str, event: dict, context: Any) -> dict:
    tracer.put_annotation(key="flow", value=flow_name)
    flow = FLOWS[flow_name]
    if "httpMethod" in event or "routeKey" in event:
        return _webhook(flow, event, context)
    return _sweep(flow, context)


@tracer.capture_method(capture_response=False)
def _sweep(flow, context) -> dict:
    rt = runtime.current()
    before = rt.calls()
    time_left = (lambda: context.get_remaining_time_in_millis() / 1000) if hasattr(context, "get_remaining_time_in_millis") else None
    report = rt.engine.sweep(flow, time_left=time_left)
    return _finish(rt, before, report)


@tracer.capture_method(capture_response=False)
def _webhook(flow, event: dict, context) -> dict:
    resource = flow.entity.shop.resource
    try:
        delivery = webhook.parse(event, secret("WEBHOOK_SECRET"), resource)
    except webhook.Rejected as exc:
        logger.warning("webhook refused", extra={"status": exc.status, "reason": exc.reason})
        metrics.add_metric(name="WebhooksRefused", unit=MetricUnit.Count, value=1)
        return _response(exc.status, {"error": exc.reason})
    logger.append_keys(delivery_id=delivery.id, record_id=delivery.record_id)
    from .idempotency import InProgress, once_per_delivery  # heavy: loaded only for webhooks

    try:
        return once_per_delivery(lambda: _sync_delivery(flow, delivery), delivery, context)
    except NotDone as exc:
        logger.warning("webhook not synced now; the webshop should retry", extra={"reason": str(exc)})
        return _response(503, {"error": "a system is unavailable; retry the delivery later"})
    except InProgress:
        return _response(409, {"error": "this delivery is being processed"})
    except RecordNotFound as missing:
        # Not remembered as done: if the record appears later, the webshop's retry syncs it.
        return _response(404, {"error": str(missing)})


class NotDone(Exception):
    """The delivery could not be synced now (a system is down); it is not remembered as done."""


class RecordNotFound(Exception):
    """The delivery names a record the webshop does not have (yet)."""


def _sync_delivery(flow, delivery: webhook.Delivery) -> dict:
    rt = runtime.current()
    before = rt.calls()
    report = rt.engine.sync_ids(flow, [delivery.record_id])
    if report.failures:
        # A system is down: fail so the delivery is not remembered and the webshop retries it.
        raise NotDone("; ".join(report.failures))
    if report.skipped and not report.read:
        raise RecordNotFound(f"{delivery.resource} {delivery.record_id} not found")
    body = _finish(rt, before, report)
    return _response(200, {"status": "synced", "delivery": delivery.id, **body})


def _finish(rt, before: dict[str, int], report: Report) -> dict:
    after = rt.calls()
    report.wave_calls = after["wave"] - before["wave"]
    report.webshop_calls = after["webshop"] - before["webshop"]
    for name, attribute in REPORT_METRICS.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=getattr(report, attribute))
    if report.parked:
        # One metric across flows (service dimension only) for the ParkedRecordsAlarm.
        with single_metric(name="ParkedRecords", unit=MetricUnit.Count, value=report.parked) as metric:
            metric.add_dimension(name="service", value=metrics.service or "shopwave")
    metrics.add_metric(name="WaveApiCalls", unit=MetricUnit.Count, value=report.wave_calls)
    metrics.add_metric(name="WebshopApiCalls", unit=MetricUnit.Count, value=report.webshop_calls)
    logger.info("flow run finished", extra={"report": report.as_dict()})
    return report.as_dict()


def _response(status: int, body: dict) -> dict:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
