"""Settings from the environment. Secrets are given directly (WAVE_TOKEN, ... on a laptop) or
by the name of an SSM parameter (WAVE_TOKEN_PARAM, ... in AWS), fetched through Powertools
Parameters and cached. Secret values are never logged or put in a repr."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

SECRET_CACHE_SECONDS = 300


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise RuntimeError(f"missing setting {name}")
    return value


def secret(name: str) -> str:
    """`NAME` from the environment, else the SSM SecureString named by `NAME_PARAM`."""
    direct = os.environ.get(name)
    if direct:
        return direct
    from aws_lambda_powertools.utilities import parameters  # only where secrets live in SSM

    return parameters.get_parameter(_env(f"{name}_PARAM"), decrypt=True, max_age=SECRET_CACHE_SECONDS)


def optional_secret(name: str) -> str | None:
    """Like `secret`, but None where neither `NAME` nor `NAME_PARAM` is set (empty counts as unset)."""
    if not (os.environ.get(name) or os.environ.get(f"{name}_PARAM")):
        return None
    return secret(name)


@dataclass(frozen=True)
class Settings:
    wave_api_url: str
    wave_business_id: str
    webshop_api_url: str
    links_table: str
    state_table: str
    idempotency_table: str
    page_size: int = 100
    options: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            wave_api_url=_env("WAVE_API_URL", "https://gql.waveapps.com/graphql/public"),
            wave_business_id=_env("WAVE_BUSINESS_ID"),
            webshop_api_url=_env("WEBSHOP_API_URL"),
            links_table=_env("LINKS_TABLE"),
            state_table=_env("STATE_TABLE"),
            idempotency_table=_env("IDEMPOTENCY_TABLE", "shopwave-idempotency"),
            page_size=int(os.environ.get("SYNC_PAGE_SIZE", "100")),
        )
