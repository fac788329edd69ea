"""Wires the configuration, clients, the state store and the engine together once per process."""
from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from .config import Config, secret_reader
from .engine import Engine
from .wave.catalog import WaveCatalog
from .wave.client import WaveClient
from .wave.side import WaveSide
from .webshop.client import WebshopClient
from .webshop.side import ShopSide
from .flows import flow_for
from .mapping import SHOP, WAVE
from .state import StateStore
from .state.budget import SharedBudget
from .state.models import bind


class Runtime:
    def __init__(self, config: Config):
        self.config = config
        bind(config.tables.links, config.tables.state)
        http = {"timeout": (5, config.http.read_timeout), "backoff_factor": config.http.backoff_factor}
        wave = config.wave
        # a slot's lease outlives one attempt (connect + read timeout) by a margin
        self.budget = (SharedBudget("wave", max_concurrency=wave.max_concurrency, max_rps=wave.max_rps,
                                    lease=5 + config.http.read_timeout + 15)
                       if wave.max_concurrency or wave.max_rps else None)
        self.wave = WaveClient(wave.api_url, secret_reader("WAVE_TOKEN"), wave.business_id, budget=self.budget,
                               max_rps=wave.max_rps, page_size=config.sync.page_size, **http)
        self.webshop = WebshopClient(config.webshop.api_url, secret_reader("WEBSHOP_API_KEY"), max_rps=config.webshop.max_rps,
                                     page_size=config.sync.page_size, **http)
        sync, options = config.sync, config.options
        self.store = StateStore(park_backoff=timedelta(seconds=sync.park_backoff), park_max_attempts=sync.park_max_attempts)
        self.engine = Engine(self.store, {SHOP: ShopSide(self.webshop), WAVE: WaveSide(self.wave, options, timedelta(seconds=config.wave.sweep_overlap))},
                             flows=flow_for, catalog=WaveCatalog(self.wave, options, self.store), options=options,
                             claim_lease=timedelta(seconds=sync.claim_lease), claim_wait=sync.claim_wait,
                             sweep_lease=timedelta(seconds=sync.sweep_lease), concurrency=sync.concurrency,
                             reconcile_page_size=sync.reconcile_page_size)

    def calls(self) -> dict[str, float]:
        """The clients' counters so far: API calls to each system, Wave's 429s and the seconds
        spent waiting for Wave (retries and their backoff included). A run reports the difference."""
        wave, webshop = self.wave.calls, self.webshop.calls
        return {"wave_calls": wave.total, "webshop_calls": webshop.total, "wave_throttled": wave.throttled,
                "wave_seconds": wave.seconds, "budget_calls": self.budget.calls if self.budget else 0}


@lru_cache(maxsize=1)
def current() -> Runtime:
    """The process's runtime, built on first use (not at import: cold starts stay light). The
    configuration is read here, once per process."""
    return Runtime(Config.from_env())
