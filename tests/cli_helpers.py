"""Running the real CLI in a subprocess, as a user would."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli_env(**extra: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True, text=True,
                          env=env or cli_env(), timeout=timeout, cwd=ROOT)


def run_json(*args: str, env: dict | None = None, timeout: float = 120) -> dict:
    proc = run_cli(*args, "--json", env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def make_image(path: Path, size=(640, 360), color=(30, 120, 200)) -> Path:
    from PIL import Image
    Image.new("RGB", size, color).save(path)
    return path


def wait_until(what: str, predicate, timeout: float = 90.0):
    """Poll what a CLI subprocess makes true (bounded, never a sleep that hopes): the value the predicate returned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
