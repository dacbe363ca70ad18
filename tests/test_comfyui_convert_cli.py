"""A user's `--workflow` in ComfyUI's UI format goes through the conversion on the way to the server: the package's
LTX-Video text-to-video workflow, given placeholders, renders through the CLI on a fake ComfyUI; a UI workflow with
a node class the server lacks exits 2 naming the node, its title and class, before anything is queued."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.video.media import count_frames
from tests.comfyui_info import PACKAGE
from tests.fakes.comfyui_helpers import fake, graph_of, nodes, provider_for, render, request  # noqa: F401

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parent.parent


def cli(fake, tmp_path: Path, workflow: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "IMAGEAI_COMFYUI_URL": fake.url, "IMAGEAI_CONFIG_DIR": str(tmp_path / "cfg")}
    return subprocess.run([sys.executable, "main.py", "--provider", "ltx-video", "--deployment", "comfyui",
                           "--model", "ltx-video-2b", "--workflow", str(workflow), "-p", "a kite over the sea",
                           "-o", str(tmp_path / "out.mp4"), "--json", *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=150)


def package_t2v_with_placeholders(tmp_path: Path) -> Path:
    """The package's ltxv_text_to_video.json as a user would edit it: placeholders in the widgets, the fake's
    checkpoint chosen."""
    graph = json.loads((PACKAGE / "ltxv_text_to_video.json").read_text(encoding="utf-8"))
    by_id = {n["id"]: n for n in graph["nodes"]}
    by_id[6]["widgets_values"] = ["{{prompt}}"]
    by_id[44]["widgets_values"] = ["ltx-video-2b-v0.9.5.safetensors"]
    by_id[70]["widgets_values"] = ["{{width}}", "{{height}}", "{{num_frames}}", 1]
    by_id[72]["widgets_values"] = [True, "{{seed}}", "randomize", 3]
    by_id[71]["widgets_values"][0] = 4  # steps
    by_id[78]["widgets_values"] = ["{{fps}}"]
    path = tmp_path / "ltxv t2v (UI).json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    return path


def test_the_packages_ui_workflow_renders_through_the_cli(fake, tmp_path):
    proc = cli(fake, tmp_path, package_t2v_with_placeholders(tmp_path), "--width", "64", "--height", "64",
               "--frames", "9", "--fps", "24", "--seed", "11")
    assert proc.returncode == 0, proc.stderr[-3000:]
    g = graph_of(fake)
    assert nodes(g, "CLIPTextEncode")[1]["text"] == "a kite over the sea"
    assert nodes(g, "EmptyLTXVLatentVideo")[0] == {"width": 64, "height": 64, "length": 9, "batch_size": 1}
    sampler = nodes(g, "SamplerCustom")[0]
    assert sampler["noise_seed"] == 11 and sampler["cfg"] == 3 and sampler["add_noise"] is True
    assert not [n for n in g.values() if n["class_type"] in ("Note", "MarkdownNote")]
    assert count_frames(tmp_path / "out.mp4") == 9


def test_a_ui_workflow_with_a_node_the_server_lacks_exits_2_naming_it(fake, tmp_path):
    path = package_t2v_with_placeholders(tmp_path)
    graph = json.loads(path.read_text(encoding="utf-8"))
    sampler = next(n for n in graph["nodes"] if n["id"] == 72)
    sampler.update(type="LTXVMysterySampler", title="My sampler")
    path.write_text(json.dumps(graph), encoding="utf-8")
    proc = cli(fake, tmp_path, path)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "node 72 ('My sampler', LTXVMysterySampler) is not on the server; install ComfyUI-LTXVideo" in proc.stderr
    assert json.loads(proc.stdout)["error_kind"] == "invalid_request"
    assert not fake.received and not (tmp_path / "out.mp4").exists()


def test_a_ui_workflow_through_the_backend_fills_its_placeholders_after_conversion(fake, tmp_path):
    graph = {"nodes": [
        {"id": 4, "type": "EmptyImage", "mode": 0, "inputs": [], "outputs": [{"name": "IMAGE", "type": "IMAGE"}],
         "widgets_values": ["{{width}}", "{{height}}", "{{num_frames}}", 255]},
        {"id": 5, "type": "ImageInvert", "mode": 4, "inputs": [{"name": "image", "type": "IMAGE", "link": 1}],
         "outputs": [{"name": "IMAGE", "type": "IMAGE"}]},
        {"id": 6, "type": "CreateVideo", "mode": 0, "inputs": [{"name": "images", "type": "IMAGE", "link": 2}],
         "outputs": [{"name": "VIDEO", "type": "VIDEO"}], "widgets_values": ["{{fps}}"]},
        {"id": 7, "type": "SaveVideo", "mode": 0, "inputs": [{"name": "video", "type": "VIDEO", "link": 3}],
         "widgets_values": ["mine/{{seed}}", "mp4", "h264"]},
        {"id": 8, "type": "MarkdownNote", "mode": 0, "widgets_values": ["set {{anything}} here"]}],
        "links": [[1, 4, 0, 5, 0, "IMAGE"], [2, 5, 0, 6, 0, "IMAGE"], [3, 6, 0, 7, 0, "VIDEO"]]}
    path = tmp_path / "ui.json"
    path.write_text(json.dumps(graph), encoding="utf-8")
    r = render(provider_for(fake), request(tmp_path, workflow=str(path), width=96, height=64, frames=17, fps=25))
    g = graph_of(fake)
    assert sorted(g) == ["4", "6", "7"]
    assert g["4"]["inputs"] == {"width": 96, "height": 64, "batch_size": 17, "color": 255}
    assert g["6"]["inputs"] == {"fps": 25, "images": ["4", 0]}
    assert g["7"]["inputs"]["filename_prefix"] == "mine/42"
    assert r.clip_path.is_file()  # (the fake makes its frames from an LTX latent only)
