"""Environment variables set for a local run, and put back afterwards."""
from __future__ import annotations

import os


def restore(saved: dict[str, str | None]) -> None:
    """Put back what `saved` remembers (None: the variable was not set) and forget it."""
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    saved.clear()
