"""The deployment's configuration: one frozen, typed object, read from the environment once per
process (`runtime.current()` reads it when it builds the runtime on the first invocation), with
every variable's name and default written once, here. README.md's "Configuration" table is its
documentation; tests/unit/test_config.py keeps the two in agreement.

Secrets are not part of it: `secret` and `optional_secret` read them each time they are needed
(the clients on every request, through `secret_reader`), given directly (WAVE_TOKEN, ... on a
laptop) or by the name of an SSM SecureString (WAVE_TOKEN_PARAM, ... in AWS) through Powertools
Parameters, cached for SECRET_MAX_AGE_SECONDS: a rotated secret is picked up within that time
without a new process (at once when the system refuses the cached one). Secret values are never
logged or put in a repr.
"""
from __future__ import annotations

import json
import os
from dataclasses import MISSING, dataclass, field, fields
from types import MappingProxyType
from typing import Any, Callable, Mapping, Protocol

from .wave.limits import WAVE_MAX_PAGE_SIZE

SECRET_MAX_AGE_SECONDS = 300  # README: "cached 5 minutes"
WEBSHOP_MAX_PAGE_SIZE = 200  # the contract's `limit` (docs/CONTRACT.md)
REQUIRED = MISSING


# ------------------------------------------------------------------------------------ secrets
def secret(name: str, *, fresh: bool = False) -> str:
    """`NAME` from the environment, else the SSM SecureString named by `NAME_PARAM` (Powertools'
    cache, SECRET_MAX_AGE_SECONDS old at most; `fresh` reads past it)."""
    direct = os.environ.get(name)
    if direct:
        return direct
    parameter = os.environ.get(f"{name}_PARAM")
    if not parameter:
        raise RuntimeError(f"missing setting {name}_PARAM")
    from aws_lambda_powertools.utilities import parameters  # only where secrets live in SSM

    return parameters.get_parameter(parameter, decrypt=True, max_age=SECRET_MAX_AGE_SECONDS, force_fetch=fresh)


class SecretReader(Protocol):
    def __call__(self, fresh: bool = False) -> str: ...


def secret_reader(name: str) -> SecretReader:
    """What a client calls on every request for the secret `NAME` (see `secret`)."""

    def read(fresh: bool = False) -> str:
        return secret(name, fresh=fresh)

    read.__qualname__ = f"secret_reader({name!r})"  # a repr names the secret, never its value
    return read


def optional_secret(name: str) -> str | None:
    """Like `secret`, but None where neither `NAME` nor `NAME_PARAM` is set (empty counts as unset)."""
    if not (os.environ.get(name) or os.environ.get(f"{name}_PARAM")):
        return None
    return secret(name)


# ----------------------------------------------------------------------------------- settings
def setting(env: str, default: Any = REQUIRED, parse: Callable[[str], Any] | None = None) -> Any:
    """A field read from the environment variable `env`: its default (REQUIRED: none, the variable
    must be set), and how its text becomes the value (default: the type of the default)."""
    return field(default=default, metadata={"env": env, "parse": parse})


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes")


def _optional(text: str) -> str | None:
    return text or None


# SYNC_PAGE_SIZE is the page of either system, so the smaller maximum bounds it.
MAX_PAGE_SIZE = min(WEBSHOP_MAX_PAGE_SIZE, WAVE_MAX_PAGE_SIZE)


PAYMENT_METHODS = ("BANK_TRANSFER", "CASH", "CHEQUE", "CREDIT_CARD", "PAYPAL", "OTHER", "UNSPECIFIED")


def _payment_method(text: str) -> str:
    method = text.strip().upper()
    if method not in PAYMENT_METHODS:
        raise ValueError(f"must be one of {', '.join(PAYMENT_METHODS)} (Wave's InvoicePaymentMethod)")
    return method


def _page_size(text: str) -> int:
    size = int(text)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"must be 1 to {MAX_PAGE_SIZE}: it is the page size of both systems, and the webshop "
                         f"contract's limit and Wave's largest page are {WEBSHOP_MAX_PAGE_SIZE} and {WAVE_MAX_PAGE_SIZE}")
    return size


def _invoice_status(text: str) -> str:
    status = text.strip().upper()
    if status not in ("DRAFT", "SAVED"):
        raise ValueError("must be DRAFT or SAVED")
    return status


def _sales_tax_map(text: str) -> Mapping[str, str]:
    from .mapping import values  # canonical decimals: "0.130" and "0.13" are one rate

    given = json.loads(text)
    if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
        raise ValueError('must be a JSON object from a rate to a Wave sales tax, e.g. {"0.13": "HST"}')
    return MappingProxyType({values.decimal(rate): tax for rate, tax in given.items()})


