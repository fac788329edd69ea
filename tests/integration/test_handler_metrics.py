"""Metrics as the handlers emit them: each invocation's figures carry its own flow dimension."""
from __future__ import annotations

import json
import warnings

from .conftest import WEBHOOK_SECRET
from .handlers import Context, load_handler, sample_event, webhook_event


def test_given_handlers_of_several_flows_in_one_process_when_invoked_then_no_dimension_is_overwritten(stack, capsys):
    """An invocation that published no metrics (a 404) left its flow dimension behind, and the
    next flow's handler overwrote it with a warning on every invocation."""
    customer = stack.shop.create("customers", {"email": "ada@example.com"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_handler("customer_to_wave")(webhook_event(WEBHOOK_SECRET, "c_nope"), Context())  # 404: no metrics
        load_handler("customer_to_webshop")(sample_event("schedule.json"), Context())
        load_handler("customer_to_wave")(webhook_event(WEBHOOK_SECRET, customer["id"]), Context())
    assert not [w for w in caught if "has already been added" in str(w.message)]
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    flows = [d.get("flow") for d in documents if "RecordsRead" in d]
    assert flows == ["customer_to_webshop", "customer_to_wave"]
