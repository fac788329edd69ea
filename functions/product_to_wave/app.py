"""Lambda handler: the product_to_wave flow (declared in shopwave.flows, run by the shared engine)."""
from shopwave.lambda_entry import flow_handler

lambda_handler = flow_handler("product_to_wave")
