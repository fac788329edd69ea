"""The configuration: one typed, frozen object read from the environment, each default written
once (shopwave/config.py), documented by README.md's table, and reaching what it configures."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from shopwave.config import REQUIRED, SECRET_MAX_AGE_SECONDS, SECRETS, Config, Options, optional_secret, secret
from shopwave.mapping.context import SyncContext
from shopwave.flows.orders import CreateOnly, DueDate
from shopwave.mapping import SHOP, WAVE

README = Path(__file__).resolve().parents[2] / "README.md"
NEEDED = {"WAVE_BUSINESS_ID": "QnVzaW5lc3M6abc", "WEBSHOP_API_URL": "https://shop.example/api/v1",
          "LINKS_TABLE": "links", "STATE_TABLE": "state"}


def readme_rows() -> dict[str, str]:
    """Each variable named in the README's configuration table -> its row."""
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            names, meaning = line.split(" | ", 1)
            for name in re.findall(r"`([A-Z]+_[A-Z_]+)`", names):  # not the values (`DRAFT`)
                rows[name] = meaning
    return rows


def test_given_the_readme_table_when_compared_with_the_config_then_it_names_exactly_what_the_layer_reads():
    secrets = set(SECRETS) | {f"{name}_PARAM" for name in SECRETS}
    assert set(readme_rows()) == set(Config.variables()) | secrets


@pytest.mark.parametrize("name, default", [(n, d) for n, d in Config.variables().items()
                                           if d is not REQUIRED and d not in (None, False) and d != {}])
def test_given_a_default_when_the_readme_row_is_read_then_it_states_the_same_default(name, default):
    shown = f"{default:g}" if isinstance(default, (int, float)) else str(default)
    assert re.search(rf"(?<![\w.]){re.escape(shown)}(?![\w.])", readme_rows()[name]), (name, shown)


def test_given_only_the_required_settings_when_read_then_every_other_value_is_its_one_default():
    config = Config.from_env(NEEDED)
    assert (config.wave.business_id, config.tables.links) == ("QnVzaW5lc3M6abc", "links")
    assert config.sync.page_size == 100 and config.http.read_timeout == 30.0 and config.sync.park_max_attempts == 10
    assert config.options == Options() and config.options.invoice_status == "DRAFT"
    assert config.options.payment_terms_days == 30 and config.options.sales_tax_map == {}
    assert Config.from_env({**NEEDED, "SYNC_PAGE_SIZE": "", "INVOICE_TITLE": ""}) == config  # empty is unset


def test_given_values_when_read_then_they_are_typed_and_the_object_is_frozen():
    config = Config.from_env({**NEEDED, "SYNC_PAGE_SIZE": "25", "CLAIM_LEASE_SECONDS": "1.5", "INVOICE_STATUS": "saved",
                              "INVOICE_APPROVE": "yes", "SALES_TAX_MAP": '{"0.130": "HST", "0.05": "GST"}',
                              "WAVE_INCOME_ACCOUNT_ID": "acc-1", "PAYMENT_TERMS_DAYS": "14"})
    assert config.sync.page_size == 25 and config.sync.claim_lease == 1.5
    assert config.options.invoice_status == "SAVED" and config.options.invoice_approve is True
    assert dict(config.options.sales_tax_map) == {"0.13": "HST", "0.05": "GST"}  # canonical rates
    assert config.options.income_account_id == "acc-1" and config.options.payment_terms_days == 14
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.sync.page_size = 3
    with pytest.raises(TypeError):
        config.options.sales_tax_map["0.2"] = "X"


@pytest.mark.parametrize("name, value", [("SYNC_PAGE_SIZE", "0"), ("SYNC_PAGE_SIZE", "201"), ("SYNC_PAGE_SIZE", "ten"),
                                         ("INVOICE_STATUS", "SENT"), ("SALES_TAX_MAP", "[1]"),
                                         ("SALES_TAX_MAP", "{not json"), ("PARK_MAX_ATTEMPTS", "2.5")])
def test_given_an_unusable_value_when_read_then_it_fails_naming_the_variable(name, value):
    with pytest.raises(RuntimeError, match=rf"setting {name}="):
        Config.from_env({**NEEDED, name: value})


@pytest.mark.parametrize("missing", list(NEEDED))
def test_given_a_required_setting_missing_when_read_then_it_fails_naming_it(missing):
    with pytest.raises(RuntimeError, match=f"missing setting {missing}$"):
        Config.from_env({k: v for k, v in NEEDED.items() if k != missing})


