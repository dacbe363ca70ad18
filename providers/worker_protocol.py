"""The child side of a local worker process (providers/worker_process.py is the parent's): `--source --plan`
arguments, the JSON-lines channel on the original stdout, loading the model or reporting `fatal`, then serving
`render` commands one at a time from stdin (cancel and shutdown too). Used by providers/ltx/local_worker.py and
providers/images/local_sd_worker.py, which bring only how to load a model and run one job."""
from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import threading
import traceback
from typing import Any, Callable

Log = Callable[[str], None]
# load(source, plan_json, log) -> (model, the ready message's fields)
Load = Callable[[str, str, Log], "tuple[Any, dict]"]
# run(model, spec, on_step, cancelled, log) -> the result message's `result`
Run = Callable[[Any, Any, Callable[[int, int], None], Callable[[], bool], Log], dict]


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


def run_worker(prog: str, argv: "list[str] | None", load: Load, parse: Callable[[dict], Any], run: Run) -> int:
    """The worker's main: 0 when told to stop (or stdin closed), 3 when the model cannot load."""
    ap = argparse.ArgumentParser(prog=prog)
    ap.add_argument("--source", required=True, help="a diffusers pipeline folder or Hugging Face repo id")
    ap.add_argument("--plan", required=True, help="DevicePlan as JSON")
    args = ap.parse_args(argv)
    chan = Channel()  # before any heavy import: whatever the libraries print goes to stderr

    from core.errors import CancelledError, ImageAIError

    log: Log = lambda text: chan.send(type="log", message=text)  # noqa: E731
    try:
        model, ready = load(args.source, args.plan, log)
    except Exception as exc:  # a model that cannot load is reported, not a traceback on a dead pipe
        chan.send(type="fatal", kind="unavailable", message=f"could not load the model from {args.source}: {exc}",
                  detail=traceback.format_exc()[-2000:])
        return 3
    chan.send(type="ready", **ready)

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
            spec = parse(msg["spec"])
        except Exception as exc:
            chan.send(type="error", job=(msg.get("spec") or {}).get("job_id"), kind="invalid_request",
                      message=str(exc))
            continue
        job = spec.job_id
        if job in cancelled:
            chan.send(type="error", job=job, kind="cancelled", message="render cancelled before it started")
            continue
        try:
            result = run(model, spec, lambda i, n: chan.send(type="progress", job=job, step=i, total=n),
                         lambda: job in cancelled, log)
            chan.send(type="result", job=job, result=result)
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
