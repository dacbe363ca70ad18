"""The render queue: concurrency, persistence of job ids, safe retries, timeouts, cancel, skip and the ledger.

The provider here is a scripted implementation of the provider contract (each behaviour a real provider can show),
so the queue's own rules are tested in isolation; the real providers are tested against loopback servers."""
import asyncio
import json
import shutil
from pathlib import Path

import pytest

from core.config import Settings
from core.errors import ContentRejectedError, RateLimitedError, TransientError
from core.render.queue import RenderQueue
from core.video.project import Scene
from core.video.project_io import ProjectStore
from core.render.planning import finish_plan
from providers.base import Capabilities, ModelInfo, ProgressEvent, RenderPlan, RenderResult, VideoProvider

MODEL = ModelInfo(id="m", label="M", resolutions=["480p", "720p"], aspect_ratios=["16:9"], fps=[24],
                  price_per_second={"*": 0.1})


class ScriptedProvider(VideoProvider):
    name = "scripted"

    def __init__(self, clip: Path, latency=0.05, submit_errors=(), wait_errors=(), hang=False):
        self.clip, self.latency, self.hang = clip, latency, hang
        self.submit_errors, self.wait_errors = list(submit_errors), list(wait_errors)
        self.submitted, self.cancelled, self.waits = [], [], 0
        self.running = self.max_running = 0

    def capabilities(self):
        return Capabilities(name="scripted", display_name="Scripted", models=[MODEL])

    def prepare(self, request):
        seconds = request.cut_seconds
        plan = RenderPlan(provider="scripted", model="m", request=request, cost=round(0.1 * seconds, 4),
                          sent={"resolution": request.settings.resolution, "duration": seconds},
                          render_seconds=seconds, cut_seconds=seconds, expected_seconds=seconds)
        return finish_plan(plan)

    async def submit(self, plan, progress=lambda e: None):
        if self.submit_errors:
            raise self.submit_errors.pop(0)
        job = f"job{len(self.submitted) + 1}"
        self.submitted.append(job)
        return job

    async def wait(self, job_id, plan, progress=lambda e: None):
        self.waits += 1
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            if self.wait_errors:
                raise self.wait_errors.pop(0)
            progress(ProgressEvent(stage="running", fraction=0.5))
            await asyncio.sleep(3600 if self.hang else self.latency)
        finally:
            self.running -= 1
        out = plan.request.output_path
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.clip, out)
        return RenderResult(clip_path=out, duration=plan.render_seconds, width=854, height=480, fps=24,
                            cost=plan.cost, remote_job_id=job_id)

    async def cancel(self, job_id, plan=None):
        self.cancelled.append(job_id)


@pytest.fixture
def clip(tmp_path_factory):
    from providers.animatic import AnimaticProvider
    from providers.base import RenderRequest
    from core.video.render_settings import RenderSettings
    d = tmp_path_factory.mktemp("clip")
    req = RenderRequest(prompt="x", settings=RenderSettings(resolution="480p", duration=2.0), output_path=d / "c.mp4",
                        work_dir=d)
    p = AnimaticProvider()
    return asyncio.run(p.wait("j", p.prepare(req))).clip_path


def make_store(tmp_path, n=3):
    store = ProjectStore.create(tmp_path / "proj")
    store.project.render.provider = "scripted"
    store.project.render.model = "m"
    store.project.render.resolution = "480p"
    for i in range(n):
        store.project.scenes.append(Scene(prompt=f"scene {i}", duration=2.0))
    store.save()
    return store


def queue_for(store, provider, events=None, **settings):
    s = Settings(render_concurrency={"default": settings.pop("concurrency", 2)}, **settings)
    return RenderQueue(store, s, provider_getter=lambda name, _s: provider,
                       on_event=(events.append if events is not None else None))


def test_renders_all_scenes_with_concurrency_limit_and_ledger(tmp_path, clip):
    store = make_store(tmp_path, 5)
    provider = ScriptedProvider(clip, latency=0.2)
    events = []
    summary = asyncio.run(queue_for(store, provider, events, concurrency=2).run())
    assert len(summary.done) == 5 and not summary.failed
    assert provider.max_running == 2
    reloaded = ProjectStore.open(store.folder).project
    assert all(s.selected_take.status == "done" for s in reloaded.scenes)
    assert all(store.resolve(s.selected_take.clip_path).is_file() for s in reloaded.scenes)
    assert [round(e.cost, 4) for e in reloaded.ledger] == [0.2] * 5  # 2 s x $0.10
    assert reloaded.total_cost == pytest.approx(1.0)
    assert {e.kind for e in events} >= {"queued", "submitted", "progress", "done"}


def test_job_id_is_saved_before_waiting(tmp_path, clip):
    store = make_store(tmp_path, 1)
    seen = []

    class Spy(ScriptedProvider):
        async def wait(self, job_id, plan, progress=lambda e: None):
            on_disk = json.loads(store.path.read_text())
            seen.append(on_disk["scenes"][0]["takes"][-1])
            return await super().wait(job_id, plan, progress)

    asyncio.run(queue_for(store, Spy(clip)).run())
    assert seen[0]["remote_job_id"] == "job1" and seen[0]["status"] == "submitted"


