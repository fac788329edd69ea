"""The work behind every handler: sweep for a schedule, sync one record for a webhook.

The event is parsed with Powertools' event source data classes for the two sources the template
gives a function: an EventBridge schedule (`EventBridgeEvent`) and, for the three webhook flows,
the REST API's proxy integration (`APIGatewayProxyEvent`). Anything else is refused as an error.

A system the flow depends on being unavailable (Wave, the webshop, DynamoDB, the parameter
store), or refusing the sync's token or key, is never an unexplained error, and parks nothing. A webhook answers 503 with the system's name and is not
remembered as done, so the webshop retries it. A sweep keeps its watermark, logs which system
stopped it, emits `SweepsFailed` and then fails the invocation, so Lambda's retries, the
on-failure destination and the failed-sweep alarms see the outage.

What each run did goes in its "flow run finished" log line (the dashboard reads it); the only
custom metrics are the ones alarms need (`observability`).
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Iterator

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, EventBridgeEvent

from . import runtime, webhook
from .clients.errors import AuthenticationFailed, Unavailable
from .wave.client import WaveTransportError
from .webshop.client import WebshopTransportError
from .config import optional_secret, secret
from .engine import Report, SweepMode
from .flows import FLOWS
from .observability import PARKED_RECORDS, RECONCILED_RECORDS, SWEEPS_FAILED, count, logger, tracer

# A sweep's lease lasts as long as its invocation can (Lambda's remaining time) plus this.
LEASE_MARGIN_SECONDS = 5.0


@tracer.capture_method(capture_response=False)
def run(flow_name: str, event: dict, context: Any) -> dict:
    tracer.put_annotation(key="flow", value=flow_name)
    flow = FLOWS[flow_name]
    parsed = parse_event(event)
    if isinstance(parsed, APIGatewayProxyEvent):
        logger.set_correlation_id(parsed.request_context.request_id)
        return _webhook(flow, parsed, context)
    logger.set_correlation_id(parsed.get("id") or getattr(context, "aws_request_id", None))
    return _sweep(flow, context, sweep_mode(parsed))


# ------------------------------------------------------------------------------- events
class UnexpectedEvent(ValueError):
    """An event from neither of the function's sources (template.yaml): nothing is run."""


def _is_webhook(event: APIGatewayProxyEvent) -> bool:
    """A request through the REST API's proxy integration (the webhook routes)."""
    return bool(event.http_method and event.request_context.request_id)


def _is_schedule(event: EventBridgeEvent) -> bool:
    """An EventBridge schedule's event (events/schedule.json)."""
    return event.source == "aws.events" and event.detail_type == "Scheduled Event"


def sweep_mode(event: EventBridgeEvent) -> SweepMode:
    """What the schedule asks for: its Input's detail {"sweep": "reconcile"} (events/reconcile.json,
    the Reconcile schedule in template.yaml) runs the reconciliation pass; anything else sweeps."""
    detail = event.get("detail") or {}
    return SweepMode.RECONCILE if isinstance(detail, dict) and detail.get("sweep") == "reconcile" else SweepMode.INCREMENTAL


EVENT_SOURCES = ((APIGatewayProxyEvent, _is_webhook), (EventBridgeEvent, _is_schedule))


def parse_event(event: Any) -> APIGatewayProxyEvent | EventBridgeEvent:
    """The invocation's event as the data class of the source it came from."""
    if isinstance(event, dict):
        for data_class, came_from in EVENT_SOURCES:
            parsed = data_class(event)
            try:
                if came_from(parsed):
                    return parsed
            except (KeyError, TypeError, AttributeError):  # a field that source always has is missing
                continue
    keys = sorted(str(key) for key in event)[:20] if isinstance(event, dict) else type(event).__name__
    logger.error("unexpected event: neither a schedule nor a webhook request; nothing was run", extra={"keys": keys})
    raise UnexpectedEvent("the event is neither an EventBridge schedule nor an API Gateway REST request")


# ----------------------------------------------------------------------------- outages
class SystemUnavailable(Exception):
    """A system the flow depends on cannot be reached now: nothing was remembered as done, the
    watermark stays, and a retry (the webshop's, Lambda's, the next schedule) goes on.
    `credentials_refused`: it refused the sync's token or key, and only a valid secret ends it."""
    system = "a system"

    def __init__(self, detail: str, *, credentials_refused: bool = False):
        super().__init__(f"{self.system} {'refused the credentials' if credentials_refused else 'unavailable'}: {detail}")
        self.detail = detail
        self.credentials_refused = credentials_refused


# Also the client's transport errors, as a failed page read has always raised: whoever handles
# "Wave is down" handles it the same whether the sweep met it reading a page or writing a record.
class WaveUnavailable(SystemUnavailable, WaveTransportError):
    system = "Wave"


