"""LTX-2.3 and LTX-2.5 on ComfyUI, end to end through the CLI on the fake server: the template the plan chooses
(mode x audio x camera, providers/ltx/comfyui_workflows.template_for) is the graph the server receives, exactly,
with the prompt, size, frames, fps, seed, guidance, the audio prompt and the camera LoRA filled; an audio render
comes back with a sound track; a server lacking the Gemma text encoder or the LTX-2.5 audio VAE makes the render
exit 2 naming the file and its models/ folder, with nothing uploaded or queued; the checkpoint is the model's own."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import Settings
from core.render.contract import RenderRequest
from core.video.media import probe
from core.video.render_settings import RenderSettings
from providers.ltx import comfyui_workflows as wf
from providers.ltx.comfyui_backend import ComfyUIBackend
from providers.ltx.plan import prepare
from tests.fakes.comfyui_fake import FakeComfyUI
from tests.fakes.comfyui_helpers import graph_of, image

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parent.parent
GEMMA3 = "gemma_3_12B_it_fp4_mixed.safetensors"
GEMMA4 = "gemma4-12b-with-proj-ltx-2.5-comfy-int8-convrot.safetensors"
CKPT_23 = "ltx-2.3-22b-dev-fp8.safetensors"
DISTILLED_23 = "ltx-2.3-22b-distilled-lora-384.safetensors"
UNET_25 = "ltx-2.5-22b-distilled-transformer-comfy-int8-convrot.safetensors"
VIDEO_VAE_25, AUDIO_VAE_25 = "ltx-2.5-video-vae-bf16.safetensors", "ltx-2.5-audio-vae-bf16.safetensors"
CAMERA_19B = "ltx-2-19b-lora-camera-control-dolly-in.safetensors"
CAMERA_25 = "ltx-2.5-camera-control-dolly-in.safetensors"
SMALL = ("--width", "64", "--height", "64", "--frames", "9", "--fps", "24", "--seed", "11", "--guidance", "4",
         "--negative-prompt", "blurry")


def server(**kw) -> FakeComfyUI:
    files = dict(checkpoints=("ltx-video-2b-v0.9.5.safetensors", CKPT_23), clips=("t5xxl_fp16.safetensors", GEMMA3,
                 GEMMA4), loras=(DISTILLED_23, CAMERA_19B, CAMERA_25), unets=(UNET_25,),
                 vaes=(VIDEO_VAE_25, AUDIO_VAE_25))
    return FakeComfyUI(**{**files, **kw}).start()


@pytest.fixture(scope="module")
def farm():
    fake = server()
    yield fake
    fake.stop()


def cli(fake: FakeComfyUI, tmp_path: Path, model: str, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "IMAGEAI_COMFYUI_URL": fake.url, "IMAGEAI_CONFIG_DIR": str(tmp_path / "cfg")}
    return subprocess.run([sys.executable, "main.py", "--provider", "ltx-video", "--deployment", "comfyui",
                           "--model", model, "-p", "a kite over the sea", "-o", str(tmp_path / "out.mp4"), *SMALL,
                           *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)


def expected(model: str, template: str, info: dict, **values) -> dict:
    """The template of the model's set as the server should receive it."""
    base = {"prompt": "a kite over the sea", "negative_prompt": "blurry", "width": 64, "height": 64,
            "num_frames": 9, "fps": 24, "seed": 11, "cfg": 4, **wf.model_values(model, info)}
    return wf.fill(wf.load_template(template, model), {**base, **values})


def test_ltx23_audio_renders_the_audio_template_with_the_audio_prompt(farm, tmp_path):
    proc = cli(farm, tmp_path, "ltx-2.3-fast", "--audio-prompt", "waves on shingle")
    assert proc.returncode == 0, proc.stderr[-3000:]
    want = expected("ltx-2.3-fast", "audio", farm.info(), ckpt_name=CKPT_23,
                    prompt="a kite over the sea Audio: waves on shingle")
    assert graph_of(farm) == want
    assert {"LTXVAudioVAEDecode", "LTXAVTextEncoderLoader"} <= {n["class_type"] for n in want.values()}
    assert wf.model_values("ltx-2.3-fast", farm.info()) == {"text_encoder": GEMMA3, "distilled_lora": DISTILLED_23}
    clip = probe(tmp_path / "out.mp4")
    assert clip.has_audio and clip.width == 64


def test_ltx25_camera_motion_renders_the_camera_lora_template(farm, tmp_path):
    proc = cli(farm, tmp_path, "ltx-2.5-pro", "--camera-motion", "dolly_forward", "--camera-speed", "1.5")
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the 2.5 camera LoRA is preferred to LTX-2's; strength = the speed; no checkpoint in the 2.5 set
    assert graph_of(farm) == expected("ltx-2.5-pro", "camera-lora", farm.info(), lora_name=CAMERA_25,
                                      lora_strength=1.5)
    assert not probe(tmp_path / "out.mp4").has_audio


def test_ltx25_audio_with_a_camera_motion_takes_the_audio_template_and_words_the_motion(farm, tmp_path):
    proc = cli(farm, tmp_path, "ltx-2.5-fast", "--audio", "--camera-motion", "zoom_in")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert graph_of(farm) == expected("ltx-2.5-fast", "audio", farm.info(),
                                      prompt="a kite over the sea The camera steadily zooms in.")
    assert probe(tmp_path / "out.mp4").has_audio


