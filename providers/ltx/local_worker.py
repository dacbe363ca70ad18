"""The local GPU worker process: `python -m providers.ltx.local_worker --source DIR|REPO --plan JSON`.

It loads one model on one device, then serves renders one at a time. Messages are JSON lines: the app writes to the
worker's stdin (render, cancel, shutdown); the worker answers on its original stdout (ready, log, progress, result,
error, fatal). Everything else the libraries print goes to stderr, so stray prints never corrupt the protocol.
Ending the process frees all GPU memory; a crash here never takes the app down."""
from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import threading
import time
import traceback


class Channel:
    def __init__(self) -> None:
        # keep the real stdout for messages; point fd 1 (and sys.stdout) at stderr for everything else
        self._out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self._lock = threading.Lock()

    def send(self, **msg) -> None:
        with self._lock:
            self._out.write(json.dumps(msg, default=str) + "\n")
            self._out.flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="local_worker")
    ap.add_argument("--source", required=True, help="a diffusers pipeline folder or Hugging Face repo id")
    ap.add_argument("--plan", required=True, help="DevicePlan as JSON")
    args = ap.parse_args(argv)
    chan = Channel()

    from core.errors import CancelledError, ImageAIError
    from providers.ltx.local_device import DevicePlan
    from providers.ltx.local_pipelines import LoadedModel, RenderSpec

    plan = DevicePlan.model_validate_json(args.plan)
    log = lambda text: chan.send(type="log", message=text)  # noqa: E731
    try:
        model = LoadedModel(args.source, plan, log=log)
    except Exception as exc:  # a model that cannot load is reported, not a traceback on a dead pipe
        chan.send(type="fatal", kind="unavailable", message=f"could not load the model from {args.source}: {exc}",
                  detail=traceback.format_exc()[-2000:])
        return 3
    chan.send(type="ready", family=model.family, spatial=model.spatial, temporal=model.temporal,
              plan=plan.model_dump(), pid=os.getpid())

    jobs: "queue.Queue[dict | None]" = queue.Queue()
    cancelled: set[str] = set()

    def read_commands() -> None:
        for line in sys.stdin:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("type") == "cancel":
                cancelled.add(msg.get("job", ""))
            elif msg.get("type") == "render":
                jobs.put(msg)
            elif msg.get("type") == "shutdown":
                break
        jobs.put(None)  # stdin closed or shutdown: the app is gone or wants us gone

    threading.Thread(target=read_commands, daemon=True).start()
    while True:
        msg = jobs.get()
        if msg is None:
            return 0
        try:
            spec = RenderSpec.model_validate(msg["spec"])
        except Exception as exc:
            chan.send(type="error", job=msg.get("spec", {}).get("job_id"), kind="invalid_request", message=str(exc))
            continue
        job = spec.job_id
        if job in cancelled:
            chan.send(type="error", job=job, kind="cancelled", message="render cancelled before it started")
            continue
        try:
            started = time.perf_counter()
            result = model.run(spec, on_step=lambda i, n: chan.send(type="progress", job=job, step=i, total=n),
                               cancelled=lambda: job in cancelled, log=log)
            chan.send(type="result", job=job, result={**result, "render_s": round(time.perf_counter() - started, 4)})
        except CancelledError as exc:
            chan.send(type="error", job=job, kind="cancelled", message=str(exc))
        except ImageAIError as exc:
            chan.send(type="error", job=job, kind=exc.kind, message=str(exc))
        except ValueError as exc:  # the pipelines' own input checks
            chan.send(type="error", job=job, kind="invalid_request", message=str(exc))
        except Exception as exc:
            chan.send(type="error", job=job, kind="error", message=f"{type(exc).__name__}: {exc}",
                      detail=traceback.format_exc()[-2000:])
        finally:
            cancelled.discard(job)


if __name__ == "__main__":
    sys.exit(main())