class WebshopUnavailable(SystemUnavailable, WebshopTransportError):
    system = "the webshop"


class DynamoDBUnavailable(SystemUnavailable):
    system = "DynamoDB"


class ParameterStoreUnavailable(SystemUnavailable):
    system = "the parameter store (SSM)"


# AWS error codes that mean "not now" rather than "not like this"
TRANSIENT_AWS_CODES = frozenset({
    "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
    "ProvisionedThroughputExceededException", "InternalServerError", "InternalFailure", "InternalError",
    "ServiceUnavailable", "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
})


def unavailable(exc: BaseException) -> SystemUnavailable | None:
    """The outage behind an exception, or None if it is not one (a bug, a refusal, bad config)."""
    chain = list(_causes(exc))
    for cause in chain:
        if isinstance(cause, SystemUnavailable):
            return cause
        if isinstance(cause, Unavailable):  # a client's outage, in the shared vocabulary
            return _kind_for(cause.system)(str(cause), credentials_refused=isinstance(cause, AuthenticationFailed))
    if not any(_transient_aws(cause) for cause in chain):
        return None  # e.g. AccessDenied, a missing table or parameter: a deployment to fix, not to wait out
    names = {type(cause).__name__ for cause in chain}
    modules = {type(cause).__module__.split(".")[0] for cause in chain}
    detail = _brief(exc)
    if "GetParameterError" in names:
        return ParameterStoreUnavailable(detail)
    if "pynamodb" in modules or "IdempotencyPersistenceLayerError" in names:
        return DynamoDBUnavailable(detail)
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps: `raise from`, pynamodb's `cause`, Powertools' exceptions
    that carry the original as an argument, and the implicit context of Powertools Parameters'
    GetParameterError only (anything else raised while handling an outage is not one)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [current.__cause__, getattr(current, "cause", None)]
        todo += [arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException)]
        if type(current).__name__ == "GetParameterError":  # raised inside `except`, without `from`
            todo.append(current.__context__)


def _transient_aws(exc: BaseException) -> bool:
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    if isinstance(exc, (BotocoreConnectionError, HTTPClientError)):  # could not connect, closed, timed out
        return True
    if isinstance(exc, ClientError):
        error, meta = exc.response.get("Error", {}), exc.response.get("ResponseMetadata", {})
        return error.get("Code") in TRANSIENT_AWS_CODES or int(meta.get("HTTPStatusCode") or 0) >= 500
    return False


def _brief(exc: BaseException) -> str:
    """An error for a log line: its type and message (never a secret: clients put none in them)."""
    return f"{type(exc).__name__}: {exc}"[:500]


def _kind_for(system: str) -> type[SystemUnavailable]:
    """The handler's outage for a client's `Unavailable.system`."""
    return {WaveTransportError.system: WaveUnavailable, WebshopTransportError.system: WebshopUnavailable}.get(
        system, SystemUnavailable)


def _from_report(report: Report) -> SystemUnavailable:
    """The outage that stopped the engine's run: the first system its report names decides the type."""
    system = next(iter(report.unavailable), "")
    failures = report.failures
    return _kind_for(system)("; ".join(failures[:5]) + (f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""),
                             credentials_refused=system in report.credentials_refused)


# ------------------------------------------------------------------------------- sweeps
def sweep_lease(context: Any) -> timedelta | None:
    """How long this run holds its flow's sweep lease: Lambda's remaining time plus a margin, so a
    sweep killed by a hard timeout blocks the next runs only until just after that timeout.
    None without a Lambda context: the engine's configured lease (SWEEP_LEASE_SECONDS)."""
    remaining = _remaining_seconds(context)
    return None if remaining is None else timedelta(seconds=max(remaining, 0.0) + LEASE_MARGIN_SECONDS)


def _remaining_seconds(context: Any) -> float | None:
    if not hasattr(context, "get_remaining_time_in_millis"):
        return None
    return context.get_remaining_time_in_millis() / 1000


@tracer.capture_method(capture_response=False)
def _sweep(flow, context, mode: SweepMode = SweepMode.INCREMENTAL) -> dict:
    time_left = (lambda: _remaining_seconds(context)) if hasattr(context, "get_remaining_time_in_millis") else None
    lease = sweep_lease(context)
    try:
        rt = runtime.current()
        before = rt.calls()
        report = rt.engine.sweep(flow, mode=mode, time_left=time_left, lease_for=lease)
    except Exception as exc:
        down = unavailable(exc)
        if down is None:
            raise
        _sweep_failed(down)
        if down is exc:
            raise
        raise down from exc
    body = _finish(rt, before, report)
    if report.failures:
        down = _from_report(report)
        _sweep_failed(down)
        raise down
    return body


