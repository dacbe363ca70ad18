"""Long scenes on Veo: a base clip plus the extensions it needs, chained as one take through the real google-genai
client; resume after a crash follows what was submitted and submits only what never was; cancel stops the chain."""
from __future__ import annotations

import asyncio
import base64

import pytest

from core.errors import CancelledError
from core.render.contract import ProgressEvent
from core.video.media import probe
from tests.fakes.veo_fake import FILES_URI
from tests.test_veo_support import Inputs, provider, render, request_for, submissions, veo  # noqa: F401

GEMINI, VERTEX = "veo-3.1-generate-preview", "veo-3.1-fast-generate-001"


class Crash(BaseException):
    """The app dies (nothing catches a BaseException that is not an Exception)."""


def test_a_20_s_scene_on_the_gemini_api_is_a_base_clip_and_two_extensions(veo, tmp_path):
    out = tmp_path / "clips" / "long.mp4"
    events: list[ProgressEvent] = []
    plan, job, result = render(request_for(GEMINI, "image-to-video", Inputs(tmp_path / "in"), out, duration=20),
                               events=events)
    sent = submissions(veo)
    assert len(sent) == 3 == veo.counts["submissions"]
    base, ext1, ext2 = (s["body"] for s in sent)
    assert base["parameters"]["durationSeconds"] == 8 and base["parameters"]["personGeneration"] == "allow_adult"
    assert "image" in base["instances"][0]
    jobs = list(veo.jobs.values())
    for body, previous in ((ext1, jobs[0]), (ext2, jobs[1])):
        # each extension continues the previous result, named by its files-API uri; no duration, no frames
        assert body["instances"][0]["video"] == {"uri": FILES_URI.format(fid=previous["fid"])}
        assert "image" not in body["instances"][0] and "durationSeconds" not in body["parameters"]
        assert body["parameters"]["resolution"] == "720p" and body["parameters"]["personGeneration"] == "allow_all"
    assert probe(out).duration == pytest.approx(22.0, abs=0.1) == pytest.approx(result.duration)
    assert result.cost == pytest.approx(0.40 * 22) == pytest.approx(plan.cost)
    assert result.remote_job_id == job == jobs[0]["name"]
    assert not plan.detail.chain_file.exists()
    messages = [e.message for e in events if e.stage == "submitted"]
    assert any("extension 2 of 2" in m for m in messages)


def test_vertex_extensions_send_the_previous_clip_inline(veo, tmp_path):
    out = tmp_path / "clips" / "long.mp4"
    plan, job, result = render(request_for(VERTEX, "text-to-video", Inputs(tmp_path / "in"), out, duration=15))
    base, ext = (s["body"] for s in submissions(veo))
    first = veo.clip(list(veo.jobs.values())[0])
    assert base64.b64decode(ext["instances"][0]["video"]["bytesBase64Encoded"]) == first
    assert ext["instances"][0]["video"]["mimeType"] == "video/mp4" and ext["parameters"]["generateAudio"] is True
    assert probe(out).duration == pytest.approx(15.0, abs=0.1)
    assert result.cost == pytest.approx(0.15 * 15)


def test_resume_after_a_crash_continues_the_chain_where_it_stopped(veo, tmp_path):
    out = tmp_path / "clips" / "long.mp4"
    request = request_for(GEMINI, "text-to-video", Inputs(tmp_path / "in"), out, duration=20)

    def crash_after_first_extension(event: ProgressEvent) -> None:
        if event.stage == "submitted" and "extension 1 of 2" in event.message:
            raise Crash()

    async def first_run():
        p = provider()
        plan = p.prepare(request)
        job = await p.submit(plan)
        try:
            await p.wait(job, plan, crash_after_first_extension)
        except Crash:
            return job, plan.detail.chain_file

    job, record = asyncio.run(first_run())
    assert veo.counts["submissions"] == 2 and record.is_file() and not out.exists()

    async def after_restart():  # a new process: a new provider, the plan made again, the saved job id
        p = provider()
        try:
            plan = p.prepare(request)
            return await p.wait(job, plan)
        finally:
            await p.aclose()

    result = asyncio.run(after_restart())
    assert veo.counts["submissions"] == 3  # only the second extension was still to submit
    third = submissions(veo)[2]["body"]["instances"][0]["video"]["uri"]
    assert third == FILES_URI.format(fid=list(veo.jobs.values())[1]["fid"])
    assert probe(out).duration == pytest.approx(22.0, abs=0.1) and result.remote_job_id == job
    assert not record.exists()


def test_resume_of_a_single_clip_never_submits(veo, tmp_path):
    out = tmp_path / "clips" / "one.mp4"
    request = request_for(GEMINI, "text-to-video", Inputs(tmp_path / "in"), out)

    async def go():
        p = provider()
        try:
            plan = p.prepare(request)
            job = await p.submit(plan)
            fresh = provider()
            try:
                return job, await fresh.wait(job, fresh.prepare(request))
            finally:
                await fresh.aclose()
        finally:
            await p.aclose()

    job, result = asyncio.run(go())
    assert veo.counts["submissions"] == 1 and result.remote_job_id == job and out.is_file()


def test_cancel_stops_the_chain_before_the_next_extension(veo, tmp_path):
    out = tmp_path / "clips" / "long.mp4"
    request = request_for(GEMINI, "text-to-video", Inputs(tmp_path / "in"), out, duration=20)

    async def go():
        p = provider()
        try:
            plan = p.prepare(request)
            job = await p.submit(plan)

            def cancel_on_first_extension(event: ProgressEvent) -> None:
                if event.stage == "submitted" and "extension 1" in event.message:
                    asyncio.get_running_loop().create_task(p.cancel(job, plan))

            with pytest.raises(CancelledError):
                await p.wait(job, plan, cancel_on_first_extension)
        finally:
            await p.aclose()

    asyncio.run(go())
    assert veo.counts["submissions"] == 2 and not out.exists()
