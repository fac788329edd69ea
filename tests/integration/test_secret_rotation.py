"""Rotating the webhook secret without minutes of 401s: the current secret and the previous one
(WEBHOOK_SECRET_PREVIOUS, or WEBHOOK_SECRET_PREVIOUS_PARAM in SSM) are both accepted, through
the real handler with signed events; anything else is refused, and no secret reaches a log.
The Wave token and the webshop key are read per request through Powertools' cache: rotated in SSM
and in the system, they are picked up by the same process once the cache age has passed, and at
once when the system refuses the cached one."""
from __future__ import annotations

import json
import logging
import os

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


# ------------------------------------------------- the Wave token and the webshop key (issue 11, item 2)
NEW_WAVE_TOKEN = "wave-rotated-token-9876543210"
NEW_SHOP_KEY = "shop-rotated-key-9876543210"
ROTATIONS = {
    # secret: (its variable, its SSM parameter, the flow that needs it, rotate it in the system, refusals counted there)
    "Wave token": ("WAVE_TOKEN", "/shopwave/wave-token", "customer_to_wave", NEW_WAVE_TOKEN,
                   lambda stack: stack.wave.rotate_token(NEW_WAVE_TOKEN), lambda stack: stack.wave.refused_tokens),
    "webshop key": ("WEBSHOP_API_KEY", "/shopwave/webshop-api-key", "customer_to_wave", NEW_SHOP_KEY,
                    lambda stack: stack.shop.rotate_key(NEW_SHOP_KEY), lambda stack: stack.shop.refused_keys),
}


@pytest.fixture
def secret_in_ssm(stack, monkeypatch, request):
    """The secret lives in SSM (as deployed); one sweep has run, so this process has it cached."""
    variable, parameter, flow, _, _, _ = ROTATIONS[request.param]
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name=parameter, Value=os.environ[variable], Type="SecureString")
    monkeypatch.delenv(variable)
    monkeypatch.setenv(f"{variable}_PARAM", parameter)
    fresh_process()
    stack.shop.create("customers", {**ADA, "email": "first@example.com"})
    assert stack.run(flow).created == 1
    return request.param


def rotate(stack, which: str) -> None:
    _, parameter, _, new_value, in_the_system, _ = ROTATIONS[which]
    boto3.client("ssm").put_parameter(Name=parameter, Value=new_value, Type="SecureString", Overwrite=True)
    in_the_system(stack)  # the old one is refused from now on


@pytest.mark.parametrize("secret_in_ssm", list(ROTATIONS), indirect=True)
def test_given_a_secret_rotated_in_ssm_and_in_the_system_when_the_cache_age_has_passed_then_the_same_process_syncs_with_the_new_one(
        stack, secret_in_ssm, logs):
    _, _, flow, new_value, _, refusals = ROTATIONS[secret_in_ssm]
    process = runtime.current()
    rotate(stack, secret_in_ssm)
    parameters.clear_caches()  # SECRET_MAX_AGE_SECONDS have passed: Powertools' cache has expired

    stack.shop.create("customers", {**ADA, "email": "second@example.com"})
    report = stack.run(flow)

    assert runtime.current() is process  # no new process, no cold start
    assert report.created == 1 and not report.failures and report.parked == 0
    assert refusals(stack) == 0  # the new secret went out at once
    logs.assert_no_secrets(new_value)


@pytest.mark.parametrize("secret_in_ssm", list(ROTATIONS), indirect=True)
def test_given_a_secret_rotated_in_ssm_and_in_the_system_when_the_cached_one_is_refused_then_it_is_read_afresh_at_once(
        stack, secret_in_ssm, logs):
    _, _, flow, new_value, _, refusals = ROTATIONS[secret_in_ssm]
    process = runtime.current()
    rotate(stack, secret_in_ssm)  # within the cache age: this process still holds the old one

    stack.shop.create("customers", {**ADA, "email": "second@example.com"})
    report = stack.run(flow)

    assert runtime.current() is process
    assert report.created == 1 and not report.failures and report.parked == 0
    assert refusals(stack) == 1  # one refusal of the cached secret, then the fresh one from SSM
    logs.assert_no_secrets(new_value)


def test_given_the_secret_read_per_request_when_it_is_within_its_max_age_then_ssm_is_not_asked_again(
        stack, monkeypatch, logs):
    """Per request through Powertools' cache: a sweep of many requests reads SSM at most once."""
    boto3.client("ssm").put_parameter(Name="/shopwave/wave-token", Value=os.environ["WAVE_TOKEN"], Type="SecureString")
    monkeypatch.delenv("WAVE_TOKEN")
    monkeypatch.setenv("WAVE_TOKEN_PARAM", "/shopwave/wave-token")
    fresh_process()
    for i in range(4):
        stack.shop.create("customers", {**ADA, "email": f"c{i}@example.com"})
    reads = []
    provider_get = parameters.SSMProvider._get

    def counted(self, name, **options):
        reads.append(name)
        return provider_get(self, name, **options)
    monkeypatch.setattr(parameters.SSMProvider, "_get", counted)

    report = stack.run("customer_to_wave")

    assert report.created == 4 and len(stack.wave.requests) >= 5
    assert reads == ["/shopwave/wave-token"]
