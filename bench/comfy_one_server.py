"""Scenes rendered at once on ONE ComfyUI server (the fake, which keeps one websocket per client id like the real
server), through the real render queue: every scene must finish, and the run should take about what the server
needs to run the prompts one after the other (it runs one at a time), not the render timeout.

Each round, in the same run so load from other processes hits both alike:
  baseline   the same scenes rendered one by one (concurrency 1): the server's own time plus the app's overhead
  at once    all scenes submitted together (concurrency = scenes)
and prints the median wall time of each, the scenes done, and the ratio at once / baseline (target: all done,
ratio <= 1.0: waiting together costs nothing over waiting in turn).

    python bench/comfy_one_server.py [--scenes 3] [--rounds 3] [--steps 20] [--step-delay 0.02]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.video.project import Scene  # noqa: E402
from tests.fakes.comfyui_fake import FakeComfyUI  # noqa: E402
from tests.fakes.comfyui_helpers import project, run_queue, settings_for  # noqa: E402


def one_run(fake: FakeComfyUI, scenes: int, concurrency: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        store = project(Path(tmp), [Scene(prompt=f"scene {i}") for i in range(scenes)])
        settings = settings_for(fake, render_concurrency={"default": concurrency}, render_timeout_s=120,
                                render_retries=0)
        start = time.perf_counter()
        summary = run_queue(store, settings)
        return time.perf_counter() - start, len(summary.done)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20, help="sampler steps of each fake prompt")
    ap.add_argument("--step-delay", type=float, default=0.02, help="seconds per step")
    args = ap.parse_args()
    fake = FakeComfyUI(steps=args.steps, step_delay=args.step_delay).start()
    try:
        base, together, done_base, done_together = [], [], [], []
        for _ in range(args.rounds):
            t, n = one_run(fake, args.scenes, 1)
            base.append(t)
            done_base.append(n)
            t, n = one_run(fake, args.scenes, args.scenes)
            together.append(t)
            done_together.append(n)
    finally:
        fake.stop()
    b, t = statistics.median(base), statistics.median(together)
    print(f"scenes per run      {args.scenes} (fake prompt: {args.steps} steps x {args.step_delay:g} s)")
    print(f"baseline (in turn)  {b:.2f} s   done {min(done_base)}/{args.scenes}")
    print(f"at once             {t:.2f} s   done {min(done_together)}/{args.scenes}")
    print(f"ratio at once/turn  {t / b:.2f}")


if __name__ == "__main__":
    main()
