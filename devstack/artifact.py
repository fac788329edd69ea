"""The deployed artifact, checked on this machine (not deployed): `sam validate --lint`, `sam build`,
checkov over the template, and the built handlers run in a clean python3.12.

Each tool lives in a virtual environment of its own under .devstack/venvs/ (git-ignored), made
from a pin file in devstack/ and remade whenever that file changes:

    sam       devstack/requirements-sam.txt             aws-sam-cli (pins its own boto3)
    checkov   devstack/requirements-checkov.txt         checkov (skip list: devstack/checkov.yaml)
    lambda    devstack/requirements-lambda-runtime.txt  only what Lambda's python3.12 ships

    python -m devstack.artifact build            # sam validate --lint, then sam build
    python -m devstack.artifact checkov          # checkov's findings beyond the skip list
    python -m devstack.artifact invoke FunctionLogicalId event.json [--env-vars file]

`invoke` runs a function of .aws-sam/build the way Lambda does: a fresh python3.12 process whose
import path is the function's folder, then the layers' python folders (/opt/python), then the
runtime's own boto3/botocore; its environment is the template's, laid over with an env-vars
file as `sam local invoke --env-vars` would (devstack/samenv.py writes one).
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".devstack"
VENVS = CACHE / "venvs"
BUILD_DIR = ROOT / ".aws-sam" / "build"
TEMPLATE = ROOT / "template.yaml"
CHECKOV_CONFIG = ROOT / "devstack" / "checkov.yaml"
RUNNER = ROOT / "devstack" / "lambda_invoke.py"
LAMBDA_PYTHON = "3.12"
REGION = "us-east-1"
# Tools that would otherwise phone home (SAM's usage data, checkov's guideline download, pip's version check).
QUIET_TOOLS_ENV = {"SAM_CLI_TELEMETRY": "0", "BC_SKIP_MAPPING": "TRUE", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


class ArtifactError(RuntimeError):
    pass


# ------------------------------------------------------------------------------- python 3.12
def lambda_python() -> str:
    """A python3.12 interpreter (Lambda's runtime), the real binary rather than a pyenv shim."""
    candidates = [str(p / "bin" / "python3.12") for p in sorted(
        (Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions").glob("3.12*"), reverse=True)]
    candidates += [shutil.which("python3.12") or ""]
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        done = subprocess.run([candidate, "-c", "import sys, venv; print(sys.executable)"],
                              capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip():
            return str(Path(done.stdout.strip()).resolve())
    raise ArtifactError("no python3.12 on this machine: Lambda's runtime is needed for sam build and the "
                        "built-artifact run (pyenv install 3.12)")


def python312_bin_dir() -> Path:
    """A folder holding only `python3.12`, for PATH: what `sam build` looks for."""
    folder = CACHE / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "python3.12"
    target = lambda_python()
    if not (link.is_symlink() and os.readlink(link) == target):
        link.unlink(missing_ok=True)
        link.symlink_to(target)
    return folder


# ---------------------------------------------------------------------------- tool venvs
@dataclass(frozen=True)
class ToolEnv:
    name: str
    requirements: Path

    @property
    def path(self) -> Path:
        return VENVS / self.name

    def bin(self, executable: str) -> Path:
        return self.path / "bin" / executable

    @property
    def python(self) -> Path:
        return self.bin("python")

    def _wanted(self, interpreter: str) -> str:
        return hashlib.sha256(self.requirements.read_bytes() + interpreter.encode()).hexdigest()

    def ensure(self) -> "ToolEnv":
        """Make (or remake, if its pin file changed) the venv; cheap when it is current."""
        VENVS.mkdir(parents=True, exist_ok=True)
        stamp = self.path / ".installed-from"
        with open(VENVS / f".{self.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            interpreter = lambda_python()
            wanted = self._wanted(interpreter)
            if self.python.exists() and stamp.exists() and stamp.read_text() == wanted:
                return self
            shutil.rmtree(self.path, ignore_errors=True)
            run([interpreter, "-m", "venv", str(self.path)], timeout=300)
            run([str(self.python), "-m", "pip", "install", "-q", "-r", str(self.requirements)], timeout=1200)
            stamp.write_text(wanted)
        return self


SAM = ToolEnv("sam", ROOT / "devstack" / "requirements-sam.txt")
CHECKOV = ToolEnv("checkov", ROOT / "devstack" / "requirements-checkov.txt")
LAMBDA = ToolEnv("lambda", ROOT / "devstack" / "requirements-lambda-runtime.txt")
TOOLS = (SAM, CHECKOV, LAMBDA)


def ensure_all() -> None:
    """Make every tool venv, at the same time (a cold cache is mostly waiting on downloads)."""
    errors: list[BaseException] = []

    def make(tool: ToolEnv) -> None:
        try:
            tool.ensure()
        except BaseException as error:  # reported below, in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=make, args=(tool,), name=f"venv-{tool.name}") for tool in TOOLS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def run(command: list[str], *, env: dict[str, str] | None = None, timeout: float = 600, check: bool = True,
        cwd: Path = ROOT, input: str | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, input=input)
    if check and done.returncode != 0:
        raise ArtifactError(f"{' '.join(command)} exited {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def tool_environ(tool: ToolEnv) -> dict[str, str]:
    """The caller's environment minus the project's venv, plus python3.12 on PATH for sam build."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    paths = [p for p in env.get("PATH", "").split(os.pathsep) if p and not p.startswith(str(ROOT / ".venv"))]
    env["PATH"] = os.pathsep.join([str(python312_bin_dir()), str(tool.path / "bin"), *paths])
    env.setdefault("AWS_DEFAULT_REGION", REGION)
    env.update(QUIET_TOOLS_ENV)
    return env


# ----------------------------------------------------------------------------------- SAM
def sam(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    SAM.ensure()
    return run([str(SAM.bin("sam")), *args], env=tool_environ(SAM), timeout=timeout, check=check)


def validate() -> subprocess.CompletedProcess:
    return sam("validate", "--lint", "--template-file", str(TEMPLATE))


def build() -> Path:
    """`sam build` (samconfig.toml: cached, parallel) into .aws-sam/build; returns that folder."""
    sam("build", "--template-file", str(TEMPLATE), "--build-dir", str(BUILD_DIR), timeout=900)
    return BUILD_DIR


# ------------------------------------------------------------------------------- checkov
def checkov_report(template: Path = TEMPLATE) -> dict:
    """checkov over the template with devstack/checkov.yaml: {"passed": [...], "failed": [...], "skipped": [...]}
    where each finding is {"check_id", "check_name", "resource", "lines"}."""
    CHECKOV.ensure()
    done = run([str(CHECKOV.bin("checkov")), "--config-file", str(CHECKOV_CONFIG), "--file", str(template),
                "--framework", "cloudformation", "--output", "json", "--compact"],
               env=tool_environ(CHECKOV), timeout=600, check=False)
    if done.returncode not in (0, 1):
        raise ArtifactError(f"checkov exited {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    document = json.loads(done.stdout or "{}")
    reports = document if isinstance(document, list) else [document]
    results: dict[str, list[dict]] = {"passed": [], "failed": [], "skipped": []}
    for report in reports:
        checks = report.get("results", {}) if isinstance(report, dict) else {}
        for kind in results:
            for check in checks.get(f"{kind}_checks", []):
                results[kind].append({"check_id": check["check_id"], "check_name": check.get("check_name"),
                                      "resource": check.get("resource"),
                                      "lines": check.get("file_line_range")})
    return results


# ------------------------------------------------------------------------- built handlers
def function_environment(logical_id: str, env_vars: dict | None = None, template: dict | None = None) -> dict[str, str]:
    """The function's variables as `sam local invoke --env-vars` would give them: the template's
    (parameter defaults), then the file's "Parameters" section, then its section named after the
    function; only variables the template declares are taken from the file."""
    from devstack.template import functions, load_template

    spec = {s.logical_id: s for s in functions(template or load_template())}[logical_id]
    env = dict(spec.env)
    for section in ("Parameters", logical_id):
        for name, value in (env_vars or {}).get(section, {}).items():
            if name in env:
                env[name] = str(value)
    return env


def lambda_environ(logical_id: str, function_env: dict[str, str], build_dir: Path = BUILD_DIR,
                   memory: int = 512, timeout: int = 120, handler: str = "app.lambda_handler") -> dict[str, str]:
    """What `sam local invoke` (samcli/local/lambdafn/env_vars.py) puts in the process environment, plus the
    function's own variables."""
    from devstack.template import load_template

    function_dir = build_dir / logical_id
    layers = [build_dir / name / "python" for name in layer_ids(load_template(build_dir / "template.yaml"), logical_id)]
    site = [p / "lib" / f"python{LAMBDA_PYTHON}" / "site-packages" for p in layers]
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task and /opt are read-only in Lambda; nor may a run here add
                                         # __pycache__ to .aws-sam/build, which sam deploy uploads
        "PYTHONPATH": os.pathsep.join(str(p) for p in [function_dir, *site, *layers]),
        "LAMBDA_TASK_ROOT": str(function_dir),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{LAMBDA_PYTHON}",
        "AWS_LAMBDA_FUNCTION_NAME": logical_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
        "AWS_LAMBDA_FUNCTION_HANDLER": handler,
        "AWS_LAMBDA_LOG_GROUP_NAME": f"aws/lambda/{logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_ACCOUNT_ID": "123456789012",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "defaultkey",      # what sam local invoke passes without a profile
        "AWS_SECRET_ACCESS_KEY": "defaultsecret",
        "AWS_SAM_LOCAL": "true",
        **function_env,
    }


def layer_ids(template: dict, logical_id: str) -> list[str]:
    """Logical ids of the layers a function uses (its own Layers, else Globals.Function.Layers)."""
    props = template["Resources"][logical_id].get("Properties", {})
    layers = props.get("Layers", template.get("Globals", {}).get("Function", {}).get("Layers", []))
    ids = []
    for layer in layers:
        if isinstance(layer, dict) and "Ref" in layer:
            ids.append(layer["Ref"])
        elif isinstance(layer, str) and (BUILD_DIR / layer).is_dir():
            ids.append(layer)  # a built template names the folder
    return ids


def invoke(logical_id: str, event: dict, *, env_vars: dict | None = None, build_dir: Path = BUILD_DIR,
           timeout: float = 120) -> dict:
    """Run one invocation of a built function in a fresh python3.12 with only Lambda's boto3/botocore.

    Returns {"result" | "error", "modules": {name: file}, "stdout", "stderr", "seconds"}."""
    from devstack.template import functions, load_template

    LAMBDA.ensure()
    spec = {s.logical_id: s for s in functions(load_template())}[logical_id]
    env = lambda_environ(logical_id, function_environment(logical_id, env_vars), build_dir,
                         spec.memory_size, spec.timeout, spec.handler)
    with tempfile.TemporaryDirectory(prefix="invoke-") as scratch:
        out = Path(scratch) / "result.json"
        request = {"handler": spec.handler, "event": event, "result_file": str(out),
                   "timeout_seconds": spec.timeout}
        done = run([str(LAMBDA.python), "-P", "-s", str(RUNNER)], env=env, timeout=timeout, check=False,
                   cwd=build_dir / logical_id, input=json.dumps(request))
        if not out.exists():
            raise ArtifactError(f"{logical_id} did not report (exit {done.returncode})\n{done.stdout[-4000:]}\n"
                                f"{done.stderr[-4000:]}")
        answer = json.loads(out.read_text())
    answer.update(stdout=done.stdout, stderr=done.stderr)
    return answer


# ----------------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.artifact", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("venvs", help="make the tool venvs")
    commands.add_parser("build", help="sam validate --lint, then sam build")
    commands.add_parser("checkov", help="checkov over template.yaml (skip list devstack/checkov.yaml)")
    invoke_cmd = commands.add_parser("invoke", help="run a built function on an event in a clean python3.12")
    invoke_cmd.add_argument("function")
    invoke_cmd.add_argument("event")
    invoke_cmd.add_argument("--env-vars", help="a sam local invoke --env-vars file (python3 dev.py sam-env writes one)")
    args = parser.parse_args(argv)
    if args.command == "venvs":
        ensure_all()
    elif args.command == "build":
        print(validate().stdout.strip())
        print(f"built: {build()}")
    elif args.command == "checkov":
        report = checkov_report()
        for finding in report["failed"]:
            print(f"FAILED {finding['check_id']} {finding['resource']}: {finding['check_name']}")
        import yaml

        skipped = yaml.safe_load(CHECKOV_CONFIG.read_text()).get("skip-check", [])
        print(f"{len(report['passed'])} passed, {len(report['failed'])} failed; "
              f"{len(skipped)} checks skipped by {CHECKOV_CONFIG.relative_to(ROOT)}")
        return 1 if report["failed"] else 0
    elif args.command == "invoke":
        env_vars = json.loads(Path(args.env_vars).read_text()) if args.env_vars else None
        answer = invoke(args.function, json.loads(Path(args.event).read_text()), env_vars=env_vars)
        sys.stderr.write(answer["stdout"] + answer["stderr"])
        print(json.dumps(answer.get("result", answer.get("error")), indent=2))
        return 0 if "result" in answer else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
