"""Test set-up shared by every test: fake AWS credentials and a region before anything imports
boto3, so nothing can reach real AWS."""
import os

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_SERVICE_NAME": "shopwave",
    "POWERTOOLS_METRICS_NAMESPACE": "Shopwave", "POWERTOOLS_DEV": "false",
})
for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
    os.environ.pop(name, None)


def pytest_configure(config):
    # The deployed functions ignore Powertools' warning for an invocation that publishes no metric
    # (shopwave.observability, at import); pytest resets warning filters around every test, so
    # say it here too. tests/integration/test_handler_metrics.py checks the layer's own filter.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish")


# -- tiers -------------------------------------------------------------------------------------
# `python3 dev.py test -m "not slow"` is the fast tier (the rules on the in-memory systems,
# unit tests, the sandboxes, the template, the gateway and the ops tool); `python3 dev.py test`
# and CI run everything. What is slow is marked here by where it lives, so a new test in one of
# these places is in the right tier without a marker of its own.
import pytest  # noqa: E402

TESTS = __import__("pathlib").Path(__file__).resolve().parent
SLOW = {  # path under tests/ -> markers
    "integration": ("slow", "integration"),  # both sandboxes over HTTP, moto, every flow end to end
    "chaos": ("slow", "integration"),  # seeded random runs under faults and crashes
    "artifact": ("slow",),  # sam build, checkov, the built functions in a python3.12 process
    "contract/test_sandbox_fuzz.py": ("slow",),  # schemathesis against the webshop sandbox
    "test_demo.py": ("slow", "integration"),
    "test_dev_serve.py": ("slow", "integration"),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        try:
            where = item.path.resolve().relative_to(TESTS).as_posix()
        except ValueError:
            continue
        for prefix, markers in SLOW.items():
            if where == prefix or where.startswith(prefix.rstrip("/") + "/"):
                for marker in markers:
                    item.add_marker(marker)
