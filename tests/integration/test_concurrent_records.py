"""Records of a page in flight at once (SYNC_CONCURRENCY), the next page read while this one
is handled: the watermark still passes only an unbroken run of handled records, and every
write made is reported."""
from __future__ import annotations

import threading
from collections import Counter

import pytest

from shopwave.wave.client import WaveTransportError
from shopwave.webshop.client import WebshopClient
from shopwave.wave.side import WaveSide


@pytest.fixture
def concurrent(stack, monkeypatch):
    monkeypatch.setenv("SYNC_CONCURRENCY", "4")
    stack.rebuild()
    return stack


def test_given_one_record_wave_cannot_take_when_records_run_four_at_a_time_then_none_is_lost_or_doubled(
        concurrent, monkeypatch):
    emails = [f"c{i:02d}@example.com" for i in range(12)]
    for email in emails:
        concurrent.shop.create("customers", {"email": email, "first_name": "C", "last_name": email[:3]})
    original = WaveSide.create

    def create(self, entity, payload, source_id):
        if payload.get("email") == "c03@example.com":
            raise WaveTransportError("Wave unreachable: ReadTimeout")  # Wave went down for this one
        return original(self, entity, payload, source_id)

    monkeypatch.setattr(WaveSide, "create", create)

    first = concurrent.run("customer_to_wave")

    assert first.failures and "c03" not in {c["email"][:3] for c in concurrent.wave.customers()}
    # records already in flight when c03 failed finished; the report counts what reached Wave
    assert first.created == len(concurrent.wave.customers()) >= 3
    monkeypatch.setattr(WaveSide, "create", original)

    second = concurrent.run("customer_to_wave")

    # the watermark stayed before c03: it is synced now, those after it are echoes or new
    assert Counter(c["email"] for c in concurrent.wave.customers()) == Counter(emails)
    assert first.created + second.created == 12


def test_given_two_pages_when_the_first_is_being_handled_then_the_second_is_already_read(stack, monkeypatch):
    for i in range(60):  # pages of 50 (SYNC_PAGE_SIZE in the test stack)
        stack.shop.create("customers", {"email": f"p{i}@example.com", "first_name": "P", "last_name": str(i)})
    second_page_read = threading.Event()
    list_page, create = WebshopClient.list_page, WaveSide.create
    waited_for_it: list[bool] = []

    def watching_list_page(self, resource, *, cursor=None, **options):
        page = list_page(self, resource, cursor=cursor, **options)
        if cursor:
            second_page_read.set()
        return page

    def first_create_waits(self, entity, payload, source_id):
        if not waited_for_it:
            waited_for_it.append(second_page_read.wait(timeout=10))
        return create(self, entity, payload, source_id)

    monkeypatch.setattr(WebshopClient, "list_page", watching_list_page)
    monkeypatch.setattr(WaveSide, "create", first_create_waits)

    report = stack.run("customer_to_wave")

    assert waited_for_it == [True]  # page 2 arrived while page 1's first record was still being written
    assert report.created == 60 and len(stack.wave.customers()) == 60


def test_given_time_runs_out_with_records_in_flight_when_sweeps_repeat_then_no_record_is_handled_twice(
        concurrent):
    from .test_time_budget import ShortLivedContext
    from .handlers import load_handler, sample_event

    emails = [f"t{i:02d}@example.com" for i in range(12)]
    for email in emails:
        # with a currency, so the sync writes nothing back to the shop (which would come back as an echo)
        concurrent.shop.create("customers", {"email": email, "first_name": "T", "last_name": email[:3], "currency": "CAD"})
    handler = load_handler("customer_to_wave")
    runs = []
    for _ in range(20):
        runs.append(handler(sample_event("schedule.json"), ShortLivedContext(checks=3)))
        if not runs[-1]["stopped_early"]:
            break

    assert len(runs) > 2 and all(r["stopped_early"] for r in runs[:-1])
    # what was in flight when time ran out finished and counted: no run handles a record again
    assert sum(r["created"] for r in runs) == 12 and sum(r["echoes"] for r in runs) == 0
    assert Counter(c["email"] for c in concurrent.wave.customers()) == Counter(emails)
