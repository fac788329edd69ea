"""Customers both ways, read back from both sandboxes."""
from __future__ import annotations

ADA = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "phone": "+1 416 555 0100",
       "currency": "CAD", "notes": "VIP",
       "billing_address": {"line1": "1 King St W", "city": "Toronto", "region": "ON", "postal_code": "M5H 1A1", "country": "CA"},
       "shipping": {"name": "Ada L.", "phone": "+1 416 555 0101", "instructions": "Back door",
                    "address": {"line1": "2 Queen St", "city": "Toronto", "region": "ON", "postal_code": "M5H 2N2", "country": "CA"}}}


def wave_by_email(wave, email):
    return [c for c in wave.customers() if (c.get("email") or "").lower() == email.lower()]


def test_given_a_new_shop_customer_when_the_flow_runs_then_wave_has_it_with_every_mapped_field(stack):
    shop_customer = stack.shop.create("customers", ADA)
    report = stack.run("customer_to_wave")
    assert report.created == 1
    [created] = wave_by_email(stack.wave, "ada@example.com")
    assert created["name"] == "Ada Lovelace"
    assert created["displayId"] == shop_customer["id"]
    assert created["address"]["province"]["code"] == "CA-ON"
    assert created["address"]["country"]["code"] == "CA"
    assert created["shippingDetails"]["instructions"] == "Back door"
    assert created["shippingDetails"]["address"]["city"] == "Toronto"
    assert created["internalNotes"] == "VIP"
    link = stack.store.get_link("customer", "shop", shop_customer["id"])
    assert link.wave_id == created["id"]


def test_given_a_new_wave_customer_when_the_reverse_flow_runs_then_the_shop_has_it(stack):
    stack.wave.create_customer(name="Bolt Bikes Inc", firstName="Bo", lastName="Chen", email="bo@bolt.test",
                               address={"addressLine1": "9 Rue", "city": "Montréal", "provinceCode": "CA-QC", "countryCode": "CA"})
    report = stack.run("customer_to_webshop")
    assert report.created == 1
    [customer] = [c for c in stack.shop.all("customers") if c["email"] == "bo@bolt.test"]
    assert customer["company"] == "Bolt Bikes Inc"
    assert customer["billing_address"]["city"] == "Montréal"
    assert customer["billing_address"]["region"] == "CA-QC"


def test_given_settled_customers_when_every_flow_runs_again_then_nothing_is_written(stack):
    stack.shop.create("customers", ADA)
    stack.wave.create_customer(name="Bo Chen", firstName="Bo", lastName="Chen", email="bo@bolt.test")
    stack.settle()
    stack.reset_counters()
    reports = [stack.run("customer_to_wave"), stack.run("customer_to_webshop")]
    assert stack.wave_writes() == 0 and stack.shop_writes() == 0
    assert sum(r.writes for r in reports) == 0


def test_given_a_linked_customer_when_edited_in_the_shop_then_wave_gets_the_edit_and_the_echo_writes_nothing(stack):
    customer = stack.shop.create("customers", ADA)
    stack.settle()
    stack.shop.update("customers", customer["id"], {"phone": "+1 416 555 0199", "billing_address": {**ADA["billing_address"], "city": "Ottawa"}})
    stack.reset_counters()
    stack.run("customer_to_wave")
    assert stack.wave_writes() == 1
    [in_wave] = wave_by_email(stack.wave, "ada@example.com")
    assert in_wave["phone"] == "+1 416 555 0199" and in_wave["address"]["city"] == "Ottawa"
    echo = stack.run("customer_to_webshop")
    assert echo.echoes == 1 and echo.writes == 0 and stack.shop_writes() == 0


def test_given_a_linked_customer_when_edited_in_wave_then_the_shop_gets_the_edit(stack):
    customer = stack.shop.create("customers", ADA)
    stack.settle()
    [in_wave] = wave_by_email(stack.wave, "ada@example.com")
    stack.wave.update_customer(in_wave["id"], mobile="+1 647 555 0000", internalNotes="Moved to wholesale")
    stack.reset_counters()
    stack.run("customer_to_webshop")
    after = stack.shop.get("customers", customer["id"])
    assert after["mobile"] == "+1 647 555 0000" and after["notes"] == "Moved to wholesale"
    assert stack.shop_writes() == 1
    assert stack.run("customer_to_wave").writes == 0


def test_given_an_existing_wave_customer_with_the_same_email_when_syncing_then_it_is_adopted_not_duplicated(stack):
    existing = stack.wave.create_customer(name="Ada Lovelace", email="ADA@example.com", phone="+44 20 0000")
    customer = stack.shop.create("customers", {**ADA, "phone": None})
    report = stack.run("customer_to_wave")
    assert report.adopted == 1 and report.created == 0
    assert len(stack.wave.customers()) == 1
    assert stack.store.get_link("customer", "shop", customer["id"]).wave_id == existing["id"]
    # the Wave phone filled the shop's empty one; the shop's address reached Wave
    assert stack.shop.get("customers", customer["id"])["phone"] == "+44 20 0000"
    assert stack.wave.get_customer(existing["id"])["address"]["city"] == "Toronto"
    stack.settle()