# The secret an operator replaces when a system refuses the sync's credentials (README: Operating it).
SECRET_OF = {WaveTransportError.system: "WAVE_TOKEN", WebshopTransportError.system: "WEBSHOP_API_KEY"}


def _sweep_failed(down: SystemUnavailable) -> None:
    """Said once, before the invocation fails; the metric is flushed by `log_metrics` all the same."""
    if down.credentials_refused:
        name = SECRET_OF.get(down.system, "its secret")
        logger.error(f"sweep stopped: {down.system} refused the sync's credentials (revoked, expired or rotated); "
                     f"nothing was parked and the watermark stays; put a valid one in {name} (or the SSM parameter "
                     f"{name}_PARAM names) and the next run goes on",
                     extra={"system": down.system, "reason": down.detail, "credentials_refused": True})
    else:
        logger.error(f"sweep stopped: {down.system} unavailable; the watermark stays and the next run goes on",
                     extra={"system": down.system, "reason": down.detail})
    count(SWEEPS_FAILED, 1)


# ----------------------------------------------------------------------------- webhooks
@tracer.capture_method(capture_response=False)
def _webhook(flow, event: APIGatewayProxyEvent, context) -> dict:
    try:
        return _deliver(flow, event, context)
    except Exception as exc:
        down = unavailable(exc)
        if down is None:
            raise
        logger.warning(f"webhook not synced now: {down.system} "
                       f"{'refused the sync credentials' if down.credentials_refused else 'unavailable'}; the webshop should retry",
                       extra={"system": down.system, "reason": down.detail, "credentials_refused": down.credentials_refused})
        return _response(503, {"error": f"{down.system} is unavailable; retry the delivery later"})


def _deliver(flow, event: APIGatewayProxyEvent, context) -> dict:
    resource = flow.entity.shop.resource
    try:
        delivery = webhook.parse(event, _webhook_secrets(), resource)
    except webhook.Rejected as exc:
        logger.warning("webhook refused", extra={"status": exc.status, "reason": exc.reason})
        return _response(exc.status, {"error": exc.reason})
    logger.append_keys(delivery_id=delivery.id, record_id=delivery.record_id)
    if delivery.signed_with_previous_secret:
        logger.info("webhook signed with the previous secret: the webshop has not switched to the current one yet")
    from .idempotency import InProgress, once_per_delivery  # heavy: loaded only for webhooks

    try:
        return once_per_delivery(lambda: _sync_delivery(flow, delivery), delivery, context)
    except InProgress:
        return _response(409, {"error": "this delivery is being processed"})
    except RecordNotFound as missing:
        # Not remembered as done: if the record appears later, the webshop's retry syncs it.
        return _response(404, {"error": str(missing)})


def _webhook_secrets() -> Iterator[str]:
    """The current secret, then the previous one if configured (read only if the current one
    does not match: a delivery signed with the current secret never waits for it)."""
    yield secret("WEBHOOK_SECRET")
    previous = optional_secret("WEBHOOK_SECRET_PREVIOUS")
    if previous:
        yield previous


class RecordNotFound(Exception):
    """The delivery names a record the webshop does not have (yet)."""


def _sync_delivery(flow, delivery: webhook.Delivery) -> dict:
    """Raising makes Powertools forget the delivery, so the webshop's retry is processed again."""
    rt = runtime.current()
    before = rt.calls()
    report = rt.engine.sync_ids(flow, [delivery.record_id])
    if report.failures:
        raise _from_report(report)
    if report.skipped and not report.read:
        raise RecordNotFound(f"{delivery.resource} {delivery.record_id} not found")
    body = _finish(rt, before, report)
    return _response(200, {"status": "synced", "delivery": delivery.id, **body})


# ------------------------------------------------------------------------------ figures
def _finish(rt, before: dict[str, float], report: Report) -> dict:
    """The run's figures: its report with what the clients counted during it (API calls, Wave's
    429s and seconds), in the one log line the dashboard reads; ParkedRecords for the alarm."""
    after = rt.calls()
    report.wave_calls = after["wave_calls"] - before["wave_calls"]
    report.webshop_calls = after["webshop_calls"] - before["webshop_calls"]
    report.wave_throttled = after["wave_throttled"] - before["wave_throttled"]
    report.wave_seconds = round(after["wave_seconds"] - before["wave_seconds"], 3)
    count(PARKED_RECORDS, report.parked)
    if report.reconciled:
        count(RECONCILED_RECORDS, report.reconciled)
        logger.warning(f"reconciliation caught {report.reconciled} record(s) the incremental sweeps missed",
                       extra={"reconciled": report.reconciled,
                              "records": [c["source_id"] for c in report.changes][:20]})
    logger.info("flow run finished", extra={"report": report.as_dict()})
    return report.as_dict()


def _response(status: int, body: dict) -> dict:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
