"""Rotating the webhook secret without minutes of 401s: the current secret and the previous one
(WEBHOOK_SECRET_PREVIOUS, or WEBHOOK_SECRET_PREVIOUS_PARAM in SSM) are both accepted, through
the real handler with signed events; anything else is refused, and no secret reaches a log."""
from __future__ import annotations

import json
import logging

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from shopwave import idempotency, runtime

from .conftest import WEBHOOK_SECRET
from .handlers import Context, load_handler, webhook_event
from .hostile_helpers import OTHER_SECRET, capture_logs, expected_digests, idempotency_items

OLD_SECRET = WEBHOOK_SECRET  # what the webshop still signs with
NEW_SECRET = "whsec_rotated_new_5550123"
ADA = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}


@pytest.fixture
def logs(capsys, caplog, monkeypatch):
    captured = capture_logs(capsys, caplog, monkeypatch)
    caplog.set_level(logging.INFO, logger="botocore")  # its DEBUG wire log prints SSM response bodies
    return captured


def fresh_process():
    runtime.current.cache_clear()
    idempotency._handled_once.cache_clear()
    parameters.clear_caches()


@pytest.fixture
def rotated(stack, monkeypatch):
    """The sync has the new secret; the old one is still accepted as the previous."""
    monkeypatch.setenv("WEBHOOK_SECRET", NEW_SECRET)
    monkeypatch.setenv("WEBHOOK_SECRET_PREVIOUS", OLD_SECRET)
    fresh_process()
    return stack


def deliver(stack, secret: str, delivery_id: str) -> tuple[dict, dict]:
    customer = stack.shop.create("customers", {**ADA, "email": f"{delivery_id}@example.com"})
    event = webhook_event(secret, customer["id"], delivery_id=delivery_id)
    return load_handler("customer_to_wave")(event, Context()), event


def test_given_a_rotated_secret_when_the_webshop_still_signs_with_the_old_one_then_the_delivery_syncs(rotated, logs):
    response, event = deliver(rotated, OLD_SECRET, "dlv_old")
    assert response["statusCode"] == 200, response
    assert len(rotated.wave.customers()) == 1
    text = logs.assert_no_secrets(NEW_SECRET, *expected_digests(event))
    assert "signed with the previous secret" in text  # an operator sees when the webshop has switched


def test_given_a_rotated_secret_when_the_webshop_signs_with_the_new_one_then_the_delivery_syncs(rotated, logs):
    response, _ = deliver(rotated, NEW_SECRET, "dlv_new")
    assert response["statusCode"] == 200, response
    assert len(rotated.wave.customers()) == 1
    assert "signed with the previous secret" not in logs.assert_no_secrets(NEW_SECRET)


def test_given_a_rotated_secret_when_a_delivery_is_signed_with_neither_then_401_and_nothing_changes(rotated, logs):
    response, event = deliver(rotated, OTHER_SECRET, "dlv_neither")
    assert response["statusCode"] == 401, response
    assert json.loads(response["body"])["error"] == "Webshop-Signature does not match"
    assert rotated.wave.customers() == [] and idempotency_items(rotated) == []
    logs.assert_no_secrets(NEW_SECRET, OTHER_SECRET, *expected_digests(event))


def test_given_no_previous_secret_when_a_delivery_is_signed_with_the_old_one_then_401(stack, logs, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET", NEW_SECRET)
    monkeypatch.setenv("WEBHOOK_SECRET_PREVIOUS", "")  # empty: no previous secret
    monkeypatch.setenv("WEBHOOK_SECRET_PREVIOUS_PARAM", "")
    fresh_process()
    response, _ = deliver(stack, OLD_SECRET, "dlv_no_previous")
    assert response["statusCode"] == 401, response
    assert stack.wave.customers() == []
    logs.assert_no_secrets(NEW_SECRET)


def test_given_both_secrets_in_ssm_when_the_webshop_signs_with_the_old_one_then_the_delivery_syncs(stack, logs, monkeypatch):
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/shopwave/webhook-secret", Value=NEW_SECRET, Type="SecureString")
    ssm.put_parameter(Name="/shopwave/webhook-secret-previous", Value=OLD_SECRET, Type="SecureString")
    monkeypatch.delenv("WEBHOOK_SECRET")
    monkeypatch.setenv("WEBHOOK_SECRET_PARAM", "/shopwave/webhook-secret")
    monkeypatch.setenv("WEBHOOK_SECRET_PREVIOUS_PARAM", "/shopwave/webhook-secret-previous")
    fresh_process()

    old, event = deliver(stack, OLD_SECRET, "dlv_ssm_old")
    new, _ = deliver(stack, NEW_SECRET, "dlv_ssm_new")
    neither, _ = deliver(stack, OTHER_SECRET, "dlv_ssm_neither")

    assert (old["statusCode"], new["statusCode"], neither["statusCode"]) == (200, 200, 401)
    assert len(stack.wave.customers()) == 2
    logs.assert_no_secrets(NEW_SECRET, *expected_digests(event))
