"""The built-in ComfyUI templates per LTX version (providers/ltx/workflows/sets.json): every model with a ComfyUI
deployment has a set, every template of every set fills and passes a server's /prompt validation against the
extended /object_info (every node class known, every required input present, links of the right type, numbers in
range, files in the server's lists), the LTX-2.3 / 2.5 shapes are those of the templates package's own LTX-2.x
workflows, and the model files are picked from what the server offers."""
from __future__ import annotations

import json

import pytest

from core.errors import InvalidRequestError
from providers.ltx import comfyui_workflows as wf
from providers.ltx.catalog_data import MODELS
from providers.ltx.comfyui_convert import to_api
from tests.comfyui_info import PACKAGE, extended_info, installed, server_errors

INFO = extended_info()
VALUES = {"prompt": "a fox", "negative_prompt": "blurry", "seed": 7, "width": 768, "height": 512, "num_frames": 97,
          "fps": 24, "steps": 8, "cfg": 3.0, "lora_strength": 0.8, "denoise": 0.6, "image": "in.png",
          "end_image": "end.png", "video": "in.mp4", "overlap": 9, "overlap_start": 40, "guide_frame": 0,
          "ckpt_name": "ltx-2.3-22b-dev-fp8.safetensors", "clip_name": "t5xxl_fp16.safetensors",
          "lora_name": "camera-dolly-in.safetensors"}
SETS = wf.SETS["sets"]
ALL = [(s, mode) for s in SETS for mode in SETS[s]["templates"]]


def filled(set_name: str, mode: str) -> dict:
    model = next((m for m, s in wf.SETS["models"].items() if s == set_name), None)
    graph = wf.load_template(mode, model)
    return wf.fill(graph, {**VALUES, **wf.model_values(model, INFO)})


def test_every_model_with_a_comfyui_deployment_has_a_template_set():
    comfy = [m for m, entry in MODELS.items() if "comfyui" in entry["deployments"]]
    assert comfy and all(m in wf.SETS["models"] for m in comfy), comfy
    assert set(wf.SETS["models"]) <= set(MODELS)  # no id the catalog does not know
    assert {wf.template_set(m) for m in ("ltx-video-2b", "ltx-2-19b", "ltx-2.3-pro", "ltx-2.5-fast")} == {
        "ltxv-0.9", "ltx-2", "ltx-2.3", "ltx-2.5"}
    assert wf.template_set("no-such-model") == wf.SETS["default"]


def test_each_version_has_text_image_audio_and_camera_templates():
    for name in ("ltx-2.3", "ltx-2.5"):
        assert {"text-to-video", "image-to-video", "audio", "camera-lora"} <= set(SETS[name]["templates"])
    assert "audio" in SETS["ltx-2"]["templates"]
    with pytest.raises(InvalidRequestError, match="LTX-2.5 ComfyUI templates have no extend workflow") as err:
        wf.load_template("extend", "ltx-2.5-pro")
    assert "text-to-video" in err.value.allowed


@pytest.mark.parametrize("set_name,mode", ALL, ids=[f"{s}:{m}" for s, m in ALL])
def test_every_template_fills_and_passes_the_servers_validation(set_name, mode):
    graph = filled(set_name, mode)
    assert wf.placeholders(graph) == set()
    assert server_errors(graph, installed(INFO, graph)) == []


def classes(graph: dict) -> set[str]:
    return {n["class_type"] for n in graph.values()}


@pytest.mark.parametrize("set_name,package_file", [("ltx-2.3", "video_ltx2_3_t2v.json"),
                                                   ("ltx-2.5", "video_ltx2_5_t2v.json"),
                                                   ("ltx-2", "video_ltx2_t2v.json")])
def test_the_audio_templates_load_their_parts_as_the_packages_workflow_does(set_name, package_file):
    """Loaders, latents, guider and sigmas of the template are those of the package's own workflow for that
    version (the package's workflow also upscales in a second pass and may enhance the prompt)."""
    ours = classes(filled(set_name, "audio"))
    theirs = classes(to_api(json.loads((PACKAGE / package_file).read_text(encoding="utf-8")), INFO))
    assert ours <= theirs, sorted(ours - theirs)
    for part in ("LTXVEmptyLatentAudio", "LTXVConcatAVLatent", "LTXVSeparateAVLatent", "LTXVAudioVAEDecode",
                 "ManualSigmas"):
        assert part in ours
    if set_name == "ltx-2.5":
        assert {"UNETLoader", "VAELoader", "CLIPLoader", "LTXVDualCFGGuider"} <= ours
    else:
        assert {"CheckpointLoaderSimple", "LTXAVTextEncoderLoader", "LTXVAudioVAELoader", "CFGGuider"} <= ours


def test_audio_reaches_the_video_only_in_the_audio_template():
    for set_name in ("ltx-2.3", "ltx-2.5"):
        video = [n for n in filled(set_name, "audio").values() if n["class_type"] == "CreateVideo"][0]
        assert "audio" in video["inputs"]
        for mode in ("text-to-video", "image-to-video", "camera-lora"):
            video = [n for n in filled(set_name, mode).values() if n["class_type"] == "CreateVideo"][0]
            assert "audio" not in video["inputs"], (set_name, mode)


def test_the_camera_lora_sits_between_the_model_and_the_guider():
    for set_name in ("ltx-2.3", "ltx-2.5"):
        graph = filled(set_name, "camera-lora")
        lora = [k for k, n in graph.items() if n["class_type"] == "LoraLoaderModelOnly"
                and n["inputs"]["lora_name"] == VALUES["lora_name"]]
        assert len(lora) == 1 and graph[lora[0]]["inputs"]["strength_model"] == 0.8
        guider = [n for n in graph.values() if "Guider" in n["class_type"]][0]
        assert guider["inputs"]["model"] == [lora[0], 0]


def test_model_files_are_picked_from_the_servers_lists():
    info = json.loads(json.dumps(INFO))
    info["VAELoader"]["input"]["required"]["vae_name"][0] = ["ltx-2.5-audio-vae-fp16.safetensors",
                                                            "ltx-2.5-video-vae-fp16.safetensors"]
    info["UNETLoader"]["input"]["required"]["unet_name"][0] = ["flux.safetensors",
                                                              "ltx-2.5-22b-transformer-fp8.safetensors"]
    picked = wf.model_values("ltx-2.5-pro", info)
    assert picked["video_vae"] == "ltx-2.5-video-vae-fp16.safetensors"
    assert picked["audio_vae"] == "ltx-2.5-audio-vae-fp16.safetensors"
    assert picked["unet_name"] == "ltx-2.5-22b-transformer-fp8.safetensors"
    assert picked["text_encoder"] == "gemma4-12b-with-proj-ltx-2.5-comfy-int8-convrot.safetensors"  # none offered
    assert wf.model_values("ltx-video-2b", info) == {}