def test_ltx23_image_to_video_uses_its_template_and_says_audio_is_text_to_video_only(farm, tmp_path):
    start = image(tmp_path, "start.png", (200, 120, 0))
    proc = cli(farm, tmp_path, "ltx-2.3-pro", "--image", str(start), "--audio", "--camera-motion",
               "dolly_forward", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    graph = graph_of(farm)
    upload = [n["inputs"]["image"] for n in graph.values() if n["class_type"] == "LoadImage"]
    assert graph == expected("ltx-2.3-pro", "image-to-video", farm.info(), ckpt_name=CKPT_23, image=upload[0],
                             prompt="a kite over the sea The camera steadily dollies forward.")
    assert "text-to-video only" in proc.stdout + proc.stderr


@pytest.mark.parametrize("model,kw,missing,folder", [
    ("ltx-2.3-fast", dict(clips=("t5xxl_fp16.safetensors",)), GEMMA3, "models/text_encoders"),
    ("ltx-2.5-pro", dict(vaes=(VIDEO_VAE_25,)), AUDIO_VAE_25, "models/vae"),
], ids=["2.3-no-gemma", "2.5-no-audio-vae"])
def test_a_server_lacking_a_model_file_exits_2_naming_it_with_nothing_queued(tmp_path, model, kw, missing, folder):
    fake = server(**kw)
    try:
        start = image(tmp_path, "start.png", (0, 90, 200))
        proc = cli(fake, tmp_path, model, "--image", str(start), "--audio-prompt", "wind")
        assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
        assert missing in proc.stderr and folder in proc.stderr, proc.stderr[-3000:]
        assert fake.received == [] and fake.uploads == {}
        assert not [r for r in fake.requests if r[0] == "POST"]
    finally:
        fake.stop()


def test_the_template_follows_mode_audio_and_camera():
    t = wf.template_for
    assert t("ltx-2.3-pro", "text-to-video") == "text-to-video"
    assert t("ltx-2.3-pro", "text-to-video", audio=True) == "audio"
    assert t("ltx-2.5-fast", "text-to-video", camera_lora=True) == "camera-lora"
    assert t("ltx-2.5-fast", "text-to-video", audio=True, camera_lora=True) == "audio"  # no template has both
    assert t("ltx-2.5-fast", "image-to-video", audio=True, camera_lora=True) == "image-to-video"
    assert t("ltx-2-19b", "text-to-video", audio=True, lora=True) == "audio"  # the user's LoRA is added to it
    assert t("ltx-2-19b", "text-to-video", camera_lora=True, lora=True) == "lora"  # LTX-2: no camera template
    assert t("ltx-video-2b", "text-to-video", audio=True) == "text-to-video"
    assert t("ltx-video-13b", "multi-keyframe") == "first-last-frame"
    assert wf.takes_audio("ltx-2-19b", "text-to-video") and not wf.takes_audio("ltx-2.3-pro", "image-to-video")


def plan(tmp_path: Path, model: str, **kw):
    options = kw.pop("options", {})
    media = {k: kw.pop(k) for k in ("start_image",) if k in kw}
    settings = RenderSettings(provider="ltx-video", model=model, deployment="comfyui", options=options, **kw)
    return prepare(RenderRequest(prompt="a fox", settings=settings, output_path=tmp_path / "o.mp4", **media))


def test_the_plan_takes_audio_and_camera_where_a_template_does(tmp_path):
    quiet = plan(tmp_path, "ltx-2.3-fast")
    assert quiet.sent["include_audio"] is False  # audio is asked for on ComfyUI: its own graph
    assert (quiet.width, quiet.height, quiet.fps, quiet.render_seconds) == (1280, 720, 25, 5)
    assert plan(tmp_path, "ltx-2.5-pro", audio_prompt="birdsong").sent["include_audio"] is True
    cam = plan(tmp_path, "ltx-2.5-pro", camera_motion="crane_up", camera_speed=0.6)
    assert (cam.detail.camera_lora, cam.detail.camera_scale, cam.detail.prompt) == ("jib_up", 0.6, "a fox")
    worded = plan(tmp_path, "ltx-2-19b", camera_motion="crane_up")  # LTX-2's set has no camera template
    assert worded.detail.camera_lora is None and "cranes up" in worded.detail.prompt
    i2v = plan(tmp_path, "ltx-2.5-fast", include_audio=True, audio_prompt="rain",
               start_image=image(tmp_path, "s.png", (1, 2, 3)), options={"num_inference_steps": 8})
    why = {i.field: i.reason for i in i2v.ignored}
    assert "text-to-video only" in why["include_audio"] and "audio_prompt" in why
    assert "no inference-steps setting" in why["num_inference_steps"] and "num_inference_steps" not in i2v.sent
    assert "Audio:" not in i2v.detail.prompt


def test_each_model_loads_its_own_checkpoint():
    info = {"CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": [[
        CKPT_23, "ltx-2-19b-dev.safetensors", "ltx-video-2b-v0.9.5.safetensors"]]}}}}
    backend = ComfyUIBackend(Settings())
    picked = {m: backend.checkpoint_for(info, m, "s") for m in ("ltx-2.3-pro", "ltx-2-19b", "ltx-video-2b")}
    assert picked == {"ltx-2.3-pro": CKPT_23, "ltx-2-19b": "ltx-2-19b-dev.safetensors",
                      "ltx-video-2b": "ltx-video-2b-v0.9.5.safetensors"}
