"""Startup time of the CLI: `python main.py --help` against `python -c pass`, measured in the same run.

    python bench/startup.py [--runs 15]

Target: --help under 0.4 s on the 2-core reference machine (and the ratio shows what the app itself adds)."""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    runs = ap.parse_args().runs
    base = timed([sys.executable, "-c", "pass"], runs)
    app = timed([sys.executable, str(ROOT / "main.py"), "--help"], runs)
    heavy = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "main.py"), "--help"],
                           capture_output=True, text=True, cwd=ROOT).stderr
    loaded = [m for m in ("torch", "diffusers", "PySide6", "fal_client", "replicate") if f" {m}\n" in heavy
              or f" {m}." in heavy]
    b, a = statistics.median(base), statistics.median(app)
    print(f"python -c pass      median {b * 1000:7.1f} ms  (min {min(base) * 1000:.1f})")
    print(f"main.py --help      median {a * 1000:7.1f} ms  (min {min(app) * 1000:.1f})")
    print(f"ratio               {a / b:7.2f}x   app's own cost {(a - b) * 1000:.1f} ms")
    print(f"target              < 400 ms: {'met' if a < 0.4 else 'NOT met'}")
    print(f"heavy modules imported by --help: {', '.join(loaded) or 'none'}")


if __name__ == "__main__":
    main()
