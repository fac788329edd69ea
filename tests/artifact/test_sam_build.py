"""`sam validate --lint` and `sam build` (aws-sam-cli in its own venv), and what the build holds."""
from __future__ import annotations

from devstack import artifact
from devstack.template import functions, load_template

# The Lambda runtime ships these; a copy in the layer would shadow them and cost ~25 MB.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil")


def test_given_the_template_when_sam_validates_it_with_lint_then_it_is_valid(validated):
    assert "is a valid SAM Template" in validated


def test_given_the_template_when_sam_builds_it_then_every_function_and_the_layer_are_built(built):
    for spec in functions(load_template()):
        handler_module = spec.handler.rpartition(".")[0]
        assert (built / spec.logical_id / f"{handler_module}.py").is_file(), spec.logical_id
        assert artifact.layer_ids(load_template(built / "template.yaml"), spec.logical_id) == ["SyncLayer"]
    layer = built / "SyncLayer" / "python"
    for package in ("shopwave", "pynamodb", "aws_lambda_powertools", "requests", "urllib3"):
        assert (layer / package).is_dir(), package


def test_given_the_built_layer_when_listed_then_it_leaves_boto3_and_botocore_to_the_runtime(built):
    present = {p.name for p in (built / "SyncLayer" / "python").iterdir()}
    assert not present & set(RUNTIME_PROVIDED)
    assert not [name for name in present if name.startswith(tuple(f"{p}-" for p in RUNTIME_PROVIDED))]


def test_given_the_lambda_venv_when_listed_then_it_holds_only_what_the_runtime_ships(tools):
    done = artifact.run([str(artifact.LAMBDA.python), "-m", "pip", "list", "--format=freeze", "--exclude-editable"])
    installed = {line.split("==")[0].lower() for line in done.stdout.split()} - {"pip", "setuptools", "wheel"}
    pinned = {line.split("==")[0].strip().lower() for line in artifact.LAMBDA.requirements.read_text().splitlines()
              if line.strip() and not line.startswith("#")}
    assert installed == pinned
