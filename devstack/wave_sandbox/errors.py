"""Mutation validation errors (Wave answers them as didSucceed=false + inputErrors)."""
from __future__ import annotations


class InputErrors(Exception):
    """Validation failure of a mutation: becomes didSucceed=false + inputErrors."""

    def __init__(self, errors: list[dict]):
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def input_error(message: str, *path: str, code: str = "INVALID") -> InputErrors:
    return InputErrors([{"code": code, "message": message, "path": ["input", *path]}])
