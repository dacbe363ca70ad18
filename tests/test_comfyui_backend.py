"""The ComfyUI deployment against fake ComfyUI servers on 127.0.0.1 (real HTTP + websocket protocol, the real
server's /object_info): every built-in template, a custom workflow with placeholders, node errors, execution errors,
interrupt and queue removal, a websocket dropped mid-job, outputs saved by other nodes, two servers sharing a
project, and resuming after a restart."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import Settings
from core.errors import CancelledError, ImageAIError, InvalidRequestError
from core.video.media import count_frames, ffmpeg_exe, probe
from providers.ltx.comfyui_backend import ComfyUIBackend
from tests.fakes.comfyui_fake import FakeComfyUI
from tests.fakes.comfyui_helpers import fake, graph_of, image, nodes, provider_for, render, request

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parent.parent


def test_text_to_video_snaps_types_and_progress(fake, tmp_path):
    events = []
    r = render(provider_for(fake), request(tmp_path, width=70, height=100, frames=10), events)
    g = graph_of(fake)
    latent = nodes(g, "EmptyLTXVLatentVideo")[0]
    assert (latent["width"], latent["height"], latent["length"]) == (64, 96, 9)
    assert nodes(g, "RandomNoise")[0]["noise_seed"] == 42 and nodes(g, "CreateVideo")[0]["fps"] == 24
    assert [n["text"] for n in nodes(g, "CLIPTextEncode")] == ["a paper boat on a river", "blurry"]
    assert nodes(g, "CheckpointLoaderSimple")[0]["ckpt_name"] == "ltx-video-2b-v0.9.5.safetensors"
    assert (r.width, r.height, r.seed) == (64, 96, 42) and count_frames(r.clip_path) == 9
    assert any("70x100 -> 64x96" in e.message for e in events)
    fractions = [e.fraction for e in events if e.stage == "running" and e.fraction]
    assert fractions[-1] == 1.0 and len(fractions) >= 2  # websocket progress of the sampler


def test_image_first_last_keyframes(fake, tmp_path):
    red, blue, green = (image(tmp_path, n, c) for n, c in (("red.png", (255, 0, 0)), ("blue.png", (0, 0, 255)),
                                                          ("green.png", (0, 255, 0))))
    p = provider_for(fake)
    render(p, request(tmp_path, start_image=red))
    g = graph_of(fake)
    name = nodes(g, "LoadImage")[0]["image"]
    assert nodes(g, "LTXVImgToVideo") and fake.uploads[name] == red.read_bytes()
    render(p, request(tmp_path, frames=17, start_image=red, end_image=blue, keyframes=[(0.25, green)]))
    g = graph_of(fake)
    guides = nodes(g, "LTXVAddGuide")
    assert [x["frame_idx"] for x in guides] == [0, -1, 6]
    crop = nodes(g, "LTXVCropGuides")[0]
    last_guide = [k for k, n in g.items() if n["class_type"] == "LTXVAddGuide"][-1]
    assert crop["positive"] == [last_guide, 0]  # the chain ends in the last guide
    images = [fake.uploads[n["image"]] for n in nodes(g, "LoadImage")]
    assert sorted(images) == sorted(p.read_bytes() for p in (red, blue, green))


def _clip(path: Path, frames: int) -> Path:
    subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=24",
                    "-frames:v", str(frames), "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def test_extend_and_video_to_video(fake, tmp_path):
    src = _clip(tmp_path / "src.mp4", 17)
    p = provider_for(fake)
    r = render(p, request(tmp_path, "fwd.mp4", frames=17, extend_video=src))
    g = graph_of(fake)
    pick = nodes(g, "ImageFromBatch")[0]
    assert (pick["batch_index"], pick["length"]) == (8, 9) and nodes(g, "LTXVAddGuide")[0]["frame_idx"] == 0
    assert count_frames(r.clip_path) == 17 + 17 - 9  # source, then the new frames after the overlap
    r = render(p, request(tmp_path, "back.mp4", frames=17, extend_video=src, extend_direction="backward"))
    g = graph_of(fake)
    assert nodes(g, "ImageFromBatch")[0]["batch_index"] == 0 and nodes(g, "LTXVAddGuide")[0]["frame_idx"] == 8
    assert count_frames(r.clip_path) == 17 + 17 - 9
    render(p, request(tmp_path, "v2v.mp4", source_video=src))
    g = graph_of(fake)
    video = nodes(g, "LoadVideo")[0]["file"]
    assert nodes(g, "SplitSigmasDenoise")[0]["denoise"] == 0.6 and fake.uploads[video] == src.read_bytes()


def test_lora_template_and_lora_on_other_modes(fake, tmp_path):
    p = provider_for(fake)
    lora = tmp_path / "style.safetensors"
    lora.write_bytes(b"x")
    render(p, request(tmp_path, lora_path=str(lora), lora_scale=0.7))
    g = graph_of(fake)
    node = nodes(g, "LoraLoaderModelOnly")[0]
    assert node["lora_name"] == "style.safetensors" and node["strength_model"] == 0.7
    lid = [k for k, n in g.items() if n["class_type"] == "LoraLoaderModelOnly"][0]
    assert nodes(g, "CFGGuider")[0]["model"] == [lid, 0]
    render(p, request(tmp_path, start_image=image(tmp_path, "s.png", (9, 9, 9)), lora_path=str(lora)))
    assert nodes(graph_of(fake), "LoraLoaderModelOnly") and nodes(graph_of(fake), "LTXVImgToVideo")


def test_custom_workflow_placeholders(fake, tmp_path):
    wf = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ltx-video-2b-v0.9.5.safetensors"}},
        "2": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "style: {{prompt}} (avoid {{negative_prompt}})",
                                                         "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLTXVLatentVideo", "inputs": {"width": "{{width}}", "height": "{{ height }}",
                                                               "length": "{{num_frames}}", "batch_size": 1}},
        "5": {"class_type": "RandomNoise", "inputs": {"noise_seed": "{{seed}}"}},
        "6": {"class_type": "CreateVideo", "inputs": {"images": ["2", 0], "fps": "{{fps}}"}},
        "7": {"class_type": "SaveVideo", "inputs": {"video": ["6", 0], "filename_prefix": "mine/{{seed}}",
                                                    "format": "mp4", "codec": "h264"}},
    }
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(wf))
    p = provider_for(fake)
    start = image(tmp_path, "start.png", (1, 2, 3))
    r = render(p, request(tmp_path, workflow=str(path), start_image=start, width=96, height=64, frames=17, fps=25))
    g = graph_of(fake)
    assert fake.uploads[g["2"]["inputs"]["image"]] == start.read_bytes()
    assert g["3"]["inputs"]["text"] == "style: a paper boat on a river (avoid blurry)"
    assert g["4"]["inputs"] == {"width": 96, "height": 64, "length": 17, "batch_size": 1}
    assert g["5"]["inputs"]["noise_seed"] == 42 and g["6"]["inputs"]["fps"] == 25
    assert g["7"]["inputs"]["filename_prefix"] == "mine/42"
    assert count_frames(r.clip_path) == 17
    with pytest.raises(InvalidRequestError, match="start_image"):
        p.prepare(request(tmp_path, workflow=str(path)))
    wf["5"]["inputs"]["noise_seed"] = "{{sead}}"
    path.write_text(json.dumps(wf))
    with pytest.raises(InvalidRequestError, match="sead"):
        p.prepare(request(tmp_path, workflow=str(path), start_image=start))
    path.write_text(json.dumps({"nodes": [], "links": []}))
    with pytest.raises(InvalidRequestError, match="API Format"):
        p.prepare(request(tmp_path, workflow=str(path)))


def test_a_workflow_without_image_placeholders_uploads_nothing(fake, tmp_path):
    wf = {"4": {"class_type": "EmptyImage", "inputs": {"width": "{{width}}", "height": "{{height}}",
                                                       "batch_size": "{{num_frames}}", "color": 255}},
          "6": {"class_type": "CreateVideo", "inputs": {"images": ["4", 0], "fps": "{{fps}}"}},
          "7": {"class_type": "SaveVideo", "inputs": {"video": ["6", 0], "filename_prefix": "x", "format": "mp4",
                                                      "codec": "h264"}}}
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(wf))
    render(provider_for(fake), request(tmp_path, workflow=str(path), start_image=image(tmp_path, "s.png", (1, 1, 1))))
    assert not fake.uploads


def test_node_errors_the_server_reports_name_the_node(fake, tmp_path):
    wf = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ltx-video-2b-v0.9.5.safetensors"}},
          "2": {"class_type": "SaveVideo", "inputs": {"video": ["1", 0], "filename_prefix": "x", "format": "mp4",
                                                      "codec": "h264"}}}
    (tmp_path / "bad.json").write_text(json.dumps(wf))
    # MODEL into a VIDEO input: only the server's own validation sees it
    with pytest.raises(InvalidRequestError, match=r"node 2 \(SaveVideo\) input video: Return type mismatch"):
        render(provider_for(fake), request(tmp_path, workflow=str(tmp_path / "bad.json")))
    assert not fake.received


def test_execution_error_is_typed(fake, tmp_path):
    fake.fail_next = True
    with pytest.raises(ImageAIError, match="out of memory"):
        render(provider_for(fake), request(tmp_path))
    assert not (tmp_path / "out.mp4").exists()


def test_cancel_interrupts_running_and_removes_queued(fake, tmp_path):
    p = provider_for(fake)
    fake.hang_next = True

    async def go():
        plans = [p.prepare(request(tmp_path, f"{i}.mp4", seed=i)) for i in (1, 2, 3)]
        first = await p.submit(plans[0])
        second = await p.submit(plans[1])
        await p.cancel(second, plans[1])  # still queued behind the hanging one: removed from the queue
        with pytest.raises(CancelledError):
            await p.wait(second, plans[1])
        started = asyncio.Event()

        def on_progress(e):
            if e.stage == "running" and e.fraction:
                started.set()
        task = asyncio.ensure_future(p.wait(first, plans[0], on_progress))
        await asyncio.wait_for(started.wait(), 10)
        await p.cancel(first, plans[0])
        with pytest.raises(CancelledError):
            await task
        third = await p.wait(await p.submit(plans[2]), plans[2])  # the server goes on
        await p.aclose()
        return first.split("@")[0], second.split("@")[0], third

    first_id, second_id, third = asyncio.run(go())
    assert second_id in fake.deleted and first_id in fake.interrupts and third.width == 64


def test_dropped_websocket_still_delivers_the_result(fake, tmp_path):
    fake.drop_ws_next = True
    fake.step_delay = 0.1
    events = []
    r = render(provider_for(fake), request(tmp_path), events)
    assert count_frames(r.clip_path) == 9
    assert any("polling" in e.message for e in events)


def test_vhs_video_combine_output(fake, tmp_path):
    fake.output_kind = "vhs"  # the result listed under "gifs", as VideoHelperSuite's node does
    r = render(provider_for(fake), request(tmp_path, width=96, height=64))
    info = probe(r.clip_path)
    assert info.vcodec == "h264" and (info.width, info.height) == (96, 64) and count_frames(r.clip_path) == 9


def test_two_servers_share_a_six_scene_project(tmp_path):
    a, c = FakeComfyUI().start(), FakeComfyUI().start()
    try:
        p = provider_for(a, c)

        async def go():
            plans = [p.prepare(request(tmp_path, f"scene{i}.mp4", prompt=f"scene {i}", seed=i)) for i in range(6)]
            jobs = [await p.submit(plan) for plan in plans]
            results = await asyncio.gather(*(p.wait(j, plan) for j, plan in zip(jobs, plans)))
            await p.aclose()
            return results
        results = asyncio.run(go())
        # where each finishes first (equal servers: shared, neither holding more than the other's share + 2)
        assert len(a.received) + len(c.received) == 6 and abs(len(a.received) - len(c.received)) <= 2
        assert all(count_frames(r.clip_path) == 9 for r in results)
        assert {r.remote_job_id.split("@")[1] for r in results} == {f"127.0.0.1:{a.port}", f"127.0.0.1:{c.port}"}
    finally:
        a.stop()
        c.stop()


def test_a_restarted_app_fetches_a_finished_job(fake, tmp_path):
    p = provider_for(fake)
    plan = p.prepare(request(tmp_path, seed=None))
    job = asyncio.run(p.submit(plan))
    for _ in range(200):
        if fake.history:
            break
        asyncio.run(asyncio.sleep(0.05))
    fresh = provider_for(fake)  # a new app: nothing in memory but the job id
    r = asyncio.run(fresh.wait(job, fresh.prepare(request(tmp_path, seed=None))))
    assert count_frames(r.clip_path) == 9 and len(fake.received) == 1
    assert r.seed == nodes(graph_of(fake), "RandomNoise")[0]["noise_seed"]  # read back from the history


def test_no_address_is_unavailable_without_network():
    b = ComfyUIBackend(Settings(comfyui_url=""))
    assert "IMAGEAI_COMFYUI_URL" in b.unavailable_reason()


def test_comfyui_through_the_cli(fake, tmp_path):
    out = tmp_path / "cli.mp4"
    env = {**os.environ, "IMAGEAI_COMFYUI_URL": fake.url, "IMAGEAI_CONFIG_DIR": str(tmp_path / "cfg")}
    proc = subprocess.run([sys.executable, "main.py", "--provider", "ltx-video", "--deployment", "comfyui", "--model",
                           "ltx-video-2b", "--width", "64", "--height", "64", "--frames", "9", "--seed", "5", "-p",
                           "a kite", "-o", str(out), "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["width"] == 64 and count_frames(out) == 9
    assert nodes(graph_of(fake), "RandomNoise")[0]["noise_seed"] == 5
