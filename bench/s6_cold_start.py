"""6. Cold start (handler import vs `import boto3`, fresh processes) and the built layer's size."""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .harness import BENCH_ENV
from .report import ROOT, Section

RUNS = 5
LAYER = ROOT / "layers" / "shopwave"

BOTO3 = "import time; t = time.perf_counter(); import boto3; print(time.perf_counter() - t)"
HANDLER = f"""
import importlib.util, json, sys, time
sys.path.insert(0, {str(LAYER)!r})
t = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {str(ROOT / 'functions' / 'customer_to_wave' / 'app.py')!r})
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
handler = time.perf_counter() - t
t = time.perf_counter()
import shopwave.flow_runner
engine = time.perf_counter() - t
print(json.dumps({{"handler": handler, "engine": engine, "boto3_loaded": "boto3" in sys.modules}}))
"""


def _python(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAVE_", "WEBSHOP_", "AWS_ENDPOINT"))}
    env.update(BENCH_ENV)
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd="/")
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return done.stdout.strip().splitlines()[-1]


def run(sec: Section, quick: bool) -> None:
    _python(BOTO3), _python(HANDLER)  # warm the OS file cache and the .pyc files once, not measured
    boto3_times, handler_times, engine_times, boto3_loaded = [], [], [], False
    for _ in range(RUNS):  # alternated, so drift hits both alike
        boto3_times.append(float(_python(BOTO3)))
        result = json.loads(_python(HANDLER))
        handler_times.append(result["handler"])
        engine_times.append(result["engine"])
        boto3_loaded |= result["boto3_loaded"]
    b, h, e = (statistics.median(x) for x in (boto3_times, handler_times, engine_times))
    ratio = h / b
    sec.add(f"Median of {RUNS} fresh processes each (`time.perf_counter()` around the import, .pyc files warm):", "")
    sec.table(["import", "median", "all runs (ms)"], [
        ["`import boto3`", f"{b * 1000:.0f} ms", ", ".join(f"{x * 1000:.0f}" for x in boto3_times)],
        ["`functions/customer_to_wave/app.py` (the handler module)", f"{h * 1000:.0f} ms",
         ", ".join(f"{x * 1000:.0f}" for x in handler_times)],
        ["**handler / boto3**", f"**{ratio:.2f}x**", "goal <= 1.5x"],
        ["first invocation's extra import (`import shopwave.flow_runner` after the handler)", f"{e * 1000:.0f} ms",
         ", ".join(f"{x * 1000:.0f}" for x in engine_times)],
        ["handler + first-invocation import", f"{(h + e) * 1000:.0f} ms", f"{(h + e) / b:.2f}x boto3"],
    ])
    sec.add(f"The handler module imports only `shopwave.lambda_entry` and `shopwave.observability` (Powertools Logger "
            f"and Metrics); the engine, clients, pynamodb/botocore, the tracer, Powertools' event data classes and the "
            f"flows load on the first invocation (`shopwave.flow_runner`). "
            f"`boto3` in `sys.modules` after that: {boto3_loaded}.", "")
    sec.goal("handler module imports in <= 1.5x `import boto3`", ratio <= 1.5,
             f"{h * 1000:.0f} ms vs {b * 1000:.0f} ms = {ratio:.2f}x")

    # the layer's size ------------------------------------------------------------------------
    with tempfile.TemporaryDirectory(prefix="bench-layer-") as tmp:
        artifacts = Path(tmp) / "artifacts"
        artifacts.mkdir()
        done = subprocess.run(["make", "-C", str(LAYER), "build-SyncLayer", f"ARTIFACTS_DIR={artifacts}",
                               f"PYTHON={sys.executable}"], capture_output=True, text=True, timeout=600)
        if done.returncode:
            sec.add("`make build-SyncLayer` failed:", "", "```", done.stderr[-2000:], "```")
            sec.goal("built layer <= 10 MB zipped", False, "build failed")
            return
        archive = Path(tmp) / "layer.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for path in sorted(artifacts.rglob("*")):
                if path.is_file():
                    z.write(path, path.relative_to(artifacts))
        zipped = archive.stat().st_size
        unzipped = sum(p.stat().st_size for p in artifacts.rglob("*") if p.is_file())
        site = artifacts / "python"
        parts = sorted(((sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size,
                         p.name) for p in site.iterdir()), reverse=True)[:8]
    mb = 1024 * 1024
    sec.add(f"`make -C layers/shopwave build-SyncLayer ARTIFACTS_DIR=<tmp> PYTHON={Path(sys.executable).name}` "
            f"(python3.12 arm64 wheels, boto3/botocore left to the runtime), zipped with deflate level 9:", "")
    sec.table(["figure", "value"], [["unzipped", f"{unzipped / mb:.2f} MB"],
                                    ["**zipped**", f"**{zipped / mb:.2f} MB** (goal <= 10 MB)"]] +
              [[f"largest: `{name}`", f"{size / mb:.2f} MB unzipped"] for size, name in parts])
    sec.goal("built layer <= 10 MB zipped", zipped <= 10 * mb, f"{zipped / mb:.2f} MB zipped ({unzipped / mb:.2f} MB unzipped)")
    shutil.rmtree(artifacts, ignore_errors=True)
