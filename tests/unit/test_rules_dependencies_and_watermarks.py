"""SYNC.md rules 5 and 6 on the in-memory systems: an order's customer and products first;
watermarks that never skip a record."""
from __future__ import annotations

from decimal import Decimal

from shopwave.clients.errors import Unavailable
from shopwave.engine import Flow
from shopwave.flows import FLOWS
from tests.memory import world  # noqa: F401 - fixture
from tests.memory.seeds import ADA, seed_order


def test_given_an_order_whose_customer_and_products_are_new_when_it_syncs_then_they_arrive_first_and_the_invoice_uses_them(world):
    customer, widget, gadget, order = seed_order(world, order_discount="5.00")

    report = world.run("order_to_wave")

    assert report.created == 1 and report.dependencies == 3 and report.conflicts == 0
    invoice = world.wave_record("order", order["id"])
    assert invoice["customer"]["id"] == world.link("customer", customer["id"]).wave_id
    assert [i["product"]["id"] for i in invoice["items"][:2]] == [world.link("product", p["id"]).wave_id for p in (widget, gadget)]
    assert invoice["items"][2]["description"] == "Order discount"
    assert Decimal(invoice["total"]["value"]) == Decimal(order["total"])
    assert (invoice["invoiceNumber"], invoice["title"], invoice["status"]) == (order["number"], f"Order {order['number']}", "DRAFT")
    assert invoice["dueDate"] == "2026-12-20"  # the order date plus the default 30 days' terms


def test_given_an_orders_product_wave_refuses_when_it_syncs_then_the_order_waits_parked_and_a_later_retry_invoices_it(world):
    _, widget, _, order = seed_order(world)
    world.settle(flows=("customer_to_wave",))
    world.sides["wave"].faults.refuse("create", "the product's income account is closed")

    report = world.run("order_to_wave")

    assert report.parked == 1 and report.created == 0 and world.wave.invoices() == []
    [parked] = world.store.parked("order_to_wave")
    assert parked.source_id == order["id"] and parked.kind == "MissingDependency" and "product" in parked.reason
    world.later(3600)  # the parked order and its product are due again, and Wave takes the product now

    world.settle()

    assert world.wave_record("order", order["id"]) is not None
    assert world.store.parked("order_to_wave") == [] and world.store.parked("product_to_wave") == []


def test_given_wave_records_modified_between_page_reads_when_swept_then_every_one_reaches_the_shop_with_its_edit(world):
    for i in range(7):
        world.wave.create_customer(name=f"Cust {i}", email=f"w{i}@example.com")
    side, edited = world.sides["wave"], []
    pages = side.pages

    def pages_with_an_edit(entity, partition, since, page_size):
        for page in pages(entity, partition, since, page_size):
            yield page
            if not edited:  # after the first page is read, its first record changes
                edited.append(world.wave.update_customer(page[0]["id"], phone="555"))
    side.pages = pages_with_an_edit
    flow = FLOWS["customer_to_webshop"]

    world.engine.sweep(Flow(flow.name, flow.entity, flow.source, page_size=2))

    in_shop = {c["email"]: c for c in world.shop.all("customers")}
    assert set(in_shop) == {f"w{i}@example.com" for i in range(7)}
    assert in_shop[edited[0]["email"]]["phone"] == "555"


def test_given_wave_down_at_the_first_record_when_swept_then_nothing_moves_and_the_next_run_brings_them_all(world):
    customers = [world.shop.create("customers", {**ADA, "email": f"c{i}@example.com"}) for i in range(5)]
    world.sides["wave"].faults.fail("create", Unavailable("Wave answered 503 after retries"), times=1)

    down = world.run("customer_to_wave")
    back = world.run("customer_to_wave")

    assert down.failures and down.created == 0 and down.parked == 0
    assert back.created == 5 and back.failures == []
    assert sorted(c["displayId"] for c in world.wave.customers()) == sorted(c["id"] for c in customers)


def test_given_wave_down_after_two_records_when_swept_then_those_two_stay_synced_and_the_rest_come_next_run_none_twice(world):
    customers = [world.shop.create("customers", {**ADA, "email": f"c{i}@example.com"}) for i in range(5)]
    wave = world.sides["wave"]
    create = wave.create
    made = []

    def create_until_down(entity, payload, source_id):
        if len(made) == 2 and not made[-1] == "down":
            made.append("down")
            raise Unavailable("Wave timed out")
        record = create(entity, payload, source_id)
        made.append(record["id"])
        return record
    wave.create = create_until_down

    stopped = world.run("customer_to_wave")
    later = world.run("customer_to_wave")

    assert stopped.created == 2 and stopped.failures
    assert later.created == 3 and later.echoes == 0
    assert sorted(c["displayId"] for c in world.wave.customers()) == sorted(c["id"] for c in customers)


def test_given_a_record_parked_when_the_sweep_goes_on_then_the_watermark_passes_it_and_the_next_run_reads_nothing(world):
    world.shop.create("customers", {**ADA, "email": "refused@example.com"})  # read first, refused by Wave
    world.shop.create("customers", {**ADA, "email": "good@example.com"})
    world.sides["wave"].faults.refuse("create", "currency XXQ is not a currency")

    first = world.run("customer_to_wave")

    assert first.created == 1 and first.parked == 1
    assert [c["email"] for c in world.wave.customers()] == ["good@example.com"]
    assert world.run("customer_to_wave").read == 0  # not re-read, and not retried before it is due


def test_given_wave_refusing_the_token_while_an_orders_customer_is_synced_first_when_swept_then_nothing_is_parked(world):
    """A dependency's outage is the run's outage: the order is not parked as waiting for its customer."""
    from shopwave.clients.errors import AuthenticationFailed

    _, _, _, order = seed_order(world)
    refused = AuthenticationFailed("Wave refused the token: HTTP 401")
    refused.system = "Wave"
    world.sides["wave"].faults.fail("create", refused, times=1)

    stopped = world.run("order_to_wave")

    assert stopped.failures and stopped.parked == 0 and stopped.credentials_refused == ["Wave"]
    assert all(world.store.parked(flow) == [] for flow in FLOWS)
    world.settle()
    assert world.wave_record("order", order["id"]) is not None
