"""GraphQL documents for a Wave resource, built from its declaration. Values travel only as
variables; the only text built here is field names and `$idN` aliases from the declaration."""
from __future__ import annotations

from functools import lru_cache

ERRORS = "didSucceed inputErrors { code message path }"


def list_document(resource, *, partition: str = "") -> str:
    variables = "$businessId: ID!, $page: Int!, $pageSize: Int!, $modifiedAtAfter: DateTime"
    arguments = "page: $page, pageSize: $pageSize, sort: [MODIFIED_AT_ASC], modifiedAtAfter: $modifiedAtAfter"
    if partition:
        arguments += f", {partition}"
    name = f"List{resource.type_name}s{''.join(c for c in partition.title() if c.isalnum())}"
    return (f"query {name}({variables}) {{ business(id: $businessId) {{ "
            f"{resource.list_field}({arguments}) {{ pageInfo {{ currentPage totalPages totalCount }} "
            f"edges {{ node {{ {resource.selection} }} }} }} }} }}")


@lru_cache(maxsize=64)
def _get_many(type_name: str, get_field: str, selection: str, count: int) -> str:
    variables = ", ".join(["$businessId: ID!"] + [f"$id{i}: ID!" for i in range(count)])
    fields = " ".join(f"r{i}: {get_field}(id: $id{i}) {{ {selection} }}" for i in range(count))
    return f"query Get{type_name}s({variables}) {{ business(id: $businessId) {{ {fields} }} }}"


def get_many_document(resource, count: int) -> str:
    """One request for up to `count` records by id, through aliases."""
    return _get_many(resource.type_name, resource.get_field, resource.selection, count)


@lru_cache(maxsize=64)
def _find_many(type_name: str, list_field: str, selection: str, filter_arg: str, filter_type: str, count: int) -> str:
    variables = ", ".join(["$businessId: ID!"] + [f"$v{i}: {filter_type}" for i in range(count)])
    fields = " ".join(f"l{i}: {list_field}(page: 1, pageSize: 20, {filter_arg}: $v{i}) "
                      f"{{ edges {{ node {{ {selection} }} }} }}" for i in range(count))
    return f"query Find{type_name}s({variables}) {{ business(id: $businessId) {{ {fields} }} }}"


def find_many_document(resource, filter_arg: str, filter_type: str, count: int) -> str:
    """One request for `count` filtered lists (adoption look-ups by email, invoice number...), through aliases."""
    return _find_many(resource.type_name, resource.list_field, resource.selection, filter_arg, filter_type, count)


def mutation_document(resource, mutation: str, input_type: str) -> str:
    return (f"mutation {mutation[0].upper()}{mutation[1:]}($input: {input_type}!) {{ "
            f"{mutation}(input: $input) {{ {ERRORS} {resource.output} {{ {resource.selection} }} }} }}")


def _input_type(mutation: str) -> str:
    return f"{mutation[0].upper()}{mutation[1:]}Input"


def action_document(resource, mutation: str) -> str:
    """A mutation on one record by id that answers the record (productArchive, invoiceApprove)."""
    return mutation_document(resource, mutation, _input_type(mutation))


def delete_document(resource) -> str:
    mutation = resource.delete
    return (f"mutation {mutation[0].upper()}{mutation[1:]}($input: {_input_type(mutation)}!) {{ "
            f"{mutation}(input: $input) {{ {ERRORS} }} }}")
