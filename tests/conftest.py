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
