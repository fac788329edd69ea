"""Everything the sync remembers, in DynamoDB: links, watermarks, parked records, conflicts, claims."""
from .store import Link, LinkRaced, Parked, StateStore, Watermark

__all__ = ["Link", "LinkRaced", "Parked", "StateStore", "Watermark"]
