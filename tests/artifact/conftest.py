"""The deployed artifact under test: tool venvs under .devstack/venvs (made once, cached), one
`sam validate --lint` + `sam build` per session, and the services of `python3 dev.py sam-env`
on loopback (no Docker here: the built handlers run in a clean python3.12 instead of a container)."""
from __future__ import annotations

import json
import time

import pytest

from devstack import artifact
from devstack.samenv import SamEnv

TIMINGS: dict[str, float] = {}


def timed(name: str, action):
    started = time.perf_counter()
    try:
        return action()
    finally:
        TIMINGS[name] = round(time.perf_counter() - started, 1)


@pytest.fixture(scope="session")
def tools() -> None:
    """aws-sam-cli, checkov and the Lambda runtime's boto3/botocore, each in a venv of its own."""
    timed("venvs", artifact.ensure_all)


@pytest.fixture(scope="session")
def validated(tools) -> str:
    return timed("sam validate --lint", artifact.validate).stdout


@pytest.fixture(scope="session")
def built(validated):
    """.aws-sam/build, as `sam build` leaves it (after `sam validate --lint` passed)."""
    return timed("sam build", artifact.build)


@pytest.fixture(scope="module")
def sam_env(tmp_path_factory):
    """moto (DynamoDB + SSM), both sandboxes seeded, and the env-vars file `sam local invoke` would take;
    the endpoints in it are this machine's loopback, where a container would see host.docker.internal."""
    data_dir = tmp_path_factory.mktemp("sam-env")
    with SamEnv(bind="127.0.0.1", container_host="127.0.0.1", ports={"moto": 0, "wave": 0, "shop": 0},
                region="us-east-1", data_dir=data_dir) as env:
        env_file = env.write()
        yield env, json.loads(env_file.read_text())


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_line("artifact timings (s): " + ", ".join(f"{k} {v}" for k, v in TIMINGS.items()))
