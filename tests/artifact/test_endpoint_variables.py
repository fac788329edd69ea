"""The endpoint variables template.yaml declares for `sam local invoke` (empty in AWS) are harmless:
Lambda's own boto3/botocore, and pynamodb from the built layer, take an empty value as unset."""
from __future__ import annotations

import json

from devstack import artifact
from devstack.samenv import ENDPOINT_VARIABLES
from devstack.template import load_template

PROBE = """
import json, boto3
from pynamodb.connection import Connection
print(json.dumps({"dynamodb": boto3.client("dynamodb").meta.endpoint_url, "ssm": boto3.client("ssm").meta.endpoint_url,
                  "pynamodb": Connection(region="us-east-1").client.meta.endpoint_url}))
"""


def test_given_the_template_when_read_then_it_declares_the_endpoint_variables_empty():
    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert {name: variables.get(name) for name in ENDPOINT_VARIABLES} == {name: "" for name in ENDPOINT_VARIABLES}


def test_given_empty_endpoint_variables_when_lambdas_boto3_makes_clients_then_they_use_aws_endpoints(built):
    env = artifact.lambda_environ("CustomerToWaveFunction", {name: "" for name in ENDPOINT_VARIABLES})
    done = artifact.run([str(artifact.LAMBDA.python), "-P", "-s", "-c", PROBE], env=env)
    assert json.loads(done.stdout) == {"dynamodb": "https://dynamodb.us-east-1.amazonaws.com",
                                       "ssm": "https://ssm.us-east-1.amazonaws.com",
                                       "pynamodb": "https://dynamodb.us-east-1.amazonaws.com"}


def test_given_set_endpoint_variables_when_lambdas_boto3_makes_clients_then_they_use_them(built):
    env = artifact.lambda_environ("CustomerToWaveFunction", {name: "http://127.0.0.1:5005" for name in ENDPOINT_VARIABLES})
    done = artifact.run([str(artifact.LAMBDA.python), "-P", "-s", "-c", PROBE], env=env)
    assert set(json.loads(done.stdout).values()) == {"http://127.0.0.1:5005"}
