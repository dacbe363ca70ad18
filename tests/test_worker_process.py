"""The shared local worker process (providers/worker_process.py, providers/worker_protocol.py) with a real child:
a tiny worker module written here that loads nothing heavy, so the protocol itself is what is tested."""
from __future__ import annotations

import asyncio
import queue
import textwrap

import pytest

from core.errors import InvalidRequestError, TransientError, UnavailableError
from providers.entries import Entry, find_entry
from providers.worker_process import WorkerPool, WorkerProcess

CHILD = textwrap.dedent('''
    import os, sys
    from types import SimpleNamespace
    from providers.worker_protocol import run_worker

    def load(source, plan_json, log):
        if source == "broken":
            raise OSError("no weights here")
        log("loaded " + source)
        return {"source": source}, {"pid": os.getpid(), "source": source}

    def run(model, spec, on_step, cancelled, log):
        if spec.mode == "die":
            os._exit(7)
        if spec.mode == "bad":
            raise ValueError("width must be a multiple of 8")
        on_step(1, 2)
        on_step(2, 2)
        return {"echo": spec.prompt, "source": model["source"]}

    sys.exit(run_worker("echo_worker", None, load, lambda d: SimpleNamespace(**d), run))
''')


@pytest.fixture
def child(tmp_path, monkeypatch):
    (tmp_path / "echo_worker.py").write_text(CHILD)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return "echo_worker"


async def _job(worker: WorkerProcess, job: str, mode: str, events: list) -> list[dict]:
    q: "queue.Queue[dict]" = queue.Queue()
    worker.jobs[job] = q
    worker.send(type="render", spec={"job_id": job, "mode": mode, "prompt": "a red fox"})
    got = []
    async for msg in worker.job_messages(q, events.append, "echo worker", "job"):
        got.append(msg)
        if msg["type"] in ("result", "error"):
            return got
    return got


def test_a_job_reports_its_steps_and_result_and_the_worker_stays_warm(child):
    worker = WorkerProcess(child, ["--source", "here", "--plan", "{}"])
    try:
        events: list = []
        first = asyncio.run(_job(worker, "j1", "ok", events))
        assert first[-1] == {"type": "result", "job": "j1", "result": {"echo": "a red fox", "source": "here"}}
        assert [e.fraction for e in events if e.stage == "running"] == [0.5, 1.0]
        assert worker.info["source"] == "here" and worker.logs == ["loaded here"]
        bad = asyncio.run(_job(worker, "j2", "bad", []))
        assert bad[-1]["kind"] == "invalid_request" and "multiple of 8" in bad[-1]["message"]
        assert worker.alive  # a failed job leaves the worker serving
    finally:
        worker.stop()
    assert not worker.alive and worker.exit_code == 0


def test_a_worker_that_dies_mid_job_is_a_transient_error_naming_the_exit_code(child):
    worker = WorkerProcess(child, ["--source", "here", "--plan", "{}"])
    with pytest.raises(TransientError, match=r"the local echo worker ended during the job \(exit code 7\)"):
        asyncio.run(_job(worker, "j1", "die", []))


def test_a_model_that_cannot_load_is_unavailable_with_the_reason(child):
    worker = WorkerProcess(child, ["--source", "broken", "--plan", "{}"])
    with pytest.raises(UnavailableError, match="could not load the model from broken: no weights here"):
        asyncio.run(_job(worker, "j1", "ok", []))
    assert worker.exit_code == 3


def test_the_pool_reuses_a_live_worker_and_forgets_a_dead_one(child):
    pool = WorkerPool()
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        started.append(WorkerProcess(child, ["--source", "here", "--plan", "{}"], on_exit=pool.forget))
        return started[-1]

    try:
        a = pool.get(("here", "cpu"), start)
        assert pool.get(("here", "cpu"), start) is a and len(started) == 1
        assert pool.pids() == [a.proc.pid]
    finally:
        pool.close()
    assert pool.workers == {} and not a.alive


def test_an_unknown_entry_names_the_ones_there_are():
    entries = [Entry("one", "One", "x:y"), Entry("two", "Two", "x:z")]
    assert find_entry(entries, "two", "provider").display_name == "Two"
    with pytest.raises(InvalidRequestError) as err:
        find_entry(entries, "three", "image provider")
    assert "unknown image provider 'three'" in str(err.value) and err.value.allowed == ["one", "two"]
