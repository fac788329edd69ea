"""Lambda handler: the invoice_to_webshop flow (declared in shopwave.flows, run by the shared engine)."""
from shopwave.lambda_entry import flow_handler

lambda_handler = flow_handler("invoice_to_webshop")