def test_given_secrets_in_ssm_when_read_then_powertools_parameters_fetches_them_lazily_with_the_readme_max_age(monkeypatch):
    from aws_lambda_powertools.utilities import parameters

    fetched = []
    monkeypatch.setattr(parameters, "get_parameter", lambda name, **options: fetched.append((name, options)) or "s3cret")
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_PARAM", raising=False)
    monkeypatch.setenv("WAVE_TOKEN_PARAM", "/shopwave/wave-token")
    monkeypatch.setenv("WEBHOOK_SECRET_PREVIOUS_PARAM", "")  # empty: none

    Config.from_env(NEEDED)
    assert fetched == []  # reading the configuration reads no secret
    assert secret("WAVE_TOKEN") == "s3cret" and optional_secret("WEBHOOK_SECRET_PREVIOUS") is None
    assert fetched == [("/shopwave/wave-token", {"decrypt": True, "max_age": SECRET_MAX_AGE_SECONDS, "force_fetch": False})]
    assert secret("WAVE_TOKEN", fresh=True) == "s3cret"  # read past the cache: the system refused the cached one
    assert fetched[-1] == ("/shopwave/wave-token", {"decrypt": True, "max_age": SECRET_MAX_AGE_SECONDS, "force_fetch": True})
    assert SECRET_MAX_AGE_SECONDS == 5 * 60 and "cached 5 minutes" in readme_rows()["WAVE_TOKEN_PARAM"]
    with pytest.raises(RuntimeError, match="missing setting WEBSHOP_API_KEY_PARAM"):
        secret("WEBSHOP_API_KEY")


# ------------------------------------------------------------------ what the settings reach
def test_given_sync_page_size_when_the_runtime_is_built_then_both_clients_page_by_it(monkeypatch):
    from shopwave.runtime import Runtime

    monkeypatch.setenv("WAVE_TOKEN", "t")
    monkeypatch.setenv("WEBSHOP_API_KEY", "k")
    runtime = Runtime(Config.from_env({**NEEDED, "SYNC_PAGE_SIZE": "7"}))
    assert runtime.wave.page_size == runtime.webshop.page_size == 7


class RecordingWave:
    """A Wave client that answers every list query with an empty page and keeps the variables."""
    business_id = "b"

    def __init__(self, page_size: int):
        self.page_size, self.variables = page_size, []

    def query(self, document, variables):
        self.variables.append(variables)
        return {"business": {"customers": {"edges": []}}}


class RecordingShop:
    def __init__(self, page_size: int):
        self.page_size, self.limits = page_size, []

    def list_page(self, resource, *, updated_after=None, cursor=None, limit=None):
        self.limits.append(limit or self.page_size)
        return [], None

    def iter_changed(self, resource, updated_after, page_size=None):
        from shopwave.webshop.client import WebshopClient

        return WebshopClient.iter_changed(self, resource, updated_after, page_size)


@pytest.mark.parametrize("flow_page_size, expected", [(None, 7), (2, 2)])
def test_given_a_page_size_when_either_side_reads_pages_then_it_asks_for_that_many(flow_page_size, expected):
    from shopwave.wave.side import WaveSide
    from shopwave.webshop.side import ShopSide
    from shopwave.flows.customers import CUSTOMER

    wave, shop = RecordingWave(7), RecordingShop(7)
    list(WaveSide(wave).pages(CUSTOMER, "", None, flow_page_size))
    list(ShopSide(shop).pages(CUSTOMER, "", None, flow_page_size))
    assert [v["pageSize"] for v in wave.variables] == [expected] and shop.limits == [expected]


def test_given_invoice_options_when_an_order_is_written_to_wave_then_the_typed_options_decide_it():
    options = Options.from_env({"INVOICE_STATUS": "SAVED", "INVOICE_APPROVE": "true", "INVOICE_TITLE": "Shop order {number}",
                                "PAYMENT_TERMS_DAYS": "10"})
    ctx = SyncContext(store=None, options=options)
    invoice = CreateOnly().write(WAVE, None, {"number": "1042"}, ctx)
    assert invoice == {"title": "Shop order 1042", "status": "SAVED", "@approve": True}
    due = DueDate().read(SHOP, {"order_date": "2026-01-30"}, {}, ctx)
    assert due == "2026-02-09"
    assert SyncContext(store=None).options == Options()  # no options given: the defaults
