"""The whole stack on one machine, no AWS account: for the demo, `serve` and tests.

    with LocalStack(data_dir=".devstack") as stack:
        stack.run("CustomerToWaveFunction")       # fire one schedule -> the handler's report dict
        stack.sandboxes.shop.create("customers", {...})

- DynamoDB: moto's threaded server on a loopback port, tables built from template.yaml.
- Wave / webshop: the real systems when their URL and credentials are given (arguments or
  WAVE_API_URL + WAVE_TOKEN + WAVE_BUSINESS_ID, WEBSHOP_API_URL + WEBSHOP_API_KEY [+ WEBHOOK_SECRET]),
  else the sandboxes on loopback ports.
- The functions: devstack.gateway.LocalGateway over template.yaml, its HTTP server on a loopback
  port; the webshop sandbox posts its webhooks to the gateway's routes.
"""
from __future__ import annotations

import logging
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from devstack import environ
from devstack.gateway import LocalGateway
from devstack.template import create_tables, load_template
from devstack.wave_sandbox import WaveSandbox
from devstack.webshop_sandbox import WebshopSandbox
from devstack.webshop_sandbox.webhooks import AutoDeliverer

log = logging.getLogger("devstack.localstack")

FAKE_AWS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}
WEBHOOK_PREFIX = "/webhooks/"


@dataclass
class Sandboxes:
    wave: WaveSandbox | None = None
    shop: WebshopSandbox | None = None


class RecordingGateway(LocalGateway):
    """A LocalGateway that remembers what each HTTP (webhook) invocation answered."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.http_results: deque[tuple[str, Any]] = deque(maxlen=10_000)  # (logical id, proxy response)

    def invoke(self, logical_id, event, context=None):
        result = super().invoke(logical_id, event, context)
        if "httpMethod" in event:
            self.http_results.append((logical_id, result))
        return result


def _given(value: str | None, env_name: str) -> str | None:
    return value if value is not None else (os.environ.get(env_name) or None)


class LocalStack:
    def __init__(self, *, wave_url=None, wave_token=None, wave_business_id=None, shop_url=None, shop_key=None,
                 webhook_secret=None, data_dir=".devstack", flows=None, extra_env: dict[str, str] | None = None):
        """`flows`: function logical ids to run (default: every function with a schedule).
        `extra_env`: laid over the functions' environment (e.g. POWERTOOLS_LOG_LEVEL)."""
        self.wave_config = (_given(wave_url, "WAVE_API_URL"), _given(wave_token, "WAVE_TOKEN"),
                            _given(wave_business_id, "WAVE_BUSINESS_ID"))
        self.shop_config = (_given(shop_url, "WEBSHOP_API_URL"), _given(shop_key, "WEBSHOP_API_KEY"),
                            _given(webhook_secret, "WEBHOOK_SECRET"))
        self.data_dir = Path(data_dir)
        self.only = list(flows) if flows else None
        self.extra_env = dict(extra_env or {})
        self.template = load_template()
        self.sandboxes = Sandboxes()
        self.env: dict[str, str] = {}
        self.gateway: RecordingGateway | None = None
        self.moto: ThreadedMotoServer | None = None
        self._deliverer: AutoDeliverer | None = None
        self._saved_environ: dict[str, str | None] = {}

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "LocalStack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "LocalStack":
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request lines
        self.env.update(self._start_dynamodb())
        self.env.update(self._start_wave())
        self.env.update(self._start_shop())
        self.gateway = RecordingGateway(self.template, env={**self.env, **self.extra_env})
        self.gateway.start()
        if self.sandboxes.shop:
            self.sandboxes.shop.set_webhook_urls(self.webhook_urls())
        _reset_runtime_caches()
        log.info("local stack up: gateway %s", self.gateway.url)

    def stop(self) -> None:
        if self._deliverer:
            self._deliverer.stop()
            self._deliverer = None
        if self.gateway:
            self.gateway.stop()
            self.gateway = None
        for sandbox in (self.sandboxes.shop, self.sandboxes.wave):
            if sandbox:
                sandbox.stop()
        if self.moto:
            self.moto.stop()
            self.moto = None
        environ.restore(self._saved_environ)
        _reset_runtime_caches()

    def _setenv(self, name: str, value: str) -> None:
        self._saved_environ.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    # ------------------------------------------------------------------ parts
    def _start_dynamodb(self) -> dict[str, str]:
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        self._setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        aws = {name: os.environ.get(name) or value for name, value in FAKE_AWS.items()}
        for name, value in aws.items():
            self._setenv(name, value)
        tables = create_tables(boto3.client("dynamodb", endpoint_url=endpoint, region_name=aws["AWS_DEFAULT_REGION"]),
                               self.template)
        return {"AWS_ENDPOINT_URL_DYNAMODB": endpoint, **aws, **tables}

    def _start_wave(self) -> dict[str, str]:
        url, token, business_id = self.wave_config
        if not (url and token and business_id):
            wave = self.sandboxes.wave = WaveSandbox()
            url, token, business_id = wave.start(), wave.token, wave.business_id
        return {"WAVE_API_URL": url, "WAVE_TOKEN": token, "WAVE_BUSINESS_ID": business_id}

    def _start_shop(self) -> dict[str, str]:
        url, key, secret = self.shop_config
        if not (url and key):
            self.data_dir.mkdir(parents=True, exist_ok=True)
            db_path = self.data_dir / "webshop.sqlite"
            db_path.unlink(missing_ok=True)  # a fresh shop every run
            shop = self.sandboxes.shop = WebshopSandbox(db_path=str(db_path))
            url, key, secret = shop.start(), shop.api_key, shop.webhook_secret
        return {"WEBSHOP_API_URL": url, "WEBSHOP_API_KEY": key, "WEBHOOK_SECRET": secret or ""}

    # ------------------------------------------------------------------ using it
    @property
    def url(self) -> str | None:
        return self.gateway.url if self.gateway else None

    def webhook_urls(self) -> dict[str, str]:
        """{resource: gateway URL} for every /webhooks/{resource} route of the template."""
        urls = {}
        for spec in self.gateway.specs.values():
            for _method, path in spec.routes:
                if path.startswith(WEBHOOK_PREFIX):
                    resource = path[len(WEBHOOK_PREFIX):]
                    urls[resource] = self.gateway.webhook_url(resource)
        return urls

    def flow_functions(self) -> list[str]:
        """Logical ids of the functions with a schedule, in template order."""
        ids = [spec.logical_id for spec in self.gateway.specs.values() if spec.schedules]
        return [i for i in ids if self.only is None or i in self.only]

    def run(self, function_logical_id: str) -> dict:
        """Fire that function's schedule now; the handler's report (Report.as_dict())."""
        return self.gateway.fire_schedule(function_logical_id)

    def start_background(self, interval: float, webhook_interval: float = 1.0) -> None:
        """Keep it running: every schedule every `interval` seconds, webhooks delivered as they come."""
        selected = self.flow_functions()
        for logical_id, spec in self.gateway.specs.items():
            if spec.schedules:  # functions left out by `flows` wait "forever" (until stop)
                self.gateway.schedule_overrides[logical_id] = interval if logical_id in selected else 1e9
        self.gateway.start_schedules()
        if self.sandboxes.shop:
            self._deliverer = AutoDeliverer(self.sandboxes.shop.deliver_webhooks, webhook_interval)


def _reset_runtime_caches() -> None:
    """The layer builds its clients once per process: rebuild them for this stack's settings."""
    from shopwave import idempotency, runtime

    runtime.current.cache_clear()
    idempotency._handled_once.cache_clear()
