"""Scenes rendered over a farm of ComfyUI servers of different speeds (fake servers like the real one, each running
one prompt at a time) through the real render queue: does the placement keep every server busy to the end?

The ideal schedule is computed in the same run: each server's capacity is 1 / its measured seconds per prompt (its
busy time / the prompts it ran, so the fake's own per-prompt encoding counts too), and ideal = scenes / the sum of
the capacities (every server busy from the first second to the last, no idle tail). Prints the wall time of the
whole run (plan, uploads, downloads, checks included), the ideal, their ratio (target <= 1.15), the prompts each
server ran, and whether every prompt ran to completion exactly once.

    python bench/comfy_farm.py [--scenes 30] [--steps 20] [--delays 0.05,0.1,0.2] [--weights 1,1,1]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import Settings  # noqa: E402
from core.video.project import Scene  # noqa: E402
from tests.fakes.comfyui_fake import FakeComfyUI  # noqa: E402
from tests.fakes.comfyui_helpers import project, run_queue  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=30)
    ap.add_argument("--steps", type=int, default=20, help="sampler steps of each fake prompt")
    ap.add_argument("--delays", default="0.05,0.1,0.2", help="seconds per step of each server (one per server)")
    ap.add_argument("--weights", default="", help="capacity weights to configure (default: none, all 1.0)")
    args = ap.parse_args()
    delays = [float(d) for d in args.delays.split(",")]
    names = [f"s{i + 1}" for i in range(len(delays))]
    weights = dict(zip(names, (float(w) for w in args.weights.split(",")))) if args.weights else {}
    servers = {n: FakeComfyUI(steps=args.steps, step_delay=d).start() for n, d in zip(names, delays)}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = project(Path(tmp), [Scene(prompt=f"scene {i}") for i in range(args.scenes)])
            settings = Settings(comfyui_servers={n: s.url for n, s in servers.items()}, comfyui_server_weights=weights,
                                poll_interval_s=0.05, render_concurrency={"comfyui": args.scenes},
                                render_timeout_s=600, render_retries=0)
            start = time.perf_counter()
            summary = run_queue(store, settings)
            wall = time.perf_counter() - start
    finally:
        for s in servers.values():
            s.stop()
    capacity = {n: len(s.executed) / s.busy_s for n, s in servers.items() if s.executed and s.busy_s > 0}
    ideal = args.scenes / sum(capacity.values())
    runs: Counter = Counter()
    for s in servers.values():
        runs.update(s.completions)
    print(f"scenes              {args.scenes} ({len(summary.done)} done, {len(summary.failed)} failed)")
    for n, s in servers.items():
        per = s.busy_s / len(s.executed) if s.executed else float("nan")
        print(f"server {n:<12} {delays[names.index(n)]:g} s/step: {len(s.executed):>3} prompts, {per:.2f} s each, "
              f"busy {s.busy_s:.1f} s")
    print(f"wall                {wall:.2f} s")
    print(f"ideal schedule      {ideal:.2f} s (scenes / sum of measured capacities)")
    print(f"ratio wall/ideal    {wall / ideal:.3f} (target <= 1.15)")
    print(f"each prompt once    {all(v == 1 for v in runs.values()) and len(runs) == args.scenes}")
    return 0 if len(summary.done) == args.scenes and wall / ideal <= 1.15 else 1


if __name__ == "__main__":
    raise SystemExit(main())
