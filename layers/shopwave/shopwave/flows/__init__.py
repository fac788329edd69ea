"""The flows: each is a declaration (entity + direction) the engine runs."""
from ..engine import Flow
from ..mapping import SHOP, WAVE
from .customers import CUSTOMER

FLOWS: dict[str, Flow] = {
    "customer_to_wave": Flow("customer_to_wave", CUSTOMER, SHOP),
    "customer_to_webshop": Flow("customer_to_webshop", CUSTOMER, WAVE),
}

__all__ = ["FLOWS"]
