"""The parent side of a local worker process (providers/worker_protocol.py is the child's): start `python -m MODULE`,
read its JSON lines on one thread into per-job queues, keep its stderr tail, send it commands, stop it. Used by the
local LTX deployment and by local-sd; what a message means for a job stays with each of them."""
from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import AsyncIterator, Callable, Optional

from core.child_process import child_kwargs
from core.errors import TransientError, UnavailableError
from core.render.contract import ProgressEvent

ROOT = Path(__file__).resolve().parents[1]


class WorkerProcess:
    """One worker process and the thread that reads its messages."""

    def __init__(self, module: str, args: list[str], on_exit: Optional[Callable[["WorkerProcess"], None]] = None,
                 thread_name: str = "local-worker"):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        argv = [sys.executable, "-m", module, *args]
        self.proc: subprocess.Popen
        self.ready = threading.Event()
        self.finished = threading.Event()  # the process ended and its output is read
        self.exit_code: Optional[int] = None
        self.info: dict = {}
        self.fatal: Optional[dict] = None
        self.jobs: dict[str, "queue.Queue[dict]"] = {}
        self.logs: "list[str]" = []
        self.stderr_tail: list[str] = []
        self.lock = threading.Lock()
        self.idle_timer: Optional[threading.Timer] = None
        self._on_exit = on_exit
        # the parent-death signal (core.child_process) follows the THREAD that started the child: start it on the
        # reader thread, which lives exactly as long as the worker, never on a short-lived pool thread
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, cwd=str(ROOT), env=env, text=True,
                                             encoding="utf-8", bufsize=1, **child_kwargs())
            except BaseException as exc:  # re-raised in the constructor's thread below
                failure.append(exc)
                started.set()
                return
            started.set()
            threading.Thread(target=self._read_stderr, daemon=True).start()
            self._read()

        threading.Thread(target=run, daemon=True, name=thread_name).start()
        started.wait()
        if failure:
            raise failure[0]

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            kind = msg.get("type")
            if kind == "ready":
                self.info = msg
                self.ready.set()
            elif kind == "fatal":
                self.fatal = msg
                self.ready.set()
            elif kind == "log":
                self.logs.append(msg.get("message", ""))
                for q in list(self.jobs.values()):
                    q.put(msg)
            elif msg.get("job") in self.jobs:
                self.jobs[msg["job"]].put(msg)
        code = self.proc.wait()
        self.exit_code = code
        self.finished.set()
        self.ready.set()
        for q in list(self.jobs.values()):
            q.put({"type": "dead", "code": code})
        if self._on_exit:
            self._on_exit(self)

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr_tail = (self.stderr_tail + [line.rstrip()])[-20:]

    def send(self, **msg) -> None:
        with self.lock:
            try:
                self.proc.stdin.write(json.dumps(msg) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # the reader reports the death to every job

    def arm_idle(self, seconds: float, busy: bool) -> None:
        """Stop the worker after `seconds` unused; a busy one keeps running."""
        if self.idle_timer:
            self.idle_timer.cancel()
        if not busy:
            self.idle_timer = threading.Timer(seconds, self.stop)
            self.idle_timer.daemon = True
            self.idle_timer.start()

    async def messages(self, q: "queue.Queue[dict]") -> AsyncIterator[dict]:
        """A job's messages as they come; a worker that died before the job's queue existed yields `dead`."""
        while True:
            try:
                msg = await asyncio.to_thread(q.get, True, 0.5)
            except queue.Empty:
                if self.finished.is_set():
                    q.put({"type": "dead", "code": self.exit_code})
                continue
            yield msg

    async def job_messages(self, q: "queue.Queue[dict]", progress: Callable[[ProgressEvent], None], who: str,
                           what: str) -> AsyncIterator[dict]:
        """A job's messages for its owner: loading and denoising steps become progress, a death is raised (see
        `death`); the rest (result, error, log) is yielded."""
        if not self.ready.is_set():
            progress(ProgressEvent(stage="queued", message=f"loading the model in the local {who}"))
        async for msg in self.messages(q):
            kind = msg.get("type")
            if kind == "progress":
                progress(ProgressEvent(stage="running", fraction=min(1.0, msg["step"] / max(1, msg["total"])),
                                       message=f"step {msg['step']}/{msg['total']}"))
            elif kind == "dead":
                raise self.death(msg["code"], who, what)
            else:
                yield msg

    def death(self, code: Optional[int], who: str, what: str) -> Exception:
        """The error of a job whose worker ended: it never started (UnavailableError) or died mid-job
        (TransientError, naming the last stderr lines)."""
        if self.fatal:
            return UnavailableError(self.fatal.get("message", f"the local {who} could not start"))
        tail = " | ".join(self.stderr_tail[-3:])
        return TransientError(f"the local {who} ended during the {what} (exit code {code})"
                              + (f": {tail}" if tail else "") + f"; the next {what} starts a new one")

    def stop(self, timeout: float = 10.0) -> None:
        if self.idle_timer:
            self.idle_timer.cancel()
        if self.alive:
            self.send(type="shutdown")
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class WorkerPool:
    """The warm workers of one provider, one per key (model source, device)."""

    def __init__(self) -> None:
        self.workers: dict = {}
        self.lock = threading.Lock()

    def get(self, key, start: Callable[[], WorkerProcess]) -> WorkerProcess:
        """The live worker for `key` (its idle timer stopped), else a new one from `start()`."""
        with self.lock:
            worker = self.workers.get(key)
            if worker is not None and worker.alive and worker.fatal is None:
                if worker.idle_timer:
                    worker.idle_timer.cancel()
                return worker
            worker = start()
            self.workers[key] = worker
            return worker

    def forget(self, worker: WorkerProcess) -> None:
        with self.lock:
            for k, w in list(self.workers.items()):
                if w is worker:
                    del self.workers[k]

    def pids(self) -> list[int]:
        return [w.proc.pid for w in self.workers.values() if w.alive]

    async def aclose(self) -> None:
        workers = list(self.workers.values())
        self.workers.clear()
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in workers))

    def close(self) -> None:
        for w in list(self.workers.values()):
            w.stop()
        self.workers.clear()
