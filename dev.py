#!/usr/bin/env python3
"""Bootstrap and run shopwave on this machine: `python3 dev.py demo | test | serve | ops | bench ...`.

Creates `.venv` (on Python 3.12, Lambda's runtime, where this machine has it), installs the
project with its dev extras whenever pyproject.toml changes, then runs the command inside it.
Only the standard library is used here, since this runs before anything is installed.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-from"

COMMANDS = {
    "demo": ["-m", "devstack.demo"],
    "serve": ["-m", "devstack.demo", "--serve"],
    "test": ["-m", "pytest"],
    "ops": ["-m", "devstack.ops"],
    "bench": ["-m", "bench"],
    "sam-env": ["-m", "devstack.samenv"],
    "sign-events": ["-m", "devstack.sign_events"],
    "artifact": ["-m", "devstack.artifact"],
}


def runtime_python() -> str:
    """Prefer the Lambda runtime's version (3.12); fall back to the interpreter running us."""
    candidates = [shutil.which("python3.12"), str(Path.home() / ".pyenv/versions/3.12.1/bin/python3.12")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv_root.is_dir():
        candidates += [str(p / "bin/python3") for p in sorted(pyenv_root.glob("3.12*"), reverse=True)]
    for candidate in candidates:
        # pyenv shims exist on PATH even when their version is not active: ask each one.
        if candidate and Path(candidate).exists() and subprocess.run(
                [candidate, "-c", "import venv"], capture_output=True).returncode == 0:
            return candidate
    return sys.executable


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv() -> Path:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if venv_python().exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return venv_python()
    if not venv_python().exists():
        subprocess.run([runtime_python(), "-m", "venv", str(VENV)], check=True)
    pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["install", "--upgrade", "pip"], check=True)
    subprocess.run(pip + ["install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)
    return venv_python()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [args...]", file=sys.stderr)
        return 2
    python = ensure_venv()
    command, rest = COMMANDS[argv[0]], argv[1:]
    return run_child([str(python), *command, *rest])


FORWARDED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def run_child(args: list[str]) -> int:
    """Run the command and pass SIGINT/SIGTERM/SIGHUP on to it, so stopping dev.py stops what it
    started (`serve`'s moto server, sandboxes and gateway) instead of leaving it running. The
    child's exit status is ours; killed by a signal, 128 + its number, as a shell reports it."""
    child = subprocess.Popen(args, cwd=ROOT)

    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    try:
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:  # a handler was not installed yet: the child got it too
                continue
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
