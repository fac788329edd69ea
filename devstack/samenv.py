"""The local stack for `sam local invoke` (not deployed): `python3 dev.py sam-env`.

Starts moto's server (DynamoDB and SSM), the Wave sandbox and the webshop sandbox where a
Lambda container can reach them (bound to 0.0.0.0 by default), creates the template's tables,
puts the three secrets into moto's parameter store under the template's default parameter
names, seeds the sample records, and writes

    .devstack/sam-env.json     {"Parameters": {...}} for `sam local invoke --env-vars`: table
                               names, the sandboxes' URLs and moto's endpoint as a container
                               sees them (http://host.docker.internal:PORT)
    .devstack/events/          webhook events for records that exist in the sandbox, signed now
                               (re-sign later: python3 dev.py sign-events .devstack/events)

then keeps running until Ctrl-C. In another shell:

    sam build
    sam local invoke CustomerToWaveFunction -e events/schedule.json --env-vars .devstack/sam-env.json
    sam local invoke CustomerToWaveFunction -e .devstack/events/webhook_customer.json --env-vars .devstack/sam-env.json

On Linux Docker has no host.docker.internal unless asked: add
`--add-host host.docker.internal:host-gateway` to `sam local invoke`, or give `--container-host`
the docker0 address (e.g. 172.17.0.1).
"""
from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import boto3
from moto.server import ThreadedMotoServer

from devstack.template import (DEFAULT_TABLE_PREFIX, ROOT, create_tables, dynamodb_table_specs, load_template,
                               parameter_values)
from devstack.flow_deployment import FlowFunction, flow_functions
from devstack.wave_sandbox import WaveSandbox
from devstack.webshop_sandbox import WebshopSandbox
from shopwave.flows import FLOWS

log = logging.getLogger("devstack.samenv")

CONTAINER_HOST = "host.docker.internal"
# Fixed ports by default, so a written file stays valid across restarts (0: any free port).
DEFAULT_PORTS = {"moto": 5005, "wave": 8766, "shop": 8765}
# A fixed business id (Wave's form: base64 of "Business:<uuid>"), so the file stays valid across restarts.
BUSINESS_ID = base64.b64encode(b"Business:00000000-0000-4000-8000-00000000c0de").decode()
WAVE_PATH, SHOP_PATH = "/graphql/public", "/api/v1"
# The secret the files in events/ are signed with (events/README.md): the sandbox uses it too.
WEBHOOK_SECRET = "whsec_local_test"
FAKE_AWS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
# Variables that point boto3 at moto; template.yaml declares them (empty in AWS: the real endpoints).
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SSM")
SECRET_PARAMETERS = {"WaveTokenParameterName": "wave", "WebshopApiKeyParameterName": "shop_key",
                     "WebhookSecretParameterName": "webhook_secret"}


def webhook_functions() -> dict[str, FlowFunction]:
    """{webshop resource: the function of the flow taking its webhooks}, from the flows' registry."""
    return {f.webhook_route.rsplit("/", 1)[1]: f for f in flow_functions(FLOWS).values() if f.webhook_route}


def default_region() -> str:
    """The region `sam local invoke` will hand the container (the caller's AWS configuration)."""
    return boto3.session.Session().region_name or "us-east-1"


