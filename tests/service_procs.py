"""A fake service (tests/fakes/*) run as its own process, as a real service is: the CLI under test talks to it over
127.0.0.1, the test reads its counters from its state file and shapes it through its admin routes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent


class FakeProcess:
    def __init__(self, module: str, state: Path, latency: float = 0.2):
        self.state = Path(state)
        self.proc = subprocess.Popen([sys.executable, "-m", module, "--port", "0", "--state", str(self.state),
                                      "--latency", str(latency)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.kill()
            raise RuntimeError(f"{module} did not start")
        self.url = json.loads(line)["url"]

    def snapshot(self) -> dict:
        try:
            return json.loads(self.state.read_text())
        except (OSError, ValueError):  # between two writes of the fake: read again
            return {}

    def counts(self) -> dict:
        return self.snapshot().get("counts", {})

    def requests(self) -> list[dict]:
        return self.snapshot().get("requests", [])

    def _post(self, path: str, body: dict) -> None:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    def inject(self, where: str, *faults: dict) -> None:
        self._post("/_admin/faults", {where: list(faults)})

    def config(self, **values) -> None:
        self._post("/_admin/config", values)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def wait_for(pred: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Poll a condition the other processes make true (not a sleep that hopes a race went our way)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def cli(*args: str, timeout: float = 180, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=timeout, stdin=stdin)


def cli_json(*args: str, timeout: float = 180) -> dict:
    proc = cli(*args, "--json", timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