class Section:
    """A group of settings; `from_env` reads each field's variable (empty counts as unset)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]):
        given = {}
        for f in fields(cls):  # type: ignore[arg-type]
            name, text = f.metadata["env"], environ.get(f.metadata["env"])
            if text is None or text == "":
                if f.default is REQUIRED:
                    raise RuntimeError(f"missing setting {name}")
                continue
            parse = f.metadata["parse"] or (str if f.default is REQUIRED else type(f.default))
            try:
                given[f.name] = parse(text)
            except ValueError as bad:
                raise RuntimeError(f"setting {name}={text!r} is not usable: {bad}") from None
        return cls(**given)

    @classmethod
    def variables(cls) -> dict[str, Any]:
        """Each variable this section reads and its default (REQUIRED for none)."""
        return {f.metadata["env"]: f.default for f in fields(cls)}  # type: ignore[arg-type]


@dataclass(frozen=True, kw_only=True)
class WaveSettings(Section):
    api_url: str = setting("WAVE_API_URL", "https://gql.waveapps.com/graphql/public")
    business_id: str = setting("WAVE_BUSINESS_ID")
    # The deployment's budget (state/budget.py), shared by every function and container: Wave
    # requests in flight at once, and starts per second (0: no limit; 429s are honoured anyway).
    max_concurrency: int = setting("WAVE_MAX_CONCURRENCY", 2)
    max_rps: float = setting("WAVE_MAX_RPS", 0.0)
    # How far before its watermark a Wave sweep reads again (modifiedAt's precision and
    # modifiedAtAfter's inclusiveness are undocumented; a late commit): hash-skip writes nothing.
    sweep_overlap: float = setting("WAVE_SWEEP_OVERLAP_SECONDS", 300.0)


@dataclass(frozen=True, kw_only=True)
class WebshopSettings(Section):
    api_url: str = setting("WEBSHOP_API_URL")
    max_rps: float = setting("WEBSHOP_MAX_RPS", 0.0)


@dataclass(frozen=True, kw_only=True)
class HttpSettings(Section):
    read_timeout: float = setting("HTTP_READ_TIMEOUT_SECONDS", 30.0)
    backoff_factor: float = setting("HTTP_BACKOFF_FACTOR", 0.25)


@dataclass(frozen=True, kw_only=True)
class Tables(Section):
    links: str = setting("LINKS_TABLE")
    state: str = setting("STATE_TABLE")
    idempotency: str = setting("IDEMPOTENCY_TABLE", "shopwave-idempotency")


@dataclass(frozen=True, kw_only=True)
class SyncSettings(Section):
    """How the engine runs: pages, concurrency, claims, leases and parking (the chaos suite shrinks them)."""
    page_size: int = setting("SYNC_PAGE_SIZE", 100, _page_size)  # records per page read from either system
    concurrency: int = setting("SYNC_CONCURRENCY", 1)  # records of one page written at once
    claim_lease: float = setting("CLAIM_LEASE_SECONDS", 60.0)
    claim_wait: float = setting("CLAIM_WAIT_SECONDS", 10.0)
    sweep_lease: float = setting("SWEEP_LEASE_SECONDS", 900.0)
    reconcile_page_size: int = setting("RECONCILE_PAGE_SIZE", 200, _page_size)  # a reconciliation pass's pages
    park_backoff: float = setting("PARK_BACKOFF_SECONDS", 60.0)
    park_max_attempts: int = setting("PARK_MAX_ATTEMPTS", 10)


@dataclass(frozen=True, kw_only=True)
class Options(Section):
    """What the mappings read (products and invoices): `ctx.options` in flows/."""
    income_account_id: str | None = setting("WAVE_INCOME_ACCOUNT_ID", None, _optional)
    discount_product_id: str | None = setting("WAVE_DISCOUNT_PRODUCT_ID", None, _optional)
    discount_product_name: str = setting("WAVE_DISCOUNT_PRODUCT_NAME", "Discount")
    sales_tax_map: Mapping[str, str] = setting("SALES_TAX_MAP", MappingProxyType({}), _sales_tax_map)
    invoice_status: str = setting("INVOICE_STATUS", "DRAFT", _invoice_status)
    invoice_approve: bool = setting("INVOICE_APPROVE", False, _flag)
    invoice_title: str = setting("INVOICE_TITLE", "Order {number}")
    payment_terms_days: int = setting("PAYMENT_TERMS_DAYS", 30)
    # Where the shop's own payments are recorded in Wave (a cash-and-bank account), and how.
    payment_account_id: str | None = setting("WAVE_PAYMENT_ACCOUNT_ID", None, _optional)
    payment_account_name: str = setting("WAVE_PAYMENT_ACCOUNT_NAME", "Cash on Hand")
    payment_method: str = setting("WAVE_PAYMENT_METHOD", "OTHER", _payment_method)


SECTIONS = {"wave": WaveSettings, "webshop": WebshopSettings, "http": HttpSettings, "tables": Tables,
            "sync": SyncSettings, "options": Options}


@dataclass(frozen=True, kw_only=True)
class Config:
    wave: WaveSettings
    webshop: WebshopSettings
    tables: Tables
    http: HttpSettings = HttpSettings()
    sync: SyncSettings = SyncSettings()
    options: Options = Options()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        environ = os.environ if environ is None else environ
        return cls(**{name: section.from_env(environ) for name, section in SECTIONS.items()})

    @staticmethod
    def variables() -> dict[str, Any]:
        """Every variable the configuration reads, with its default (REQUIRED for none)."""
        return {name: default for section in SECTIONS.values() for name, default in section.variables().items()}


# The secrets' variables (README: Configuration), read lazily by `secret`/`optional_secret`.
SECRETS = ("WAVE_TOKEN", "WEBSHOP_API_KEY", "WEBHOOK_SECRET", "WEBHOOK_SECRET_PREVIOUS")
