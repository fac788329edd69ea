"""Wires settings, clients, the state store and the engine together once per process."""
from __future__ import annotations

import os
from functools import lru_cache

from .clients.wave import WaveClient
from .clients.webshop import WebshopClient
from .config import Settings, secret
from .engine import Engine
from .engine.catalog import WaveCatalog, options_from_env
from .engine.sides import ShopSide, WaveSide
from .flows import flow_for
from .mapping import SHOP, WAVE
from .state import StateStore
from .state.models import bind


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        bind(settings.links_table, settings.state_table)
        self.wave = WaveClient(settings.wave_api_url, secret("WAVE_TOKEN"), settings.wave_business_id)
        self.webshop = WebshopClient(settings.webshop_api_url, secret("WEBSHOP_API_KEY"), page_size=settings.page_size)
        self.store = StateStore()
        options = options_from_env(os.environ)
        self.engine = Engine(self.store, {SHOP: ShopSide(self.webshop), WAVE: WaveSide(self.wave, options)},
                             flows=flow_for, catalog=WaveCatalog(self.wave, options, self.store), options=options)

    def calls(self) -> dict[str, int]:
        return {"wave": self.wave.calls.total, "webshop": self.webshop.calls.total}


@lru_cache(maxsize=1)
def current() -> Runtime:
    """The process's runtime, built on first use (not at import: cold starts stay light)."""
    return Runtime(Settings.from_env())
