"""Metrics and the run's log line as the handlers write them: per-flow figures in the "flow run
finished" line, custom metrics only for alarms (service dimension, only when non-zero)."""
from __future__ import annotations

import json
import logging
import warnings

import pytest

from shopwave import observability

from .conftest import WEBHOOK_SECRET
from .handlers import Context, load_handler, sample_event, webhook_event

ADA = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}


class Logs:
    """What the handlers wrote: EMF documents (printed to stdout) and log records (the "flow run
    finished" record carries the run's report as its `report`, the JSON line's `report` key)."""

    def __init__(self, capsys, caplog):
        self.capsys, self.caplog = capsys, caplog

    def metrics(self) -> list[tuple[str, str, tuple[str, ...], list[float]]]:
        return metrics_published(self.capsys.readouterr().out)

    def reports(self) -> list[dict]:
        return [record.report for record in self.caplog.records if record.getMessage() == "flow run finished"]


@pytest.fixture
def logs(capsys, caplog):
    caplog.set_level(logging.INFO, logger="shopwave")
    return Logs(capsys, caplog)


def emf_documents(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{") and '"_aws"' in line]


def metrics_published(out: str) -> list[tuple[str, str, tuple[str, ...], float]]:
    """(namespace, metric, dimension names, value) for every metric the EMF documents carry."""
    found = []
    for document in emf_documents(out):
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimensions in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    found.append((directive["Namespace"], metric["Name"], tuple(dimensions), document[metric["Name"]]))
    return found


def test_given_nothing_changed_when_every_flow_sweeps_then_no_custom_metric_is_published_and_powertools_does_not_warn(
        stack, logs):
    handlers = {flow: load_handler(flow) for flow in ("customer_to_wave", "customer_to_webshop", "product_to_wave",
                                                     "product_to_webshop", "order_to_wave", "invoice_to_webshop")}
    with warnings.catch_warnings(record=True) as unfiltered:
        warnings.simplefilter("always")
        handlers["customer_to_wave"](sample_event("schedule.json"), Context())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        observability.quiet_empty_metrics()  # what the layer does at import
        for handler in handlers.values():
            handler(sample_event("schedule.json"), Context())

    # without the layer's filter Powertools would warn on every quiet run; with it, never
    assert [w for w in unfiltered if observability.EMPTY_METRICS_WARNING in str(w.message)]
    assert not [w for w in caught if observability.EMPTY_METRICS_WARNING in str(w.message)]
    assert logs.metrics() == []
    reports = logs.reports()
    assert len(reports) == 7 and all(r["read"] == 0 and r["parked"] == 0 for r in reports)


def test_given_a_run_that_parks_a_record_when_the_sweep_finishes_then_parked_records_is_published_once_at_the_service_dimension(
        stack, logs):
    stack.shop.create("customers", ADA)
    stack.shop.create("customers", {**ADA, "email": "bad@example.com", "currency": "XXQ"})  # Wave refuses it

    result = load_handler("customer_to_wave")(sample_event("schedule.json"), Context())

    assert result["created"] == 1 and result["parked"] == 1
    assert logs.metrics() == [("Shopwave", "ParkedRecords", ("service",), [1.0])]


def test_given_wave_answers_429_then_succeeds_when_a_delivery_syncs_then_the_run_line_counts_the_429_and_wave_time_without_a_metric(
        stack, logs):
    customer = stack.shop.create("customers", ADA)
    stack.wave.inject_fault(429, retry_after=0)

    response = load_handler("customer_to_wave")(webhook_event(WEBHOOK_SECRET, customer["id"]), Context())

    assert response["statusCode"] == 200, response
    [report] = logs.reports()
    assert report["flow"] == "customer_to_wave" and report["created"] == 1
    assert report["wave_throttled"] == 1 and report["wave_calls"] == len(stack.wave.requests)
    assert report["wave_seconds"] > 0
    assert logs.metrics() == []


def test_given_handlers_of_several_flows_in_one_process_when_invoked_then_each_run_line_names_its_own_flow(stack, logs):
    """A flow's key is appended per invocation and cleared after it: no run is logged as another flow's."""
    customer = stack.shop.create("customers", ADA)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_handler("customer_to_wave")(webhook_event(WEBHOOK_SECRET, "c_nope"), Context())  # 404: no run line
        load_handler("customer_to_webshop")(sample_event("schedule.json"), Context())
        load_handler("customer_to_wave")(webhook_event(WEBHOOK_SECRET, customer["id"]), Context())
    assert not [w for w in caught if "has already been added" in str(w.message)]
    assert [r["flow"] for r in logs.reports()] == ["customer_to_webshop", "customer_to_wave"]


@pytest.mark.parametrize("event", [{}, {"detail-type": "Scheduled Event"}, {"httpMethod": "POST"}, {"routeKey": "POST /x"}])
def test_given_an_event_from_neither_source_when_invoked_then_it_is_refused_and_nothing_runs(stack, event):
    from shopwave.flow_runner import UnexpectedEvent

    stack.shop.create("customers", ADA)
    with pytest.raises(UnexpectedEvent):
        load_handler("customer_to_wave")(event, Context())
    assert stack.wave.customers() == [] and stack.wave.requests == []