def test_second_run_skips_done_scenes_unless_forced(tmp_path, clip):
    store = make_store(tmp_path, 2)
    provider = ScriptedProvider(clip)
    asyncio.run(queue_for(store, provider).run())
    summary = asyncio.run(queue_for(store, provider).run())
    assert len(summary.skipped) == 2 and len(provider.submitted) == 2
    store.project.scenes[0].prompt = "changed"
    summary = asyncio.run(queue_for(store, provider).run())
    assert summary.done == [store.project.scenes[0].id] and len(provider.submitted) == 3
    summary = asyncio.run(queue_for(store, provider).run(force=True))
    assert len(summary.done) == 2 and len(provider.submitted) == 5


def test_submit_retried_only_when_service_said_not_created(tmp_path, clip):
    store = make_store(tmp_path, 1)
    provider = ScriptedProvider(clip, submit_errors=[RateLimitedError("slow down", retry_after=0.05,
                                                                      not_created=True)])
    events = []
    summary = asyncio.run(queue_for(store, provider, events).run())
    assert len(summary.done) == 1 and provider.submitted == ["job1"]
    assert any(e.kind == "retry" and "0.05" in e.message for e in events)

    store2 = make_store(tmp_path / "b", 1)
    provider2 = ScriptedProvider(clip, submit_errors=[TransientError("connection dropped after sending")])
    summary = asyncio.run(queue_for(store2, provider2).run())
    assert summary.failed and provider2.submitted == []
    take = store2.project.scenes[0].takes[-1]
    assert take.status == "failed" and take.error_kind == "transient"


def test_wait_errors_are_retried_without_resubmitting(tmp_path, clip):
    store = make_store(tmp_path, 1)
    provider = ScriptedProvider(clip, wait_errors=[TransientError("503"), RateLimitedError("429", retry_after=0.01)])
    summary = asyncio.run(queue_for(store, provider).run())
    assert len(summary.done) == 1 and provider.submitted == ["job1"] and provider.waits == 3


def test_content_rejection_fails_the_scene_and_keeps_the_rest(tmp_path, clip):
    store = make_store(tmp_path, 2)
    provider = ScriptedProvider(clip, wait_errors=[ContentRejectedError("flagged by the content policy")])
    summary = asyncio.run(queue_for(store, provider, concurrency=1).run())
    assert len(summary.done) == 1 and len(summary.failed) == 1
    reloaded = ProjectStore.open(store.folder).project
    failed = [t for s in reloaded.scenes for t in s.takes if t.status == "failed"]
    assert failed[0].error_kind == "content_rejected" and "content policy" in failed[0].error


def test_timeout_cancels_the_remote_job(tmp_path, clip):
    store = make_store(tmp_path, 1)
    provider = ScriptedProvider(clip, hang=True)
    summary = asyncio.run(queue_for(store, provider, render_timeout_s=0.3).run())
    assert summary.failed and provider.cancelled == ["job1"]
    assert store.project.scenes[0].takes[-1].error_kind == "timeout"


def test_cancel_one_and_all(tmp_path, clip):
    store = make_store(tmp_path, 3)
    provider = ScriptedProvider(clip, hang=True)
    queue = queue_for(store, provider, concurrency=3)

    async def go():
        task = asyncio.ensure_future(queue.run())
        while len(provider.submitted) < 3:
            await asyncio.sleep(0.01)
        queue.cancel(store.project.scenes[0].id)
        await asyncio.sleep(0.05)
        queue.cancel()
        return await task

    summary = asyncio.run(go())
    assert len(summary.cancelled) == 3
    assert sorted(provider.cancelled) == ["job1", "job2", "job3"]
    reloaded = ProjectStore.open(store.folder).project
    assert [s.takes[-1].status for s in reloaded.scenes] == ["cancelled"] * 3


def test_restart_follows_submitted_jobs_instead_of_submitting(tmp_path, clip):
    store = make_store(tmp_path, 2)
    provider = ScriptedProvider(clip, hang=True)
    queue = queue_for(store, provider)

    async def interrupted():
        task = asyncio.ensure_future(queue.run())
        while len(provider.submitted) < 2:
            await asyncio.sleep(0.01)
        task.cancel()  # the process "dies": no cancel reaches the takes' state on disk below
    asyncio.run(interrupted())
    # what a crashed process leaves: takes that were submitted (reload the saved file, written before waiting)
    on_disk = json.loads(store.path.read_text())
    for s in on_disk["scenes"]:
        s["takes"][-1]["status"] = "submitted"
    store.path.write_text(json.dumps(on_disk))
    reopened = ProjectStore.open(store.folder)
    fresh = ScriptedProvider(clip)
    summary = asyncio.run(queue_for(reopened, fresh).run())
    assert len(summary.done) == 2 and fresh.submitted == []
    assert fresh.waits == 2


def test_plan_estimates_cost_before_anything_is_spent(tmp_path, clip):
    store = make_store(tmp_path, 3)
    provider = ScriptedProvider(clip)
    plan = queue_for(store, provider).plan()
    assert plan.total_cost == pytest.approx(0.6) and provider.submitted == []
