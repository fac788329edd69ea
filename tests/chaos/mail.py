"""Webhook deliveries taken from the webshop's outbox: lost, duplicated, reordered, and each
given to its function's handler in-process as a signed API Gateway event."""
from __future__ import annotations

import json
import random

from devstack.webshop_sandbox.webhooks import event_body
from tests.integration.handlers import Context, load_handler, webhook_event

FUNCTIONS = {"customers": "customer_to_wave", "products": "product_to_wave", "orders": "order_to_wave"}
RETRY_LATER = (409, 503)  # the webshop retries these


class Mailman:
    def __init__(self, shop, secret: str, rng: random.Random):
        self.shop, self.secret, self.rng = shop, secret, rng
        self.handlers = {resource: load_handler(name) for resource, name in FUNCTIONS.items()}
        self.retries: list[tuple[str, dict]] = []  # answered 409/503, or in flight at a crash
        self.stats = {"delivered": 0, "lost": 0, "duplicated": 0, "retry_later": 0}

    def round(self, *, lose: float, duplicate: float, reorder: bool) -> None:
        """Deliver what is pending (and due retries); a SimulatedCrash leaves the rest for later."""
        batch = self.retries + self.shop.take_outbox()
        self.retries = []
        kept = []
        for item in batch:
            if self.rng.random() < lose:
                self.stats["lost"] += 1
                continue
            kept.append(item)
            if self.rng.random() < duplicate:
                kept.append(item)
                self.stats["duplicated"] += 1
        if reorder:
            self.rng.shuffle(kept)
        for index, (resource, event) in enumerate(kept):
            try:
                status = self.deliver(resource, event)
            except BaseException:
                self.retries += kept[index:]  # no answer: the webshop sends them again
                raise
            if status in RETRY_LATER:
                self.retries.append((resource, event))
                self.stats["retry_later"] += 1

    def deliver(self, resource: str, event: dict) -> int:
        raw = event_body(event)
        request = webhook_event(self.secret, event["data"]["id"], resource=resource, body=raw)
        response = self.handlers[resource](request, Context())
        status = response["statusCode"]
        self.stats["delivered"] += 1
        if status != 200 and status not in RETRY_LATER:
            raise AssertionError(f"webhook {event['type']} {event['data']['id']} ({event['id']}) answered "
                                 f"{status}: {json.loads(response['body'])}")
        return status
