"""Wires settings, clients, the state store and the engine together once per process."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from .wave.client import WaveClient
from .webshop.client import WebshopClient
from .config import Settings, secret
from .engine import Engine
from .wave.catalog import WaveCatalog, options_from_env
from .wave.side import WaveSide
from .webshop.side import ShopSide
from .flows import flow_for
from .mapping import SHOP, WAVE
from .state import StateStore
from .state.models import bind


@dataclass(frozen=True)
class Tuning:
    """Timings an operator rarely changes (and the chaos suite shrinks), from the environment."""
    read_timeout: float = 30.0
    backoff_factor: float = 0.25
    claim_lease: float = 60.0
    claim_wait: float = 10.0
    sweep_lease: float = 900.0
    park_backoff: float = 60.0
    park_max_attempts: int = 10
    concurrency: int = 1  # records of a page written at once
    wave_max_rps: float = 0.0  # 0: no client-side limit (429s are still honoured)
    webshop_max_rps: float = 0.0

    @classmethod
    def from_env(cls, environ) -> "Tuning":
        names = {"read_timeout": "HTTP_READ_TIMEOUT_SECONDS", "backoff_factor": "HTTP_BACKOFF_FACTOR",
                 "claim_lease": "CLAIM_LEASE_SECONDS", "claim_wait": "CLAIM_WAIT_SECONDS",
                 "sweep_lease": "SWEEP_LEASE_SECONDS", "park_backoff": "PARK_BACKOFF_SECONDS",
                 "park_max_attempts": "PARK_MAX_ATTEMPTS", "concurrency": "SYNC_CONCURRENCY",
                 "wave_max_rps": "WAVE_MAX_RPS", "webshop_max_rps": "WEBSHOP_MAX_RPS"}
        given = {field: type(getattr(cls, field))(environ[name]) for field, name in names.items() if environ.get(name)}
        return cls(**given)


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        bind(settings.links_table, settings.state_table)
        tuning = Tuning.from_env(os.environ)
        http = {"timeout": (5, tuning.read_timeout), "backoff_factor": tuning.backoff_factor}
        self.wave = WaveClient(settings.wave_api_url, secret("WAVE_TOKEN"), settings.wave_business_id,
                               max_rps=tuning.wave_max_rps, **http)
        self.webshop = WebshopClient(settings.webshop_api_url, secret("WEBSHOP_API_KEY"), page_size=settings.page_size,
                                     max_rps=tuning.webshop_max_rps, **http)
        self.store = StateStore(park_backoff=timedelta(seconds=tuning.park_backoff), park_max_attempts=tuning.park_max_attempts)
        options = options_from_env(os.environ)
        self.engine = Engine(self.store, {SHOP: ShopSide(self.webshop), WAVE: WaveSide(self.wave, options)},
                             flows=flow_for, catalog=WaveCatalog(self.wave, options, self.store), options=options,
                             claim_lease=timedelta(seconds=tuning.claim_lease), claim_wait=tuning.claim_wait,
                             sweep_lease=timedelta(seconds=tuning.sweep_lease), concurrency=tuning.concurrency)

    def calls(self) -> dict[str, int]:
        return {"wave": self.wave.calls.total, "webshop": self.webshop.calls.total}


@lru_cache(maxsize=1)
def current() -> Runtime:
    """The process's runtime, built on first use (not at import: cold starts stay light)."""
    return Runtime(Settings.from_env())
