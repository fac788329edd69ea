"""Field mappings as data: one declaration read in both directions."""
from .core import SHOP, WAVE, Basis, Codec, Field, Mapping, address_fields, get_path
from .values import BadValue, state_hash

__all__ = ["SHOP", "WAVE", "Basis", "Codec", "get_path", "Field", "Mapping", "address_fields", "BadValue", "state_hash"]
