"""The chaos suite reuses the integration stack (moto tables, both sandboxes, the layer's
runtime), with the layer's timings shrunk so timeouts, retries and leases are quick."""
import pytest

from tests.integration.conftest import aws_tables, shop, stack, wave  # noqa: F401 - fixtures

CHAOS_TUNING = {
    "HTTP_READ_TIMEOUT_SECONDS": "0.5",  # the sandboxes' injected 1 s delays become timeouts
    "HTTP_BACKOFF_FACTOR": "0.01",
    "CLAIM_LEASE_SECONDS": "0.3",
    "CLAIM_WAIT_SECONDS": "1",
    "SWEEP_LEASE_SECONDS": "1",
    "PARK_BACKOFF_SECONDS": "0",
    "PARK_MAX_ATTEMPTS": "1000",
    "SYNC_PAGE_SIZE": "7",  # several pages per sweep: crashes between pages and mid-page
}


@pytest.fixture
def chaos_stack(monkeypatch, stack):
    for name, value in CHAOS_TUNING.items():
        monkeypatch.setenv(name, value)
    stack.rebuild()
    yield stack
    stack.wave.set_fault_rate(0)
    stack.shop.set_fault_rate(0)
