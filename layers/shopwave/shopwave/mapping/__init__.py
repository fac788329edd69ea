"""Field mappings as data: one declaration read in both directions."""
from .core import SHOP, SIDES, WAVE, Basis, Code, Codec, Field, Mapping, Money, Region, Text, address_fields, get_path, other_side
from .values import BadValue, state_hash

__all__ = ["SHOP", "SIDES", "WAVE", "other_side", "Basis", "Code", "Codec", "Money", "Region", "Text", "get_path", "Field", "Mapping", "address_fields", "BadValue", "state_hash"]
