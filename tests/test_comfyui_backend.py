"""The ComfyUI deployment against fake ComfyUI servers on 127.0.0.1 (real HTTP + websocket protocol): every built-in
template, a custom workflow with placeholders, node errors, execution errors, interrupt and queue removal, a
websocket dropped mid-job, animated outputs, two servers sharing a project, and resuming after a restart."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from core.config import Settings
from core.errors import CancelledError, ImageAIError, InvalidRequestError, UnavailableError
from core.video.media import count_frames, ffmpeg_exe, probe
from core.video.render_settings import RenderSettings
from providers.base import RenderRequest
from providers.ltx.comfyui_backend import ComfyUIBackend
from tests.fakes.comfyui_fake import FakeComfyUI

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake():
    server = FakeComfyUI().start()
    yield server
    server.stop()


def backend_for(*servers: FakeComfyUI) -> ComfyUIBackend:
    b = ComfyUIBackend(Settings(comfyui_url=",".join(s.url for s in servers)))
    b.poll_interval = 0.05
    return b


def req(tmp_path: Path, name="out.mp4", **kw) -> RenderRequest:
    media = {k: kw.pop(k) for k in ("start_image", "end_image", "keyframes", "source_video", "extend_video")
             if k in kw}
    prompt = kw.pop("prompt", "a paper boat on a river")
    base = dict(provider="ltx-video", model="ltx-video-2b", deployment="comfyui", width=64, height=64, frames=9,
                seed=42, fps=24)
    base.update(kw)
    return RenderRequest(prompt=prompt, negative_prompt="blurry", settings=RenderSettings(**base),
                         output_path=tmp_path / name, **media)


def render(backend, request, events=None):
    async def go():
        cb = events.append if events is not None else (lambda e: None)
        job = await backend.submit(request, cb)
        return await backend.wait(job, request, cb)
    return asyncio.run(go())


def graph_of(fake: FakeComfyUI, index=-1) -> dict:
    return fake.received[index]["prompt"]


def nodes(graph: dict, cls: str) -> list[dict]:
    return [n["inputs"] for n in graph.values() if n["class_type"] == cls]


def image(tmp_path: Path, name: str, color) -> Path:
    Image.new("RGB", (64, 64), color).save(tmp_path / name)
    return tmp_path / name


def test_text_to_video_snaps_types_and_progress(fake, tmp_path):
    b = backend_for(fake)
    events = []
    r = render(b, req(tmp_path, width=70, height=40, frames=10), events)
    g = graph_of(fake)
    latent = nodes(g, "EmptyLTXVLatentVideo")[0]
    assert (latent["width"], latent["height"], latent["length"]) == (64, 32, 9)
    assert nodes(g, "RandomNoise")[0]["noise_seed"] == 42 and nodes(g, "CreateVideo")[0]["fps"] == 24
    assert [n["text"] for n in nodes(g, "CLIPTextEncode")] == ["a paper boat on a river", "blurry"]
    assert nodes(g, "CheckpointLoaderSimple")[0]["ckpt_name"] == "ltx-video-2b-v0.9.5.safetensors"
    assert fake.received[-1]["client_id"] == b.client_id
    assert (r.width, r.height, r.seed) == (64, 32, 42) and count_frames(r.clip_path) == 9
    assert any("70x40 -> 64x32" in e.message for e in events)
    fractions = [e.fraction for e in events if e.stage == "running" and e.fraction]
    assert fractions[-1] == 1.0 and len(fractions) >= 2  # websocket progress of the sampler


def test_image_first_last_keyframes(fake, tmp_path):
    b = backend_for(fake)
    red, blue, green = (image(tmp_path, n, c) for n, c in (("red.png", (255, 0, 0)), ("blue.png", (0, 0, 255)),
                                                          ("green.png", (0, 255, 0))))
    render(b, req(tmp_path, start_image=red))
    g = graph_of(fake)
    assert nodes(g, "LoadImage")[0]["image"] == "red.png" and nodes(g, "LTXVImgToVideo")
    assert fake.uploads["red.png"] == red.read_bytes()
    render(b, req(tmp_path, frames=17, start_image=red, end_image=blue, keyframes=[(0.25, green)]))
    g = graph_of(fake)
    guides = nodes(g, "LTXVAddGuide")
    assert [x["frame_idx"] for x in guides] == [0, -1, 6]
    crop = nodes(g, "LTXVCropGuides")[0]
    last_guide = [k for k, n in g.items() if n["class_type"] == "LTXVAddGuide"][-1]
    assert crop["positive"] == [last_guide, 0]  # the chain ends in the last guide


def test_extend_and_video_to_video(fake, tmp_path):
    b = backend_for(fake)
    src = tmp_path / "src.mp4"
    subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=24",
                    "-frames:v", "17", "-pix_fmt", "yuv420p", str(src)], check=True)
    r = render(b, req(tmp_path, "fwd.mp4", frames=17, extend_video=src))
    g = graph_of(fake)
    pick = nodes(g, "ImageFromBatch")[0]
    assert (pick["batch_index"], pick["length"]) == (8, 9) and nodes(g, "LTXVAddGuide")[0]["frame_idx"] == 0
    assert count_frames(r.clip_path) == 17 + 17 - 9  # source, then the new frames after the overlap
    render(b, req(tmp_path, "back.mp4", frames=17, extend_video=src, extend_direction="backward"))
    g = graph_of(fake)
    assert nodes(g, "ImageFromBatch")[0]["batch_index"] == 0 and nodes(g, "LTXVAddGuide")[0]["frame_idx"] == 8
    render(b, req(tmp_path, "v2v.mp4", source_video=src))
    g = graph_of(fake)
    assert nodes(g, "SplitSigmasDenoise")[0]["denoise"] == 0.6 and nodes(g, "LoadVideo")[0]["file"] == "src.mp4"


def test_lora_template_and_lora_on_other_modes(fake, tmp_path):
    b = backend_for(fake)
    lora = tmp_path / "style.safetensors"
    lora.write_bytes(b"x")
    render(b, req(tmp_path, lora_path=str(lora), lora_scale=0.7))
    g = graph_of(fake)
    node = nodes(g, "LoraLoaderModelOnly")[0]
    assert node["lora_name"] == "style.safetensors" and node["strength_model"] == 0.7
    lid = [k for k, n in g.items() if n["class_type"] == "LoraLoaderModelOnly"][0]
    assert nodes(g, "CFGGuider")[0]["model"] == [lid, 0]
    render(b, req(tmp_path, start_image=image(tmp_path, "s.png", (9, 9, 9)), lora_path=str(lora)))
    assert nodes(graph_of(fake), "LoraLoaderModelOnly") and nodes(graph_of(fake), "LTXVImgToVideo")
    other = tmp_path / "other.safetensors"
    other.write_bytes(b"x")
    with pytest.raises(InvalidRequestError, match="models/loras.*style.safetensors"):
        render(b, req(tmp_path, lora_path=str(other)))


def test_custom_workflow_placeholders(fake, tmp_path):
    wf = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ltx-video-2b-v0.9.5.safetensors"}},
        "2": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "style: {{prompt}} (avoid {{negative_prompt}})",
                                                         "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLTXVLatentVideo", "inputs": {"width": "{{width}}", "height": "{{ height }}",
                                                               "length": "{{num_frames}}", "batch_size": 1}},
        "5": {"class_type": "RandomNoise", "inputs": {"noise_seed": "{{seed}}"}},
        "6": {"class_type": "CreateVideo", "inputs": {"images": ["4", 0], "fps": "{{fps}}"}},
        "7": {"class_type": "SaveVideo", "inputs": {"video": ["6", 0], "filename_prefix": "mine/{{seed}}",
                                                    "format": "mp4", "codec": "h264"}},
    }
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(wf))
    b = backend_for(fake)
    start = image(tmp_path, "start.png", (1, 2, 3))
    r = render(b, req(tmp_path, workflow=str(path), start_image=start, width=96, height=64, frames=17, fps=25))
    g = graph_of(fake)
    assert g["2"]["inputs"]["image"] == "start.png"
    assert g["3"]["inputs"]["text"] == "style: a paper boat on a river (avoid blurry)"
    assert g["4"]["inputs"] == {"width": 96, "height": 64, "length": 17, "batch_size": 1}
    assert g["5"]["inputs"]["noise_seed"] == 42 and g["6"]["inputs"]["fps"] == 25
    assert g["7"]["inputs"]["filename_prefix"] == "mine/42"
    assert count_frames(r.clip_path) == 17
    with pytest.raises(InvalidRequestError, match="start_image"):
        b.validate(req(tmp_path, workflow=str(path)))
    wf["5"]["inputs"]["noise_seed"] = "{{sead}}"
    path.write_text(json.dumps(wf))
    with pytest.raises(InvalidRequestError, match="sead"):
        b.validate(req(tmp_path, workflow=str(path), start_image=start))
    path.write_text(json.dumps({"nodes": [], "links": []}))
    with pytest.raises(InvalidRequestError, match="API Format"):
        b.validate(req(tmp_path, workflow=str(path)))


def test_node_errors_on_submit_and_missing_nodes(tmp_path):
    lacking = FakeComfyUI(missing_nodes=("LTXVAddGuide", "LTXVCropGuides")).start()
    nomodel = FakeComfyUI(checkpoints=("sdxl.safetensors",)).start()
    try:
        b = backend_for(lacking)
        red = image(tmp_path, "r.png", (255, 0, 0))
        with pytest.raises(UnavailableError, match="LTXVAddGuide, LTXVCropGuides"):
            render(b, req(tmp_path, start_image=red, end_image=red))
        with pytest.raises(UnavailableError, match="sdxl.safetensors"):
            render(backend_for(nomodel), req(tmp_path))
        wf = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "missing.safetensors"}},
              "2": {"class_type": "SaveVideo", "inputs": {"video": ["1", 0], "filename_prefix": "x"}}}
        (tmp_path / "bad.json").write_text(json.dumps(wf))
        with pytest.raises(InvalidRequestError, match="node 1 \\(CheckpointLoaderSimple\\) input ckpt_name"):
            render(b, req(tmp_path, workflow=str(tmp_path / "bad.json")))
        assert not lacking.received
    finally:
        lacking.stop()
        nomodel.stop()


def test_execution_error_is_typed(fake, tmp_path):
    fake.fail_next = True
    with pytest.raises(ImageAIError, match="out of memory"):
        render(backend_for(fake), req(tmp_path))
    assert not (tmp_path / "out.mp4").exists()


def test_cancel_interrupts_running_and_removes_queued(fake, tmp_path):
    b = backend_for(fake)
    fake.hang_next = True

    async def go():
        first = await b.submit(req(tmp_path, "1.mp4"))
        second = await b.submit(req(tmp_path, "2.mp4"))
        await b.cancel(second)  # still queued behind the hanging one: removed from the queue
        with pytest.raises(CancelledError):
            await b.wait(second, req(tmp_path, "2.mp4"))
        started = asyncio.Event()

        def on_progress(e):
            if e.stage == "running" and e.fraction:
                started.set()
        task = asyncio.ensure_future(b.wait(first, req(tmp_path, "1.mp4"), on_progress))
        await asyncio.wait_for(started.wait(), 10)
        await b.cancel(first)
        with pytest.raises(CancelledError):
            await task
        return first.split("@")[0], second.split("@")[0]

    first_id, second_id = asyncio.run(go())
    assert second_id in fake.deleted and first_id in fake.interrupts
    assert render(b, req(tmp_path, "3.mp4")).width == 64  # the server goes on


def test_dropped_websocket_still_delivers_the_result(fake, tmp_path):
    fake.drop_ws_next = True
    fake.step_delay = 0.1
    events = []
    r = render(backend_for(fake), req(tmp_path), events)
    assert count_frames(r.clip_path) == 9
    assert any("polling" in e.message for e in events)


@pytest.mark.parametrize("kind", ["webp", "vhs"])
def test_animated_and_vhs_outputs_become_mp4(fake, tmp_path, kind):
    fake.output_kind = kind
    r = render(backend_for(fake), req(tmp_path, width=96, height=64))
    info = probe(r.clip_path)
    assert info.vcodec == "h264" and (info.width, info.height) == (96, 64) and count_frames(r.clip_path) == 9


def test_two_servers_share_a_six_scene_project(tmp_path):
    a, c = FakeComfyUI().start(), FakeComfyUI().start()
    try:
        b = backend_for(a, c)

        async def go():
            return await asyncio.gather(*(
                _one(b, req(tmp_path, f"scene{i}.mp4", prompt=f"scene {i}", seed=i)) for i in range(6)))
        results = asyncio.run(go())
        assert len(a.received) == 3 and len(c.received) == 3
        assert all(count_frames(r.clip_path) == 9 for r in results)
        assert {r.remote_job_id.split("@")[1] for r in results} == {a.url, c.url}
    finally:
        a.stop()
        c.stop()


async def _one(b, request):
    job = await b.submit(request)
    return await b.wait(job, request)


def test_a_restarted_app_fetches_a_finished_job(fake, tmp_path):
    job = asyncio.run(backend_for(fake).submit(req(tmp_path)))
    for _ in range(100):
        if fake.history:
            break
        asyncio.run(asyncio.sleep(0.05))
    fresh = backend_for(fake)  # a new app: nothing in memory but the job id
    r = asyncio.run(fresh.wait(job, req(tmp_path)))
    assert count_frames(r.clip_path) == 9 and len(fake.received) == 1


def test_no_address_is_unavailable_without_network():
    b = ComfyUIBackend(Settings(comfyui_url=""))
    assert "IMAGEAI_COMFYUI_URL" in b.unavailable_reason()


def test_comfyui_through_the_cli(fake, tmp_path):
    out = tmp_path / "cli.mp4"
    env = {**os.environ, "IMAGEAI_COMFYUI_URL": fake.url}
    proc = subprocess.run([sys.executable, "main.py", "--provider", "ltx-video", "--deployment", "comfyui", "--model",
                           "ltx-video-2b", "--width", "64", "--height", "64", "--frames", "9", "--seed", "5", "-p",
                           "a kite", "-o", str(out), "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["width"] == 64 and count_frames(out) == 9
    assert nodes(graph_of(fake), "RandomNoise")[0]["noise_seed"] == 5
