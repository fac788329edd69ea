"""The six flows: each an entity and a direction, run by the one engine."""
from ..engine import Flow
from ..mapping import SHOP, WAVE
from .customers import CUSTOMER
from .orders import ORDER
from .products import PRODUCT

FLOWS: dict[str, Flow] = {
    "customer_to_wave": Flow("customer_to_wave", CUSTOMER, SHOP),
    "customer_to_webshop": Flow("customer_to_webshop", CUSTOMER, WAVE),
    "product_to_wave": Flow("product_to_wave", PRODUCT, SHOP),
    "product_to_webshop": Flow("product_to_webshop", PRODUCT, WAVE),
    "order_to_wave": Flow("order_to_wave", ORDER, SHOP),
    "invoice_to_webshop": Flow("invoice_to_webshop", ORDER, WAVE),
}


def flow_for(entity: str, source: str) -> Flow:
    """The flow that brings `entity` records over from `source` (dependencies are synced on demand)."""
    return next(f for f in FLOWS.values() if f.entity.name == entity and f.source == source)


__all__ = ["FLOWS", "flow_for"]
