"""Webhook deliveries are handled once per delivery id (Powertools Idempotency on DynamoDB).

A delivery whose processing fails is not remembered, so the webshop's retry is processed again.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Callable

from aws_lambda_powertools.utilities.idempotency import (DynamoDBPersistenceLayer, IdempotencyConfig,
                                                         idempotent_function)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError as InProgress

from . import runtime

DELIVERY_MEMORY_SECONDS = 7 * 24 * 3600


@lru_cache(maxsize=1)
def _handled_once() -> tuple[IdempotencyConfig, Callable]:
    config = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=DELIVERY_MEMORY_SECONDS,
                               raise_on_no_idempotency_key=True)
    persistence = DynamoDBPersistenceLayer(table_name=runtime.current().config.tables.idempotency)

    @idempotent_function(data_keyword_argument="delivery", config=config, persistence_store=persistence)
    def handle(*, delivery: dict[str, Any], work: Callable[[], dict]) -> dict:
        return work()

    return config, handle


def once_per_delivery(work: Callable[[], dict], delivery, context: Any) -> dict:
    config, handle = _handled_once()
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        config.register_lambda_context(context)
    result = handle(delivery={"id": delivery.id, "type": delivery.type, "record": delivery.record_id}, work=work)
    return result if isinstance(result, dict) else json.loads(result)
