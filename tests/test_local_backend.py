"""The local deployment driven directly (LocalBackend submit/wait) on tiny random LTX / LTX-2 models saved to a folder
and loaded back by the product's own from_pretrained path in its worker process."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.config import Settings
from core.errors import CancelledError, InvalidRequestError, TransientError, UnavailableError
from core.video.media import count_frames, probe
from core.video.render_settings import RenderSettings
from providers.base import RenderRequest
from providers.ltx.local_backend import LocalBackend
from providers.ltx.plan import prepare
from providers.ltx.local_pipelines import read_video_frames, snap_size
from tests.fakes.tiny_ltx import tiny_models  # noqa: F401  (session fixture)

pytestmark = pytest.mark.timeout(300)


UNIVERSAL = set(RenderSettings.model_fields) - {"options"}


def _request(models, out: Path, family="ltx", **kw) -> RenderRequest:
    media = {k: kw.pop(k) for k in ("start_image", "end_image", "keyframes", "source_video", "extend_video")
             if k in kw}
    base = dict(provider="ltx-video", model="ltx-2-19b" if family == "ltx2" else "ltx-video-2b", deployment="local",
                model_path=str(models[family]), device="cpu", width=64, height=64, frames=9, seed=7,
                num_inference_steps=2)
    base.update(kw)
    # LTX's own settings (size, frames, device, weights, steps, LoRA) live in the options part of the settings
    options = {k: base.pop(k) for k in list(base) if k not in UNIVERSAL and base[k] is not None}
    base = {k: v for k, v in base.items() if v is not None}
    return RenderRequest(prompt="a red fox runs", settings=RenderSettings(**base, options=options), output_path=out,
                         **media)


def ltx_plan(backend: LocalBackend, request: RenderRequest):
    """What LTXVideoProvider.prepare does for the local deployment: the catalog's checks, then the backend's."""
    plan = prepare(request).detail
    backend.check(plan)
    return plan


def _frames(path: Path) -> np.ndarray:
    info = probe(path)
    return np.stack([np.asarray(f, dtype=np.int16) for f in read_video_frames(path, info.width, info.height)])


# One event loop for the module, as the GUI keeps one loop for the app's life: the worker is started from one of
# its pool threads, and the kernel ends it with that thread (parent-death signal), so a loop per render would end
# the warm worker after each render (see test_the_worker_outlives_the_loop_that_started_it).
_LOOP: list[asyncio.AbstractEventLoop] = []


def run(coro):
    return _LOOP[0].run_until_complete(coro)


@pytest.fixture(scope="module")
def backend():
    _LOOP.append(asyncio.new_event_loop())
    b = LocalBackend(Settings())
    yield b
    b.close()
    loop = _LOOP.pop()
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()


def render(backend, request, events=None):
    plan = ltx_plan(backend, request)

    async def go():
        job = await backend.submit(plan, (events.append if events is not None else lambda e: None))
        return await backend.wait(job, plan, (events.append if events is not None else lambda e: None))
    return run(go())


def test_snap_reads_the_model_ratios():
    assert snap_size(770, 500, 100, 32, 8) == (768, 512, 97, [
        "size 770x500 -> 768x512 (multiples of 32 for this model)", "frames 100 -> 97 (k*8+1 for this model)"])
    assert snap_size(64, 64, 10, 4, 4)[:3] == (64, 64, 9)
    assert snap_size(100, 64, 9, 64, 8)[:3] == (128, 64, 9)  # a VAE ratio above 32 wins


def test_text_to_video_snaps_and_is_reproducible(backend, tiny_models, tmp_path):
    events = []
    r1 = render(backend, _request(tiny_models, tmp_path / "a.mp4", width=70, height=40, frames=10), events)
    assert (r1.width, r1.height, r1.seed) == (64, 32, 7)
    assert count_frames(tmp_path / "a.mp4") == 9 and probe(tmp_path / "a.mp4").width == 64
    messages = " ".join(e.message for e in events)
    assert "70x40 -> 64x32" in messages and "frames 10 -> 9" in messages
    steps = [e.fraction for e in events if e.stage == "running" and e.fraction is not None]
    assert steps == [0.5, 1.0]
    render(backend, _request(tiny_models, tmp_path / "b.mp4", width=70, height=40, frames=10))
    assert np.array_equal(_frames(tmp_path / "a.mp4"), _frames(tmp_path / "b.mp4"))
    render(backend, _request(tiny_models, tmp_path / "c.mp4", width=70, height=40, frames=10, seed=8))
    assert not np.array_equal(_frames(tmp_path / "a.mp4"), _frames(tmp_path / "c.mp4"))
    assert len(backend.worker_pids()) == 1  # one warm worker served all three


def _image(path: Path, color) -> Path:
    Image.new("RGB", (80, 60), color).save(path)
    return path


def test_image_keyframes_extend_and_video_to_video(backend, tiny_models, tmp_path):
    red, blue = _image(tmp_path / "red.png", (220, 20, 20)), _image(tmp_path / "blue.png", (20, 20, 220))
    i2v = render(backend, _request(tiny_models, tmp_path / "i2v.mp4", start_image=red))
    assert count_frames(i2v.clip_path) == 9
    fl = render(backend, _request(tiny_models, tmp_path / "fl.mp4", start_image=red, end_image=blue))
    assert count_frames(fl.clip_path) == 9
    kf = render(backend, _request(tiny_models, tmp_path / "kf.mp4", frames=17, keyframes=[(0.0, red), (0.3, blue)],
                                  end_image=red))
    assert count_frames(kf.clip_path) == 17
    # forward: the 9-frame source, then 9 - 5 new frames after a 5-frame overlap (k*4+1 for the tiny VAE)
    fwd = render(backend, _request(tiny_models, tmp_path / "fwd.mp4", extend_video=i2v.clip_path))
    assert count_frames(fwd.clip_path) == 13
    src, out = _frames(i2v.clip_path), _frames(fwd.clip_path)
    assert np.abs(out[:9] - src).mean() < 8  # the source comes first, unchanged up to re-encoding
    back = render(backend, _request(tiny_models, tmp_path / "back.mp4", extend_video=i2v.clip_path,
                                    extend_direction="backward"))
    assert np.abs(_frames(back.clip_path)[-9:] - src).mean() < 8
    both = render(backend, _request(tiny_models, tmp_path / "both.mp4", extend_video=i2v.clip_path,
                                    extend_direction="both"))
    assert count_frames(both.clip_path) == 4 + 9 + 4  # new frames before and after the source
    assert np.abs(_frames(both.clip_path)[4:13] - src).mean() < 8
    v2v = render(backend, _request(tiny_models, tmp_path / "v2v.mp4", source_video=fl.clip_path))
    assert count_frames(v2v.clip_path) == 9


def test_lora_scale_zero_matches_base_and_one_changes_it(backend, tiny_models, tmp_path):
    base = _frames(render(backend, _request(tiny_models, tmp_path / "base.mp4")).clip_path)
    for name in ("lora", "lora_comfy"):
        zero = render(backend, _request(tiny_models, tmp_path / f"{name}0.mp4", lora_path=str(tiny_models[name]),
                                        lora_scale=0.0))
        one = render(backend, _request(tiny_models, tmp_path / f"{name}1.mp4", lora_path=str(tiny_models[name]),
                                       lora_scale=1.0))
        assert np.abs(_frames(zero.clip_path) - base).max() <= 1
        assert np.abs(_frames(one.clip_path) - base).mean() > 2
    # a render without --lora after LoRA renders is the base model again
    again = render(backend, _request(tiny_models, tmp_path / "again.mp4"))
    assert np.abs(_frames(again.clip_path) - base).max() <= 1


def test_cancel_stops_between_steps(backend, tiny_models, tmp_path):
    request = ltx_plan(backend, _request(tiny_models, tmp_path / "x.mp4", num_inference_steps=200))
    steps = []

    async def go():
        job = await backend.submit(request)

        def on_progress(e):
            if e.stage == "running" and e.fraction is not None:
                steps.append(e.fraction)
                if len(steps) == 1:
                    asyncio.get_running_loop().create_task(backend.cancel(job))
        await backend.wait(job, request, on_progress)

    with pytest.raises(CancelledError):
        run(go())
    assert 1 <= len(steps) < 200 and not (tmp_path / "x.mp4").exists()
    assert not list(tmp_path.glob(".render-*"))
    assert render(backend, _request(tiny_models, tmp_path / "after.mp4")).width == 64


def test_killed_worker_is_a_typed_error_and_the_next_render_works(backend, tiny_models, tmp_path):
    request = ltx_plan(backend, _request(tiny_models, tmp_path / "k.mp4", num_inference_steps=200))
    killed = []

    async def go():
        job = await backend.submit(request)

        def on_progress(e):
            if e.stage == "running" and e.fraction is not None and not killed:
                killed.append(backend.worker_pids()[0])
                os.kill(killed[0], signal.SIGKILL)
        await backend.wait(job, request, on_progress)

    with pytest.raises(TransientError, match="worker ended"):
        run(go())
    r = render(backend, _request(tiny_models, tmp_path / "next.mp4"))
    assert count_frames(r.clip_path) == 9 and backend.worker_pids() and backend.worker_pids()[0] != killed[0]


def test_validation_before_any_work(tiny_models, tmp_path):
    b = LocalBackend(Settings())
    with pytest.raises(InvalidRequestError, match="no model folder at .*nope"):
        ltx_plan(b, _request(tiny_models, tmp_path / "o.mp4", model_path=str(tmp_path / "nope")))
    with pytest.raises(InvalidRequestError, match="none.safetensors: no such LoRA file"):
        ltx_plan(b, _request(tiny_models, tmp_path / "o.mp4", lora_path=str(tmp_path / "none.safetensors")))
    with pytest.raises(InvalidRequestError, match="video-to-video"):
        ltx_plan(b, _request(tiny_models, tmp_path / "o.mp4", family="ltx2",
                             source_video=_image(tmp_path / "i.png", (1, 2, 3))))
    # no GPU here: CPU only when chosen, and the message says how to choose it
    with pytest.raises(UnavailableError, match="--device cpu"):
        ltx_plan(b, _request(tiny_models, tmp_path / "o.mp4", device=None))
    with pytest.raises(UnavailableError, match="cuda is not available"):
        ltx_plan(b, _request(tiny_models, tmp_path / "o.mp4", device="cuda"))
    assert not b.worker_pids()



def test_idle_worker_ends_by_itself(backend, tiny_models, tmp_path):
    backend.idle_timeout = 0.5
    render(backend, _request(tiny_models, tmp_path / "o.mp4"))
    pid = backend.worker_pids()[0]
    for _ in range(100):
        if not backend.worker_pids():
            break
        time.sleep(0.1)
    assert not backend.worker_pids()
    with pytest.raises(OSError):
        os.kill(pid, 0)  # the process is gone, and with it the memory it held


def test_camera_motion_uses_a_configured_lora_or_prompt_words(tiny_models, tmp_path):
    plain = LocalBackend(Settings()).build_spec(
        prepare(_request(tiny_models, tmp_path / "o.mp4", camera_motion="zoom_in", camera_speed=0.6)).detail, "j1")
    assert plain["prompt"] == "a red fox runs The camera slowly zooms in." and plain["loras"] == []
    with_lora = LocalBackend(Settings(ltx_camera_loras={"dolly_forward": str(tiny_models["lora"])})).build_spec(
        prepare(_request(tiny_models, tmp_path / "o.mp4", camera_motion="dolly_forward", camera_speed=1.5)).detail,
        "j2")
    assert with_lora["prompt"] == "a red fox runs" and with_lora["loras"] == [(str(tiny_models["lora"]), 1.5)]
    audio = LocalBackend(Settings()).build_spec(
        prepare(_request(tiny_models, tmp_path / "o.mp4", family="ltx2", audio_prompt="waves and gulls")).detail, "j3")
    assert audio["prompt"].endswith("Audio: waves and gulls")


def test_the_worker_outlives_the_loop_that_started_it(tiny_models, tmp_path):
    b = LocalBackend(Settings())
    try:
        pids = []
        for name in ("first", "second"):  # a loop per render, as scripts calling asyncio.run each time do
            plan = ltx_plan(b, _request(tiny_models, tmp_path / f"{name}.mp4"))

            async def go():
                job = await b.submit(plan)
                return await b.wait(job, plan)
            assert asyncio.run(go()).clip_path.is_file()
            pids.append(b.worker_pids())
        assert pids[0] and pids[1] == pids[0]  # the warm worker served both
    finally:
        b.close()
