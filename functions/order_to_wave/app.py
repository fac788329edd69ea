"""Lambda handler: the order_to_wave flow (declared in shopwave.flows, run by the shared engine)."""
from shopwave.lambda_entry import flow_handler

lambda_handler = flow_handler("order_to_wave")