def test_given_two_wave_customers_with_the_same_email_when_syncing_then_a_conflict_is_reported_and_nothing_is_guessed(stack):
    stack.wave.create_customer(name="Ada One", email="ada@example.com")
    stack.wave.create_customer(name="Ada Two", email="ada@example.com")
    customer = stack.shop.create("customers", ADA)
    report = stack.run("customer_to_wave")
    assert report.parked == 1 and report.conflicts == 1 and report.created == 0
    assert len(stack.wave.customers()) == 2
    assert [p.source_id for p in stack.store.parked("customer_to_wave")] == [customer["id"]]
    assert stack.store.conflicts("customer")[0]["field"] == "@adopt"


def test_given_both_sides_edited_when_syncing_then_fields_merge_and_the_later_edit_wins_a_clash(stack):
    customer = stack.shop.create("customers", ADA)
    stack.settle()
    [in_wave] = wave_by_email(stack.wave, "ada@example.com")
    stack.shop.update("customers", customer["id"], {"phone": "111 shop", "website": "https://shop.example"})
    stack.wave.update_customer(in_wave["id"], phone="222 wave", internalNotes="wave note")  # later edit of phone
    stack.settle()
    shop_after, wave_after = stack.shop.get("customers", customer["id"]), stack.wave.get_customer(in_wave["id"])
    assert shop_after["website"] == wave_after["website"] == "https://shop.example"
    assert shop_after["notes"] == wave_after["internalNotes"] == "wave note"
    assert shop_after["phone"] == wave_after["phone"] == "222 wave"
    [conflict] = stack.store.conflicts("customer")
    assert conflict["field"] == "phone" and conflict["winner"] == "wave"
    assert conflict["shop"] == "111 shop" and conflict["wave"] == "222 wave"


def test_given_wave_answers_429_once_when_syncing_then_the_client_waits_and_succeeds(stack):
    stack.shop.create("customers", ADA)
    stack.wave.inject_fault(status=429, count=1, retry_after=1)
    report = stack.run("customer_to_wave")
    assert report.created == 1 and not report.failures
    assert len(wave_by_email(stack.wave, "ada@example.com")) == 1
    assert any(r["status"] == 429 for r in stack.wave.requests)


def test_given_wave_keeps_failing_when_syncing_then_the_watermark_stays_and_a_later_run_catches_up(stack):
    stack.shop.create("customers", ADA)
    stack.wave.inject_fault(status=503, count=6)  # the first request and all five retries
    report = stack.run("customer_to_wave")
    assert report.failures and report.created == 0 and not stack.wave.customers()
    assert stack.run("customer_to_wave").created == 1


def test_given_one_customer_wave_refuses_when_syncing_then_it_is_parked_and_the_others_sync(stack):
    good = [stack.shop.create("customers", {**ADA, "email": f"c{i}@example.com"}) for i in range(3)]
    bad = stack.shop.create("customers", {**ADA, "email": "bad@example.com", "currency": "XXQ"})
    report = stack.run("customer_to_wave")
    assert report.created == 3 and report.parked == 1
    [parked] = stack.store.parked("customer_to_wave")
    assert parked.source_id == bad["id"] and parked.attempts == 1 and parked.reason
    assert {c["email"] for c in stack.wave.customers()} == {c["email"] for c in good}
    # the watermark moved past the parked record: a second run does not retry it before it is due
    assert stack.run("customer_to_wave").read == 0


def test_given_wave_customers_modified_between_page_reads_when_syncing_then_all_reach_the_shop(stack, monkeypatch):
    for i in range(7):
        stack.wave.create_customer(name=f"Cust {i}", email=f"w{i}@example.com")
    monkeypatch.setattr(type(stack.runtime.engine.sides["wave"]), "fetch_batch", 50)
    from shopwave.flows import FLOWS
    flow = FLOWS["customer_to_webshop"]
    small = type(flow)(flow.name, flow.entity, flow.source, page_size=2)
    pages = stack.runtime.engine.sides["wave"].pages
    moved = []

    def pages_with_an_edit(entity, partition, since, page_size):
        for page in pages(entity, partition, since, page_size):
            yield page
            if not moved:  # between the first and second page read, the first record changes
                moved.append(stack.wave.update_customer(page[0]["id"], phone="555"))
    monkeypatch.setattr(stack.runtime.engine.sides["wave"], "pages", pages_with_an_edit)
    stack.runtime.engine.sweep(small)
    emails = {c["email"] for c in stack.shop.all("customers")}
    assert emails == {f"w{i}@example.com" for i in range(7)}
    [edited] = [c for c in stack.shop.all("customers") if c["email"] == moved[0]["email"]]
    assert edited["phone"] == "555"


def test_given_a_shop_customer_deleted_when_syncing_then_wave_keeps_it_and_the_link_is_marked(stack):
    customer = stack.shop.create("customers", ADA)
    stack.settle()
    stack.shop.delete("customers", customer["id"])
    report = stack.run("customer_to_wave")
    assert report.kept == 1 and report.deleted == 0
    assert len(wave_by_email(stack.wave, "ada@example.com")) == 1
    assert stack.store.get_link("customer", "shop", customer["id"]).status == "kept"
    assert stack.run("customer_to_wave").writes == 0