def as_seen_from(url: str, host: str) -> str:
    """`url` with its host replaced (how a container reaches a service bound on this machine)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}"))


@dataclass
class SamEnv:
    bind: str = "0.0.0.0"
    container_host: str = CONTAINER_HOST
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    region: str = field(default_factory=default_region)
    data_dir: Path = ROOT / ".devstack"
    seed: bool = True
    wave: WaveSandbox | None = None
    shop: WebshopSandbox | None = None
    moto: ThreadedMotoServer | None = None
    moto_url: str = ""
    tables: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "SamEnv":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "SamEnv":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        template = load_template()
        self.moto = ThreadedMotoServer(ip_address=self.bind, port=self.ports["moto"], verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        self.moto_url = f"http://{self._local(host)}:{port}"
        session = boto3.session.Session(region_name=self.region, aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
                                        aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"])
        self.tables = create_tables(session.client("dynamodb", endpoint_url=self.moto_url), template)
        self.wave = WaveSandbox(business_id=BUSINESS_ID)
        self.wave.start(port=self.ports["wave"], host=self.bind)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        db_path = self.data_dir / "sam-env-webshop.sqlite"
        db_path.unlink(missing_ok=True)  # a fresh shop every start
        self.shop = WebshopSandbox(db_path=str(db_path), webhook_secret=WEBHOOK_SECRET)
        self.shop.start(port=self.ports["shop"], host=self.bind)
        ssm = session.client("ssm", endpoint_url=self.moto_url)
        secrets = {"wave": self.wave.token, "shop_key": self.shop.api_key, "webhook_secret": self.shop.webhook_secret}
        names = parameter_values(template)
        for parameter, which in SECRET_PARAMETERS.items():
            ssm.put_parameter(Name=names[parameter], Value=secrets[which], Type="SecureString", Overwrite=True)
        if self.seed:
            from devstack.seed import seed_all

            seed_all(self.shop, self.wave)
        return self

    def stop(self) -> None:
        for sandbox in (self.shop, self.wave):
            if sandbox:
                sandbox.stop()
        if self.moto:
            self.moto.stop()
            self.moto = None

    def _local(self, host: str) -> str:
        """An address this machine can use for a service bound on `host`."""
        return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host

    # ------------------------------------------------------------------ what a container needs
    def url(self, url: str) -> str:
        return as_seen_from(url, self.container_host)

    def env_vars(self) -> dict:
        """The `--env-vars` document for the running services."""
        ports = {"moto": urlsplit(self.moto_url).port, "wave": urlsplit(self.wave.url).port,
                 "shop": urlsplit(self.shop.base_url).port}
        document = env_vars_document(self.container_host, ports, self.wave.business_id)
        document["Parameters"].update(self.tables)
        return document

    def write(self, path: Path | None = None) -> Path:
        path = Path(path or self.data_dir / "sam-env.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.env_vars(), indent=2) + "\n", encoding="utf-8")
        return path

    def webhook_events(self, folder: Path | None = None) -> dict[str, Path]:
        """events/webhook_*.json pointed at the first record of each kind in the sandbox, signed now."""
        from devstack.sign_events import retarget, sign_event

        folder = Path(folder or self.data_dir / "events")
        folder.mkdir(parents=True, exist_ok=True)
        written = {}
        for resource, function in webhook_functions().items():
            name = function.webhook_event_file
            records = self.shop.all(resource) if resource in self.shop.resources else []
            if not records:
                continue
            event = json.loads((ROOT / "events" / name).read_text(encoding="utf-8"))
            event = sign_event(retarget(event, records[0]["id"]), self.shop.webhook_secret)
            written[resource] = folder / name
            written[resource].write_text(json.dumps(event, indent=2) + "\n", encoding="utf-8")
        return written


def env_vars_document(container_host: str = CONTAINER_HOST, ports: dict[str, int] | None = None,
                      business_id: str = BUSINESS_ID) -> dict:
    """The `--env-vars` document: one "Parameters" section (every function), names the template declares.
    With the defaults it is events/env.local.json, the file samconfig.toml gives `sam local invoke`."""
    ports = {**DEFAULT_PORTS, **(ports or {})}
    template = load_template()
    names = parameter_values(template)
    tables = {spec["env_var"]: DEFAULT_TABLE_PREFIX + spec["logical_id"] for spec in dynamodb_table_specs(template)}
    moto = f"http://{container_host}:{ports['moto']}"
    return {"Parameters": {
        **tables,
        "WAVE_API_URL": f"http://{container_host}:{ports['wave']}{WAVE_PATH}",
        "WAVE_BUSINESS_ID": business_id,
        "WEBSHOP_API_URL": f"http://{container_host}:{ports['shop']}{SHOP_PATH}",
        "WAVE_TOKEN_PARAM": names["WaveTokenParameterName"],
        "WEBSHOP_API_KEY_PARAM": names["WebshopApiKeyParameterName"],
        "WEBHOOK_SECRET_PARAM": names["WebhookSecretParameterName"],
        **{name: moto for name in ENDPOINT_VARIABLES},
    }}


def instructions(env: SamEnv, env_file: Path, events: dict[str, Path]) -> str:
    def rel(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    out = ["The local stack for `sam local invoke` is running (Ctrl-C stops it).",
           f"  DynamoDB + SSM (moto)  {env.moto_url}   tables and secrets created, region {env.region}",
           f"  Wave sandbox           {as_seen_from(env.wave.url, env._local(env.bind))}",
           f"  webshop sandbox        {as_seen_from(env.shop.base_url, env._local(env.bind))}   (API key {env.shop.api_key}, webhook secret {env.shop.webhook_secret})",
           f"  env-vars file          {rel(env_file)}   (endpoints as a container sees them: {env.container_host})",
           "", "In another shell:", "  sam build",
           f"  sam local invoke CustomerToWaveFunction -e events/schedule.json --env-vars {rel(env_file)}"]
    out += [f"  sam local invoke {function.function} -e {rel(events[resource])} --env-vars {rel(env_file)}"
            for resource, function in webhook_functions().items() if resource in events]
    out += [f"Webhook events expire after 5 minutes: python3 dev.py sign-events {rel(next(iter(events.values())).parent)}"
            if events else "",
            f"On Linux add --add-host {env.container_host}:host-gateway to sam local invoke (or start this with "
            "--container-host set to the docker0 address, e.g. 172.17.0.1)"
            if env.container_host == CONTAINER_HOST else ""]
    return "\n".join(line for line in out if line is not None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 dev.py sam-env", description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="0.0.0.0", help="address the services listen on (default 0.0.0.0)")
    parser.add_argument("--container-host", default=CONTAINER_HOST,
                        help=f"this machine's name as a container sees it (default {CONTAINER_HOST})")
    parser.add_argument("--region", default=None, help="region of the tables (default: your AWS configuration's, "
                                                        "the one sam local invoke passes on, else us-east-1)")
    for name, port in DEFAULT_PORTS.items():
        parser.add_argument(f"--{name}-port", type=int, default=port, help=f"default {port}; 0 = any free port")
    parser.add_argument("--out", default=None, help="env-vars file (default .devstack/sam-env.json)")
    parser.add_argument("--data-dir", default=str(ROOT / ".devstack"),
                        help="the webshop sandbox's SQLite file and the signed events/ (default .devstack)")
    parser.add_argument("--no-seed", action="store_true", help="start with empty sandboxes")
    parser.add_argument("--once", action="store_true", help="write the files and stop (for scripts and tests)")
    args = parser.parse_args(argv)
    os.environ.update({k: os.environ.get(k) or v for k, v in FAKE_AWS.items()})
    ports = {name: getattr(args, f"{name}_port") for name in DEFAULT_PORTS}
    with SamEnv(bind=args.bind, container_host=args.container_host, ports=ports,
                region=args.region or default_region(), data_dir=Path(args.data_dir), seed=not args.no_seed) as env:
        env_file = env.write(args.out)
        events = env.webhook_events()
        print(instructions(env, env_file, events), flush=True)
        if args.once:
            return 0
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\nstopping", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
