"""The cost section's counting (DynamoDB request units by DynamoDB's rules, EMF custom metrics)
and `bench --only` keeping the other sections of BENCHMARKS.md as they are."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from bench import report
from bench.report import Section
from bench.s8_cost import DynamoUnits, emf_metrics, item_size


def test_item_size_follows_dynamodb_rules():
    assert item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # (5 significant digits + 1) // 2 + 1
    assert item_size({"ok": {"BOOL": True}, "z": {"NULL": True}}) == 3 + 2
    assert item_size({"m": {"M": {"a": {"S": "xy"}}}}) == 1 + 3 + 1 + 2
    assert item_size({"l": {"L": [{"S": "a"}, {"S": "b"}]}}) == 1 + 3 + 2 * (1 + 1)
    assert item_size({"é": {"S": "é"}}) == 4  # UTF-8 bytes


def test_units_count_items_not_calls_and_transactions_double():
    units = DynamoUnits()
    big = {"pk": {"S": "x" * 1500}}  # 2 KB: 2 write units, 1 read unit
    units.count("PutItem", {"Item": big}, {})
    assert units.wru == 2
    units.count("TransactWriteItems", {"TransactItems": [{"Put": {"Item": big}}, {"Put": {"Item": {"pk": {"S": "y"}}}}]}, {})
    assert units.wru == 2 + 2 * 2 + 2 * 1
    units.count("DeleteItem", {"Key": {"pk": {"S": "y"}}}, None)  # a failed condition still consumes
    assert units.wru == 9
    units.count("BatchGetItem", {"RequestItems": {"t": {"Keys": [1, 2, 3], "ConsistentRead": False}}},
                {"Responses": {"t": [big, {"pk": {"S": "a"}}]}})
    assert units.rru == 3 * 0.5  # per item, eventually consistent; the missing key still costs its minimum
    units.count("GetItem", {"ConsistentRead": True}, {"Item": {"pk": {"S": "x" * 5000}}})
    assert units.rru == 1.5 + 2
    units.count("Query", {}, {"Items": [{"pk": {"S": "x" * 3000}}, {"pk": {"S": "x" * 3000}}]})
    assert units.rru == 3.5 + 1  # a query's items are summed before rounding: 6 KB = 2 x 0.5
    assert units.calls == {"PutItem": 1, "TransactWriteItems": 1, "DeleteItem": 1, "BatchGetItem": 1, "GetItem": 1,
                           "Query": 1}


def test_emf_metrics_are_namespace_name_and_dimension_values():
    line = json.dumps({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{
        "Namespace": "Shopwave", "Dimensions": [["service"]],
        "Metrics": [{"Name": "ParkedRecords", "Unit": "Count"}, {"Name": "SweepsFailed", "Unit": "Count"}]}]},
        "flow": "customer_to_wave", "service": "shopwave", "ParkedRecords": [2.0], "SweepsFailed": [1.0]})
    dims = (("service", "shopwave"),)  # a key of the line that is no dimension (flow) makes no metric of its own
    assert emf_metrics(line) == {("Shopwave", "ParkedRecords", dims), ("Shopwave", "SweepsFailed", dims)}
    assert emf_metrics('{"level": "INFO", "message": "flow run finished"}') == set()
    assert emf_metrics("not json") == set()


def test_only_rewrites_its_own_section_and_goals(tmp_path, monkeypatch):
    target = tmp_path / "BENCHMARKS.md"
    monkeypatch.setattr(report, "OUTPUT", target)
    started = datetime(2026, 1, 1, tzinfo=timezone.utc)
    one, two = Section("1", "One"), Section("2", "Two")
    one.add("first body")
    one.goal("g1", True, "m1")
    two.add("second body")
    two.goal("g2", False, "m2")
    report.write([one, two], started=started, argv=[], finished=True, elapsed=1.0)

    eight = Section("8", "Cost")
    eight.add("cost body")
    eight.goal("g8", True, "m8")
    report.write([eight], started=started, argv=["--only", "8"], finished=True, elapsed=2.0, keep_others=True)
    text = target.read_text()
    assert "first body" in text and "second body" in text and "cost body" in text
    assert text.index("## 1. One") < text.index("## 2. Two") < text.index("## 8. Cost")
    assert "| 1 | g1 | m1 | met |" in text and "| 2 | g2 | m2 | **MISSED** |" in text and "| 8 | g8 | m8 | met |" in text
    assert "re-run alone: section 8" in text

    eight.lines[:] = ["cost body v2"]
    report.write([eight], started=started, argv=["--only", "8"], finished=True, elapsed=2.0, keep_others=True)
    again = target.read_text()
    assert "cost body v2" in again and "cost body\n" not in again and again.count("re-run alone: section 8") == 1
    assert again.count("| 8 | g8 |") == 1 and "first body" in again
