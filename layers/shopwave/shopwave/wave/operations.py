"""GraphQL documents for a Wave resource, built from its declaration's parts (engine/declarations.py:
`read` for lists and gets, `write` for mutations). Values travel only as variables; the only text
built here is field names and `$idN` aliases from the declaration."""
from __future__ import annotations

from functools import lru_cache

ERRORS = "didSucceed inputErrors { code message path }"


def list_document(resource, *, partition: str = "", after_cursor: bool = True) -> str:
    """One page of the list, oldest change first, after the cursor (wave/paging.py). Without a
    cursor yet the document has no such argument at all: Wave may read `null` as a filter."""
    read = resource.read
    after = read.after_argument
    variables = "$businessId: ID!, $page: Int!, $pageSize: Int!" + (f", ${after}: DateTime" if after_cursor else "")
    arguments = f"page: $page, pageSize: $pageSize, sort: [{read.sort}]" + (f", {after}: ${after}" if after_cursor else "")
    if partition:
        arguments += f", {partition}"
    name = f"List{resource.type_name}s{''.join(c for c in partition.title() if c.isalnum())}"
    return (f"query {name}({variables}) {{ business(id: $businessId) {{ "
            f"{read.list_field}({arguments}) {{ pageInfo {{ currentPage totalPages totalCount }} "
            f"edges {{ node {{ {read.selection} }} }} }} }} }}")


@lru_cache(maxsize=64)
def _get_many(type_name: str, get_field: str, selection: str, count: int) -> str:
    variables = ", ".join(["$businessId: ID!"] + [f"$id{i}: ID!" for i in range(count)])
    fields = " ".join(f"r{i}: {get_field}(id: $id{i}) {{ {selection} }}" for i in range(count))
    return f"query Get{type_name}s({variables}) {{ business(id: $businessId) {{ {fields} }} }}"


def get_many_document(resource, count: int) -> str:
    """One request for up to `count` records by id, through aliases."""
    return _get_many(resource.type_name, resource.read.get_field, resource.read.selection, count)


@lru_cache(maxsize=64)
def _find_many(type_name: str, list_field: str, selection: str, filter_arg: str, filter_type: str, count: int) -> str:
    variables = ", ".join(["$businessId: ID!"] + [f"$v{i}: {filter_type}" for i in range(count)])
    fields = " ".join(f"l{i}: {list_field}(page: 1, pageSize: 20, {filter_arg}: $v{i}) "
                      f"{{ edges {{ node {{ {selection} }} }} }}" for i in range(count))
    return f"query Find{type_name}s({variables}) {{ business(id: $businessId) {{ {fields} }} }}"


def find_many_document(resource, filter_arg: str, filter_type: str, count: int) -> str:
    """One request for `count` filtered lists (adoption look-ups by email, invoice number...), through aliases."""
    return _find_many(resource.type_name, resource.read.list_field, resource.read.selection, filter_arg, filter_type,
                      count)


def mutation_document(resource, mutation: str, input_type: str) -> str:
    """A mutation of a writable resource (its `write` part) that answers the record."""
    return (f"mutation {mutation[0].upper()}{mutation[1:]}($input: {input_type}!) {{ "
            f"{mutation}(input: $input) {{ {ERRORS} {resource.write.output} {{ {resource.read.selection} }} }} }}")


def _input_type(mutation: str) -> str:
    return f"{mutation[0].upper()}{mutation[1:]}Input"


def action_document(resource, mutation: str) -> str:
    """A mutation on one record by id that answers the record (productArchive, invoiceApprove)."""
    return mutation_document(resource, mutation, _input_type(mutation))


def delete_document(resource) -> str:
    mutation = resource.write.delete
    return (f"mutation {mutation[0].upper()}{mutation[1:]}($input: {_input_type(mutation)}!) {{ "
            f"{mutation}(input: $input) {{ {ERRORS} }} }}")
