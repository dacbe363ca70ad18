"""Faults on the wire, through the real render queue, the real SDKs and the loopback fakes: each ends in a done take
or a clear typed error, the project file stays valid, and no job is ever submitted twice."""
from __future__ import annotations

import asyncio

import pytest

from core.config import Settings
from core.render.queue import RenderQueue
from core.video.project import Scene
from core.video.project_io import ProjectStore
from providers import registry
from tests.test_ltx_support import fal, rep  # noqa: F401

RATE_LIMIT = {"status": 429, "json": {"detail": "Request was throttled. Your rate limit resets in ~1s."},
              "headers": {"Retry-After": "1"}}
INGRESS_503 = {"status": 503, "text": "<html><center><h1>503 Service Temporarily Unavailable</h1></center>"
                                      "<hr><center>nginx</center></html>"}
FAL_CONTENT = {"status": 422, "headers": {"X-Fal-Error-Type": "content_policy_violation"},
               "json": {"detail": [{"loc": ["body", "prompt"], "msg": "The content could not be processed because it "
                                    "contained material flagged by a content checker.",
                                    "type": "content_policy_violation"}]}}


def ltx_store(tmp_path, deployment: str, n: int = 1) -> ProjectStore:
    store = ProjectStore.create(tmp_path / "proj", name="faults")
    r = store.project.render
    r.provider, r.deployment, r.model, r.resolution, r.fps = "ltx-video", deployment, "ltx-2-fast", "1080p", 25
    for i in range(n):
        store.project.scenes.append(Scene(prompt=f"scene {i}: a lighthouse at dusk", duration=6.0))
    store.save()
    return store


def run_queue(store, **settings):
    s = Settings(poll_interval_s=0.05, **settings)
    return asyncio.run(RenderQueue(store, s, provider_getter=registry.get).run())


def reloaded_take(store):
    project = ProjectStore.open(store.folder).project  # the file must still load
    return project, project.scenes[0].takes[-1]


# ---------------------------------------------------------------- fal
@pytest.mark.parametrize("where,faults", [
    ("submit", [RATE_LIMIT, RATE_LIMIT]),      # fal-client retries 429: no job was created
    ("status", [RATE_LIMIT]),
    ("submit", [INGRESS_503]),                 # ingress error: the app never saw the request
    ("status", [INGRESS_503]),
    ("status", [{"drop": True}]),              # connection dropped while polling
    ("status", [{"malformed": True}]),         # malformed JSON
    ("media", [{"drop": True}]),               # connection dropped during the download
], ids=["submit-429", "status-429", "submit-503-ingress", "status-503-ingress", "poll-drop", "malformed-json",
        "download-drop"])
def test_fal_recoverable_faults_end_in_a_done_take(fal, tmp_path, where, faults):
    store = ltx_store(tmp_path, "fal")
    fal.inject(where, *faults)
    summary = run_queue(store)
    project, take = reloaded_take(store)
    assert summary.done == [project.scenes[0].id], summary.failed
    assert take.status == "done" and store.resolve(take.clip_path).is_file()
    assert fal.counts["submissions"] == 1
    assert project.ledger[-1].cost == pytest.approx(0.24)


@pytest.mark.parametrize("where,fault,kind,attempts", [
    ("result", FAL_CONTENT, "content_rejected", 1),
    ("submit", FAL_CONTENT, "content_rejected", 1),
    ("submit", {"drop": True}, "transient", 1),          # sent, then the line broke: the job may exist
    ("submit", {"malformed": True}, "transient", 1),
    ("submit", {"status": 401, "json": {"detail": "Invalid key"}}, "auth", 1),
    ("submit", {"status": 402, "json": {"detail": "Exhausted balance"}}, "payment", 1),
    ("submit", {"status": 422, "json": {"detail": [{"loc": ["body", "duration"], "msg": "must be 6, 8 or 10",
                                                     "type": "value_error"}]}}, "invalid_request", 1),
], ids=["result-content", "submit-content", "submit-drop", "submit-malformed", "auth", "payment", "invalid"])
def test_fal_fatal_faults_end_in_a_typed_error_without_resubmitting(fal, tmp_path, where, fault, kind, attempts):
    store = ltx_store(tmp_path, "fal")
    fal.inject(where, fault)
    summary = run_queue(store)
    project, take = reloaded_take(store)
    assert take.status == "failed" and take.error_kind == kind, take.error
    assert summary.failed
    assert fal.counts["submit_attempts"] == attempts
    if where == "submit" and kind == "invalid_request":
        assert "duration: must be 6, 8 or 10" in take.error  # the service's own message
    assert "fal-test-key" not in take.error


def test_fal_download_that_never_completes_is_a_transient_error_and_leaves_no_file(fal, tmp_path):
    store = ltx_store(tmp_path, "fal")
    fal.inject("media", *[{"drop": True}] * 12)
    run_queue(store, render_retries=1)
    project, take = reloaded_take(store)
    assert take.status == "failed" and take.error_kind == "transient"
    assert not list((store.folder / "clips").glob("*.mp4")) and not list((store.folder / "clips").glob("*.part"))
    assert fal.counts["submissions"] == 1


