"""The local GPU worker process: `python -m providers.ltx.local_worker --source DIR|REPO --plan JSON`.

It loads one model on one device, then serves renders one at a time. Messages are JSON lines: the app writes to the
worker's stdin (render, cancel, shutdown); the worker answers on its original stdout (ready, log, progress, result,
error, fatal). Everything else the libraries print goes to stderr, so stray prints never corrupt the protocol.
Ending the process frees all GPU memory; a crash here never takes the app down."""
from __future__ import annotations

import os
import sys
import time

from providers.worker_protocol import run_worker


def _load(source: str, plan_json: str, log):
    from providers.ltx.local_device import DevicePlan
    from providers.ltx.local_pipelines import LoadedModel

    plan = DevicePlan.model_validate_json(plan_json)
    model = LoadedModel(source, plan, log=log)
    return model, dict(family=model.family, spatial=model.spatial, temporal=model.temporal, plan=plan.model_dump(),
                       pid=os.getpid())


def _parse(spec: dict):
    from providers.ltx.local_pipelines import RenderSpec

    return RenderSpec.model_validate(spec)


def _run(model, spec, on_step, cancelled, log) -> dict:
    started = time.perf_counter()
    result = model.run(spec, on_step=on_step, cancelled=cancelled, log=log)
    return {**result, "render_s": round(time.perf_counter() - started, 4)}


def main(argv: list[str] | None = None) -> int:
    return run_worker("local_worker", argv, _load, _parse, _run)


if __name__ == "__main__":
    sys.exit(main())
