"""Field mappings as data: one declaration read in both directions."""
from .core import SHOP, WAVE, Field, Mapping, address_fields
from .values import BadValue, state_hash

__all__ = ["SHOP", "WAVE", "Field", "Mapping", "address_fields", "BadValue", "state_hash"]
