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
    stack.wave.set_concurrency_cap(None)
    stack.shop.set_fault_rate(0)


def record_seed(request, seed: int, ops: int) -> None:
    """Name the run in the test's report, so the summary shows it whether it passed or not."""
    request.node.user_properties.append(("chaos", f"CHAOS_SEED={seed} CHAOS_OPS={ops}"))


def pytest_terminal_summary(terminalreporter):
    """`chaos seeds`: every chaos run of the session with its seed, passed or failed, so a run
    that passed by luck can be repeated as well as one that failed."""
    runs = [(report.nodeid, report.outcome, value)
            for reports in terminalreporter.stats.values() for report in reports
            if getattr(report, "when", None) == "call"
            for name, value in getattr(report, "user_properties", ()) if name == "chaos"]
    if runs:
        terminalreporter.write_sep("-", "chaos seeds")
        for nodeid, outcome, value in runs:
            terminalreporter.write_line(f"{value}  {outcome}  {nodeid.rpartition('::')[2]}")
