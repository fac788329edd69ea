"""The built artifact run as Lambda runs it: every function of .aws-sam/build imported in a fresh
python3.12 holding only the runtime's boto3/botocore (PYTHONPATH: the function's folder, then the
layer's python folder, like /var/task and /opt/python), against moto's server and both sandboxes,
configured only by the env-vars file `python3 dev.py sam-env` writes for `sam local invoke`.

Each invocation is its own process, a cold start, as `sam local invoke` makes it."""
from __future__ import annotations

import json
import uuid

import pytest

from devstack import artifact
from devstack.seed import SHOP_CUSTOMERS, SHOP_PRODUCTS, WAVE_CUSTOMERS
from devstack.sign_events import retarget, sign_event
from devstack.template import ROOT, functions, load_template

SCHEDULE_EVENT = json.loads((ROOT / "events" / "schedule.json").read_text())
SCHEDULED = [spec.logical_id for spec in functions(load_template()) if spec.schedules]
WEBHOOK_FUNCTIONS = {spec.logical_id: spec.routes[0][1] for spec in functions(load_template()) if spec.routes}


def check_clean_run(answer: dict) -> dict:
    """The invocation succeeded, in python3.12, with the project's code from the build only."""
    assert "error" not in answer, json.dumps(answer["error"], indent=2) + answer["stderr"][-3000:]
    assert answer["python"].startswith(artifact.LAMBDA_PYTHON + ".")
    modules = answer["modules"]
    assert modules["app"] and modules["shopwave"] and modules["botocore"], modules
    for name in ("app", "shopwave", "pynamodb", "aws_lambda_powertools", "requests"):  # those it imported
        assert modules[name] is None or modules[name].startswith(str(artifact.BUILD_DIR)), (name, modules[name])
    for name in ("boto3", "botocore"):
        assert modules[name] is None or modules[name].startswith(str(artifact.LAMBDA.path)), (name, modules[name])
    assert modules["devstack"] is modules["moto"] is modules["pytest"] is None
    return answer["result"]


def bytecode(build_dir) -> set[str]:
    return {str(path) for path in build_dir.rglob("*.pyc")}


@pytest.fixture(scope="module")
def bytecode_before(built) -> set[str]:
    return bytecode(built)


@pytest.fixture(scope="module")
def sweeps(built, sam_env, bytecode_before) -> dict[str, dict]:
    """events/schedule.json through every scheduled function, in template order (each one process)."""
    _env, env_vars = sam_env
    return {logical_id: artifact.invoke(logical_id, SCHEDULE_EVENT, env_vars=env_vars) for logical_id in SCHEDULED}


def test_given_the_template_when_listed_then_all_six_functions_are_scheduled_and_three_take_webhooks():
    assert len(SCHEDULED) == 6 and len(WEBHOOK_FUNCTIONS) == 3


@pytest.mark.parametrize("logical_id", SCHEDULED)
def test_given_the_build_when_a_schedule_event_runs_the_function_then_its_sweep_succeeds(sweeps, logical_id):
    report = check_clean_run(sweeps[logical_id])
    assert report["failures"] == [] and report["parked"] == 0 and not report["busy"], report
    assert report["read"] > 0, report


def test_given_the_sweeps_when_done_then_the_seeded_records_are_in_wave_and_the_webshop(sweeps, sam_env):
    env, _ = sam_env
    wave_emails = {(c["email"] or "").lower() for c in env.wave.customers()}
    assert {c["email"].lower() for c in SHOP_CUSTOMERS} <= wave_emails
    shop_emails = {(c["email"] or "").lower() for c in env.shop.all("customers")}
    assert {c["email"].lower() for c in WAVE_CUSTOMERS} <= shop_emails
    wave_products = {p["name"] for p in env.wave.products()}
    assert {p["name"] for p in SHOP_PRODUCTS if p.get("active", True)} <= wave_products
    invoiced = {i["invoiceNumber"] for i in env.wave.invoices()}
    assert {o["number"] for o in env.shop.all("orders")} <= invoiced


def _new_record(shop, resource: str) -> tuple[dict, str]:
    """A record made after the sweeps, and what finds its counterpart in Wave."""
    tag = uuid.uuid4().hex[:6]
    if resource == "customers":
        record = shop.create("customers", {"email": f"webhook.{tag}@example.com", "first_name": "Webhook",
                                           "last_name": tag, "currency": "CAD"})
        return record, record["email"]
    if resource == "products":
        record = shop.create("products", {"sku": f"WH-{tag}", "name": f"Webhook Product {tag}", "price": "12.00",
                                          "currency": "CAD"})
        return record, record["name"]
    customer, product = shop.all("customers")[0], shop.all("products")[0]
    record = shop.create("orders", {"customer_id": customer["id"], "currency": "CAD", "order_date": "2026-11-20",
                                    "lines": [{"product_id": product["id"], "quantity": "1",
                                               "unit_price": product["price"], "tax_rate": "0.13"}]})
    return record, record["number"]


def _in_wave(wave, resource: str, key: str) -> bool:
    if resource == "customers":
        return any((c["email"] or "").lower() == key for c in wave.customers())
    if resource == "products":
        return any(p["name"] == key for p in wave.products())
    return any(i["invoiceNumber"] == key for i in wave.invoices())


@pytest.mark.parametrize("logical_id", sorted(WEBHOOK_FUNCTIONS))
def test_given_a_new_record_when_its_signed_webhook_runs_the_built_function_then_it_reaches_wave(
        sweeps, sam_env, logical_id):
    env, env_vars = sam_env
    resource = WEBHOOK_FUNCTIONS[logical_id].rsplit("/", 1)[1]
    record, key = _new_record(env.shop, resource)
    assert not _in_wave(env.wave, resource, key)
    sample = json.loads((ROOT / "events" / f"webhook_{resource[:-1]}.json").read_text())
    event = sign_event(retarget(sample, record["id"]), env.shop.webhook_secret)  # the secret moto's SSM holds
    response = check_clean_run(artifact.invoke(logical_id, event, env_vars=env_vars))
    assert response["statusCode"] == 200, response
    assert _in_wave(env.wave, resource, key)


def test_given_a_badly_signed_webhook_when_the_built_function_runs_then_it_answers_401(built, sam_env):
    env, env_vars = sam_env
    sample = json.loads((ROOT / "events" / "webhook_customer.json").read_text())
    event = sign_event(retarget(sample, env.shop.all("customers")[0]["id"]), "not-the-secret")
    response = check_clean_run(artifact.invoke("CustomerToWaveFunction", event, env_vars=env_vars))
    assert response["statusCode"] == 401, response


def test_given_the_runs_when_done_then_they_left_no_bytecode_in_the_build_that_sam_deploy_uploads(
        sweeps, built, bytecode_before):
    assert bytecode(built) == bytecode_before
