"""Every GraphQL operation the layer can send, validated against Wave's real schema (the
2021 introspection snapshot plus the live API's extension, with the live deprecations), so a
field real Wave would reject, or one it is about to drop, fails here first."""
import pytest
from graphql import parse, specified_rules, validate
from graphql.validation import NoDeprecatedCustomRule

from devstack.wave_sandbox import load_wave_schema
from shopwave.wave import operations as ops
from shopwave.wave import catalog, payments
from shopwave.flows import FLOWS

ENTITIES = {flow.entity.name: flow.entity for flow in FLOWS.values()}


def operations():
    """Every document built from the entities' declared parts: `read` (lists per partition, gets),
    `adopt` (filtered look-ups) and, where the resource is writable, `write` (mutations)."""
    for name, entity in ENTITIES.items():
        wave = entity.wave
        for partition in wave.read.partitions:
            yield f"{name} list {partition or 'all'}", ops.list_document(wave, partition=partition)
            yield f"{name} first list {partition or 'all'}", ops.list_document(wave, partition=partition, after_cursor=False)
        for lookup in wave.adopt.lookups:
            if lookup.filter_arg:
                for count in (1, 3):
                    yield f"{name} lookup {lookup.filter_arg} x{count}", ops.find_many_document(
                        wave, lookup.filter_arg, lookup.graphql_type, count)
        for count in (1, 3):
            yield f"{name} get {count}", ops.get_many_document(wave, count)
        write = wave.write
        if write is None:
            continue  # read-only: nothing is ever written
        yield f"{name} create", ops.mutation_document(wave, write.create, wave.create_input)
        yield f"{name} patch", ops.mutation_document(wave, write.patch, wave.patch_input)
        for key, action in write.actions.items():
            if isinstance(action, str):
                yield f"{name} {action}", ops.action_document(wave, action)
            else:  # an action planning several mutations (the sync's own invoice payments)
                yield f"{name} {key} approve", ops.action_document(wave, action.approve)
                for mutation, document in payments.PAYMENT_DOCUMENTS.items():
                    yield f"{name} {key} {mutation}", document
        if write.delete:
            yield f"{name} delete", ops.delete_document(wave)
    for constant in ("SALES_TAXES", "DISCOUNT_ACCOUNTS", "FIND_PRODUCTS", "CREATE_PRODUCT", "PAYMENT_ACCOUNTS"):
        yield f"catalog {constant}", getattr(catalog, constant)


@pytest.mark.parametrize("name, document", list(operations()), ids=[n for n, _ in operations()])
def test_given_an_operation_the_layer_sends_when_validated_against_wave_then_it_is_valid(name, document):
    errors = validate(load_wave_schema(), parse(document), [*specified_rules, NoDeprecatedCustomRule])
    assert errors == [], f"{name}: {[e.message for e in errors]}"


@pytest.mark.parametrize("selection", ["total { raw }", "items { price }", "items { taxes { rate } }",
                                       "customer { address { province { slug } } }", "internalId"])
def test_given_a_document_selecting_a_field_deprecated_in_the_live_api_when_validated_then_it_is_refused(selection):
    document = f"query($businessId: ID!, $id: ID!) {{ business(id: $businessId) {{ invoice(id: $id) {{ id {selection} }} }} }}"
    assert validate(load_wave_schema(), parse(document)) == []  # still in the schema ...
    errors = validate(load_wave_schema(), parse(document), [NoDeprecatedCustomRule])
    assert errors, f"{selection} is deprecated in the live API"  # ... but never selected by the sync


def test_given_a_misspelt_field_when_validated_then_the_schema_rejects_it():
    document = ops.list_document(ENTITIES["customer"].wave).replace("firstName", "first_name")
    assert validate(load_wave_schema(), parse(document))
