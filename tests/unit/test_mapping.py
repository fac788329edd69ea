"""The customer mapping is one declaration read both ways: what goes to Wave comes back equal."""
from decimal import Decimal

import pytest

from shopwave.flows.customers import CUSTOMER_MAPPING as M
from shopwave.mapping import SHOP, WAVE, BadValue, Basis
from shopwave.mapping.values import decimal

SHOP_CUSTOMER = {
    "id": "c_1", "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "company": "",
    "phone": "+1 416 555 0100", "mobile": None, "website": "https://ada.example", "currency": "cad",
    "notes": "Prefers \"email\"\nnever calls", "billing_address": {"line1": "1 King St W", "line2": None,
    "city": "Toronto", "region": "ON", "postal_code": "M5H 1A1", "country": "CA"},
    "shipping": {"name": "Ada L.", "phone": "+1 416 555 0101", "instructions": "Back door",
                 "address": {"line1": "2 Queen St", "city": "Toronto", "region": "CA-ON", "postal_code": "M5H 2N2", "country": "ca"}},
}


def as_wave_read(input_doc):
    """What Wave returns for an input document: codes come back as nested objects."""
    def address(a):
        if not a:
            return None
        out = {k: a.get(k) for k in ("addressLine1", "addressLine2", "city", "postalCode")}
        out["province"] = {"code": a["provinceCode"]} if a.get("provinceCode") else None
        out["country"] = {"code": a["countryCode"]} if a.get("countryCode") else None
        return out
    doc = dict(input_doc)
    doc["currency"] = {"code": doc["currency"]} if doc.get("currency") else None
    doc["address"] = address(doc.get("address"))
    if doc.get("shippingDetails"):
        doc["shippingDetails"] = {**doc["shippingDetails"], "address": address(doc["shippingDetails"].get("address"))}
    return doc


def test_given_a_shop_customer_when_mapped_to_wave_and_read_back_then_the_canonical_state_is_equal():
    state = M.canonical(SHOP, SHOP_CUSTOMER)
    wave_input = M.payload(WAVE, state)
    assert wave_input["name"] == "Ada Lovelace"
    assert wave_input["address"]["provinceCode"] == "CA-ON"
    assert wave_input["currency"] == "CAD"
    assert wave_input["internalNotes"] == SHOP_CUSTOMER["notes"]
    assert M.canonical(WAVE, as_wave_read(wave_input)) == state


def test_given_a_wave_customer_when_mapped_to_the_shop_and_read_back_then_the_canonical_state_is_equal():
    wave = as_wave_read({"name": "Acme Ltd", "firstName": "Bo", "lastName": "Chen", "email": "bo@acme.test",
                         "address": {"addressLine1": "9 Rue", "city": "Montréal", "provinceCode": "CA-QC", "countryCode": "CA"}})
    state = M.canonical(WAVE, wave)
    shop = M.payload(SHOP, state)
    assert shop["company"] == "Acme Ltd"
    assert shop["billing_address"]["region"] == "CA-QC"
    assert M.canonical(SHOP, shop) == state


def test_given_a_changed_city_when_building_a_shop_patch_then_the_whole_address_goes_with_the_shops_own_spelling():
    state = M.canonical(SHOP, SHOP_CUSTOMER)
    state["billing.city"] = "Ottawa"
    patch = M.payload(SHOP, state, ["billing.city"], current=SHOP_CUSTOMER)
    assert patch == {"billing_address": {**SHOP_CUSTOMER["billing_address"], "city": "Ottawa"}}


def test_given_a_person_without_company_when_wave_renames_them_then_the_new_name_becomes_the_company():
    state = M.canonical(SHOP, SHOP_CUSTOMER)
    assert state["name"] is None  # "Ada Lovelace" is only the person's name: nothing of its own
    state["name"] = "Countess of Lovelace"
    assert M.payload(SHOP, state, ["name"], current=SHOP_CUSTOMER) == {"company": "Countess of Lovelace"}


def test_given_a_wave_name_that_is_just_the_persons_name_when_read_then_it_equals_the_shops_person_record():
    wave = as_wave_read({"name": "Ada Lovelace", "firstName": "Ada", "lastName": "Lovelace"})
    assert M.canonical(WAVE, wave)["name"] is None
    assert M.payload(WAVE, M.canonical(SHOP, SHOP_CUSTOMER))["name"] == "Ada Lovelace"


@pytest.mark.parametrize("raw, canonical", [("19.90", "19.9"), ("100", "100"), ("0.000", "0"), (Decimal("1.50"), "1.5")])
def test_given_decimal_strings_when_normalised_then_equal_amounts_compare_equal(raw, canonical):
    assert decimal(raw) == canonical


@pytest.mark.parametrize("raw", [1.5, "abc", "1" * 40, "NaN"])
def test_given_absurd_numbers_when_normalised_then_they_are_refused_with_a_reason(raw):
    with pytest.raises(BadValue):
        decimal(raw)


# -- reading against the pair's basis (agreed state, absorbed defaults) -------------------------
def test_given_a_wave_business_name_when_the_pairs_shop_record_uses_no_company_then_it_reads_as_absent():
    wave = as_wave_read({"name": "Northwind Traders", "firstName": "Ada", "lastName": "Lovelace"})
    assert M.canonical(WAVE, wave)["name"] == "Northwind Traders"  # no counterpart yet: it would be the company
    assert M.canonical(WAVE, wave, basis=Basis({"name": None}))["name"] is None
    assert M.canonical(WAVE, wave, basis=Basis({"name": "Northwind"}))["name"] == "Northwind Traders"


def test_given_a_default_wave_filled_in_when_read_against_the_link_then_it_is_absent_until_it_changes():
    wave = as_wave_read({"name": "a@example.com", "email": "a@example.com", "currency": "CAD"})
    absorbed = Basis({"currency": None}, absorbed={"currency": "CAD"})
    assert M.canonical(WAVE, wave, basis=absorbed)["currency"] is None
    assert M.canonical(WAVE, {**wave, "currency": {"code": "USD"}}, basis=absorbed)["currency"] == "USD"
    assert M.canonical(WAVE, wave, basis=Basis({"currency": "CAD"}, absorbed={"currency": "CAD"}))["currency"] == "CAD"


def test_given_a_first_name_change_when_written_to_wave_then_a_derived_wave_name_follows_and_a_given_one_stays():
    state = {**M.canonical(SHOP, SHOP_CUSTOMER), "first_name": "Augusta"}
    derived = as_wave_read({"name": "Ada Lovelace", "firstName": "Ada", "lastName": "Lovelace"})
    given = as_wave_read({"name": "Lovelace Consulting", "firstName": "Ada", "lastName": "Lovelace"})
    assert M.payload(WAVE, state, ["first_name"], current=derived) == {"firstName": "Augusta", "name": "Augusta Lovelace"}
    assert M.payload(WAVE, state, ["first_name"], current=given) == {"firstName": "Augusta"}
    assert "company" not in M.payload(SHOP, state, ["first_name"], current=SHOP_CUSTOMER)
