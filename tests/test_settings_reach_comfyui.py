"""The settings contract on the ComfyUI deployment: for every model x generation mode the catalog offers there, a
request that sets every universal setting and option it can; each set value reaches the workflow the fake server
received (under the input the templates give it) or is named in `plan.ignored`, and `plan.sent` equals what was sent.
Audio and the camera reach the template the plan chose: the audio prompt the prompt of an audio template (which
decodes the sound), the camera motion a camera LoRA (the "camera-lora" cases: audio off, so the set's camera-LoRA
template is chosen) or the prompt's wording."""
from __future__ import annotations

import pytest

from providers.ltx import camera, catalog
from providers.ltx import comfyui_workflows as wf
from tests.fakes.comfyui_fake import FakeComfyUI
from core.render.contract import RenderRequest
from core.video.render_settings import RenderSettings
from tests.fakes.comfyui_helpers import graph_of, image, provider_for, render
from tests.test_ltx_support import Inputs

pytestmark = pytest.mark.timeout(180)
MODES = ("text-to-video", "image-to-video", "first-last-frame", "multi-keyframe", "extend", "video-to-video", "lora")
CASES = [(m.id, mode) for m in catalog.models_for("comfyui") for mode in m.modes if mode in MODES]
# text to video without audio, where the model's set has a camera-LoRA template
CASES += [(m.id, "camera-lora") for m in catalog.models_for("comfyui")
          if wf.takes_camera_lora(m.id, "text-to-video", audio=False)]
# setting -> the workflow inputs that carry it
WIRE = {"seed": ("noise_seed", "seed"), "fps": ("fps", "frame_rate"), "guidance_scale": ("cfg", "video_cfg"),
        "num_inference_steps": ("steps",), "lora_scale": ("strength_model", "lora_strength")}


@pytest.fixture(scope="module")
def fake():
    # a server with a checkpoint for each of the catalog's ComfyUI models
    server = FakeComfyUI(checkpoints=("ltx-video-2b-v0.9.5.safetensors", "ltxv-13b-0.9.8-distilled.safetensors",
                                      "ltx-2-19b-dev.safetensors", "ltx-2.3-22b-dev-fp8.safetensors"),
                         clips=("t5xxl_fp16.safetensors", "gemma_3_12B_it_fp4_mixed.safetensors",
                                "gemma4-12b-with-proj-ltx-2.5-comfy-int8-convrot.safetensors"),
                         loras=("style.safetensors", "ltx-2.3-22b-distilled-lora-384.safetensors",
                                "ltx-2-19b-lora-camera-control-dolly-in.safetensors"),
                         unets=("ltx-2.5-22b-distilled-transformer-comfy-int8-convrot.safetensors",),
                         vaes=("ltx-2.5-video-vae-bf16.safetensors", "ltx-2.5-audio-vae-bf16.safetensors")).start()
    yield server
    server.stop()


def inputs_named(graph: dict, names: tuple[str, ...]) -> list:
    return [v for node in graph.values() for k, v in node.get("inputs", {}).items() if k in names]


def texts(graph: dict) -> list[str]:
    return [n["inputs"]["text"] for n in graph.values() if n.get("class_type") == "CLIPTextEncode"]


@pytest.mark.parametrize("model,mode", CASES, ids=[f"{m}-{mode}" for m, mode in CASES])
def test_every_set_setting_reaches_the_workflow_or_is_ignored(fake, tmp_path, model, mode):
    i = Inputs(tmp_path / "in")
    media: dict = {}
    if mode in ("image-to-video", "first-last-frame", "multi-keyframe"):
        media["start_image"] = image(tmp_path, "start.png", (250, 200, 0))
    if mode in ("first-last-frame", "multi-keyframe"):
        media["end_image"] = image(tmp_path, "end.png", (0, 0, 250))
    if mode == "multi-keyframe":
        media["keyframes"] = [(0.1, image(tmp_path, "key.png", (0, 250, 0)))]
    if mode == "extend":
        media["extend_video"] = i.video
    if mode == "video-to-video":
        media["source_video"] = i.video
    options = dict(guidance_scale=4.5, num_inference_steps=3, webhook_url="https://hooks.example.com/x",
                   device="cpu", model_path=str(tmp_path))
    if mode == "lora":
        options.update(lora_path=str(tmp_path / "style.safetensors"), lora_scale=0.7)
        (tmp_path / "style.safetensors").write_bytes(b"\0" * 64)
    options.update(width=64, height=64, frames=9)  # small, so the fake renders quickly
    sound = dict(include_audio=False) if mode == "camera-lora" else dict(include_audio=True,
                                                                         audio_prompt="rain on a tin roof")
    settings = RenderSettings(provider="ltx-video", model=model, deployment="comfyui", seed=1234, fps=25,
                              negative_prompt="blurry, warped hands", camera_motion="dolly_forward", camera_speed=1.5,
                              options=options, **sound)
    req = RenderRequest(prompt="a paper boat on a river", settings=settings, output_path=tmp_path / "out.mp4",
                        **media)
    provider = provider_for(fake, poll_interval_s=0.05)
    plan = provider.prepare(req)
    ignored = {x.field for x in plan.ignored}
    try:
        render(provider, req)
    except Exception as exc:  # a LoRA the fake server does not have is refused before anything is sent
        if mode == "lora" and "not installed" in str(exc):
            pytest.skip(f"the fake server has no {options['lora_path']}: {exc}")
        raise
    graph = graph_of(fake)
    s = req.settings
    set_values = {"seed": s.seed, "fps": s.fps, **{k: v for k, v in s.options.items()
                                                   if k in ("guidance_scale", "num_inference_steps", "lora_scale")}}
    for field, value in set_values.items():
        if field in ignored:
            continue
        assert value in inputs_named(graph, WIRE[field]), (field, value, inputs_named(graph, WIRE[field]))
        assert plan.sent.get(field, value) == value, (field, plan.sent)
    prompts = texts(graph)
    assert "negative_prompt" in ignored or s.negative_prompt in prompts
    camera_loras = [n["inputs"] for n in graph.values() if n["class_type"] == "LoraLoaderModelOnly"
                    and "camera" in n["inputs"]["lora_name"]]
    assert "camera_motion" in ignored or any("camera" in t.lower() for t in prompts) or camera_loras
    if mode == "camera-lora":  # the motion is the LoRA, its strength the speed; no wording needed
        assert [c["strength_model"] for c in camera_loras] == [camera.lora_scale(s.camera_speed)], camera_loras
        assert "dolly-in" in camera_loras[0]["lora_name"] and not any("camera" in t.lower() for t in prompts)
    decodes_sound = any(n["class_type"] == "LTXVAudioVAEDecode" for n in graph.values())
    assert decodes_sound == bool(plan.sent.get("include_audio")), (plan.sent, plan.ignored)
    if s.audio_prompt and "audio_prompt" not in ignored:
        assert decodes_sound and any(s.audio_prompt in t for t in prompts), prompts
    for field in ("webhook_url", "device", "model_path"):  # not a ComfyUI setting: never silently dropped
        assert field in ignored, (field, plan.ignored)
    if "audio" not in catalog.modes_of(catalog.entry(model, "comfyui")) or not wf.takes_audio(model, plan.mode):
        assert {"include_audio", "audio_prompt"} <= ignored, plan.ignored
