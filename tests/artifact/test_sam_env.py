"""`python3 dev.py sam-env` (the stack for `sam local invoke`) and `python3 dev.py sign-events`.
The built-artifact run (test_built_handlers.py) is what proves the written file syncs."""
from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from urllib.parse import urlsplit

import boto3
import pytest

from devstack.samenv import CONTAINER_HOST, ENDPOINT_VARIABLES, SamEnv, env_vars_document
from devstack.sign_events import resign_files
from devstack.template import ROOT, load_template, parameter_values

DECLARED = set(load_template()["Globals"]["Function"]["Environment"]["Variables"])


def verifies(event: dict, secret: str) -> bool:
    fields = dict(part.split("=", 1) for part in event["headers"]["Webshop-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.{event['body']}".encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(fields["v1"], expected) and event["multiValueHeaders"]["Webshop-Signature"] == [
        event["headers"]["Webshop-Signature"]]


@pytest.fixture(scope="module")
def default_env(tmp_path_factory):
    """sam-env as a Docker user starts it: every interface, endpoints named host.docker.internal."""
    with SamEnv(ports={"moto": 0, "wave": 0, "shop": 0}, region="us-east-1",
                data_dir=tmp_path_factory.mktemp("sam-env-default")) as env:
        yield env


def test_given_sam_env_when_it_writes_the_env_vars_file_then_sam_would_apply_every_variable(default_env):
    document = json.loads(default_env.write().read_text())
    assert list(document) == ["Parameters"]
    variables = document["Parameters"]
    assert set(variables) <= DECLARED  # sam local invoke ignores names the template does not declare
    assert set(ENDPOINT_VARIABLES) | {"LINKS_TABLE", "STATE_TABLE", "IDEMPOTENCY_TABLE", "WAVE_API_URL",
                                       "WEBSHOP_API_URL", "WAVE_BUSINESS_ID"} <= set(variables)
    for name in ("WAVE_API_URL", "WEBSHOP_API_URL", *ENDPOINT_VARIABLES):
        assert urlsplit(variables[name]).hostname == CONTAINER_HOST, (name, variables[name])
    ports = {"moto": default_env.moto.get_host_and_port()[1], "wave": urlsplit(default_env.wave.url).port,
             "shop": default_env.shop.port}
    assert document == env_vars_document(CONTAINER_HOST, ports)


def test_given_the_default_ports_when_the_document_is_made_then_it_is_events_env_local_json():
    """samconfig.toml hands events/env.local.json to `sam local invoke`: with sam-env's default ports it just works."""
    assert json.loads((ROOT / "events" / "env.local.json").read_text()) == env_vars_document()


def test_given_sam_env_when_started_then_its_services_listen_on_every_interface(default_env):
    assert default_env.moto.get_host_and_port()[0] == "0.0.0.0"
    assert default_env.shop._server.server_address[0] == default_env.wave._server.server_address[0] == "0.0.0.0"


def test_given_sam_env_when_started_then_moto_holds_the_tables_and_the_three_secrets(default_env):
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    tables = session.client("dynamodb", endpoint_url=default_env.moto_url).list_tables()["TableNames"]
    assert sorted(tables) == sorted(default_env.tables.values())
    ssm = session.client("ssm", endpoint_url=default_env.moto_url)
    names = parameter_values(load_template())
    secrets = {ssm.get_parameter(Name=names[p], WithDecryption=True)["Parameter"]["Value"]
               for p in ("WaveTokenParameterName", "WebshopApiKeyParameterName", "WebhookSecretParameterName")}
    assert secrets == {default_env.wave.token, default_env.shop.api_key, default_env.shop.webhook_secret}


def test_given_sam_env_when_it_writes_webhook_events_then_they_name_seeded_records_and_verify(default_env, tmp_path):
    written = default_env.webhook_events(tmp_path)
    assert set(written) == {"customers", "products", "orders"}
    for resource, path in written.items():
        event = json.loads(path.read_text())
        assert verifies(event, default_env.shop.webhook_secret)
        record_id = json.loads(event["body"])["data"]["id"]
        assert default_env.shop.get(resource, record_id)


def test_given_the_cli_with_once_when_run_then_it_writes_the_file_and_says_how_to_invoke(tmp_path):
    out = tmp_path / "env.json"
    done = subprocess.run([sys.executable, "-m", "devstack.samenv", "--once", "--out", str(out), "--moto-port", "0",
                           "--wave-port", "0", "--shop-port", "0", "--region", "us-east-1", "--data-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "sam local invoke CustomerToWaveFunction -e events/schedule.json --env-vars" in done.stdout
    assert set(json.loads(out.read_text())["Parameters"]) <= DECLARED
    assert sorted(p.name for p in (tmp_path / "events").iterdir()) == [
        "webhook_customer.json", "webhook_order.json", "webhook_product.json"]


def test_given_event_files_when_resigned_then_webhooks_verify_with_the_secret_and_keep_their_body(tmp_path):
    for name in ("webhook_customer.json", "webhook_order.json", "schedule.json", "env.local.json"):
        (tmp_path / name).write_text((ROOT / "events" / name).read_text())
    before = json.loads((tmp_path / "webhook_customer.json").read_text())
    done = resign_files([str(tmp_path)], secret="whsec_other", timestamp=1_800_000_000)
    assert sorted(p.name for p in done) == ["webhook_customer.json", "webhook_order.json"]
    after = json.loads((tmp_path / "webhook_customer.json").read_text())
    assert after["body"] == before["body"] and verifies(after, "whsec_other")
    assert after["headers"]["Webshop-Signature"].startswith("t=1800000000,")
    assert (tmp_path / "schedule.json").read_text() == (ROOT / "events" / "schedule.json").read_text()


def test_given_the_cli_when_it_resigns_a_file_then_it_names_it(tmp_path):
    target = tmp_path / "webhook_product.json"
    target.write_text((ROOT / "events" / "webhook_product.json").read_text())
    done = subprocess.run([sys.executable, "-m", "devstack.sign_events", str(target)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and f"signed {target}" in done.stdout, done.stderr
    assert verifies(json.loads(target.read_text()), "whsec_local_test")