def test_fal_job_that_never_finishes_times_out_and_is_cancelled(fal, tmp_path):
    store = ltx_store(tmp_path, "fal")
    fal.never_finish = True
    run_queue(store, render_timeout_s=0.6)
    project, take = reloaded_take(store)
    assert take.status == "failed" and take.error_kind == "timeout"
    assert fal.counts["cancels"] >= 1 and fal.jobs[take.remote_job_id]["cancelled"]
    assert fal.counts["submissions"] == 1


def _cancel_mid_job(store, fake):
    async def go():
        queue = RenderQueue(store, Settings(poll_interval_s=0.05), provider_getter=registry.get)
        task = asyncio.ensure_future(queue.run())
        while fake.counts["status_polls"] < 2:
            await asyncio.sleep(0.02)
        queue.cancel()
        return await task
    return asyncio.run(go())


def test_fal_user_cancel_mid_job_cancels_the_remote_job(fal, tmp_path):
    store = ltx_store(tmp_path, "fal")
    fal.never_finish = True
    summary = _cancel_mid_job(store, fal)
    project, take = reloaded_take(store)
    assert summary.cancelled and take.status == "cancelled"
    assert fal.jobs[take.remote_job_id]["cancelled"]
    assert fal.counts["submissions"] == 1


# ---------------------------------------------------------------- replicate
@pytest.mark.parametrize("where,faults", [
    ("submit", [RATE_LIMIT]),                   # POST is never retried by replicate; the queue waits Retry-After
    ("status", [RATE_LIMIT]),
    ("status", [{"status": 503, "json": {"detail": "unavailable"}}]),
    ("status", [{"drop": True}]),
    ("status", [{"malformed": True}]),
    ("media", [{"drop": True}]),
], ids=["submit-429", "status-429", "status-503", "poll-drop", "malformed-json", "download-drop"])
def test_replicate_recoverable_faults_end_in_a_done_take(rep, tmp_path, where, faults):
    store = ltx_store(tmp_path, "replicate")
    rep.inject(where, *faults)
    summary = run_queue(store)
    project, take = reloaded_take(store)
    assert summary.done, summary.failed
    assert take.status == "done" and store.resolve(take.clip_path).is_file()
    assert rep.counts["submissions"] == 1


@pytest.mark.parametrize("where,fault,kind,attempts", [
    ("outcome", {"final_status": "failed", "error": "NSFW content detected (E005)"}, "content_rejected", 1),
    ("outcome", {"final_status": "aborted"}, "transient", 1),
    ("submit", {"drop": True}, "transient", 1),
    ("submit", {"status": 401, "json": {"title": "Unauthenticated", "detail": "Invalid token", "status": 401}},
     "auth", 1),
    ("submit", {"status": 402, "json": {"title": "Payment required", "detail": "no credit", "status": 402}},
     "payment", 1),
    ("submit", {"status": 422, "json": {"title": "Input validation failed", "detail": "duration: must be one of 6, 8, 10",
                                        "status": 422}}, "invalid_request", 1),
], ids=["content", "aborted", "submit-drop", "auth", "payment", "invalid"])
def test_replicate_fatal_faults_end_in_a_typed_error(rep, tmp_path, where, fault, kind, attempts):
    store = ltx_store(tmp_path, "replicate")
    rep.inject(where, fault)
    run_queue(store)
    project, take = reloaded_take(store)
    assert take.status == "failed" and take.error_kind == kind, take.error
    assert rep.counts["submit_attempts"] == attempts
    if kind == "invalid_request":
        assert "duration: must be one of 6, 8, 10" in take.error


def test_replicate_rate_limit_carries_retry_after(rep, tmp_path):
    store = ltx_store(tmp_path, "replicate")
    rep.inject("submit", {**RATE_LIMIT, "headers": {"Retry-After": "7"}})
    run_queue(store, render_retries=0)
    project, take = reloaded_take(store)
    assert take.error_kind == "rate_limited" and "retry after 7 s" in take.error
    assert rep.counts["submissions"] == 0


def test_replicate_job_that_never_finishes_times_out_and_is_cancelled(rep, tmp_path):
    store = ltx_store(tmp_path, "replicate")
    rep.never_finish = True
    run_queue(store, render_timeout_s=0.6)
    project, take = reloaded_take(store)
    assert take.status == "failed" and take.error_kind == "timeout"
    assert rep.jobs[take.remote_job_id].get("cancelled")


def test_replicate_user_cancel_mid_job(rep, tmp_path):
    store = ltx_store(tmp_path, "replicate")
    rep.never_finish = True
    summary = _cancel_mid_job(store, rep)
    project, take = reloaded_take(store)
    assert summary.cancelled and take.status == "cancelled"
    assert rep.jobs[take.remote_job_id].get("cancelled")
