"""The local deployment through the real command line (`python main.py ...` in a subprocess): the product's CLI,
provider dispatch, worker process and from_pretrained loading of the tiny models saved to a folder."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cli.main import main as cli_main
from core.video.media import count_frames, probe
from providers.ltx.local_pipelines import read_video_frames
from tests.fakes.tiny_ltx import tiny_models  # noqa: F401  (session fixture)

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=240,
                          env=env)


def clip_args(models, family: str, out: Path, *extra: str) -> list[str]:
    model = "ltx-2-19b" if family == "ltx2" else "ltx-video-2b"
    return ["--provider", "ltx-video", "--deployment", "local", "--model", model, "--model-path",
            str(models[family]), "--device", "cpu", "--steps", "2", "-p", "a lighthouse at dusk", "-o", str(out),
            "--json", *extra]


def test_text_to_video_snapped_seeded_and_lora_zero(tiny_models, tmp_path, capsys):
    a = tmp_path / "a.mp4"
    proc = run(*clip_args(tiny_models, "ltx", a, "--width", "70", "--height", "40", "--frames", "10", "--seed", "11"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert (result["width"], result["height"], result["seed"]) == (64, 32, 11)
    info = probe(a)
    assert (info.width, info.height) == (64, 32) and count_frames(a) == 9
    # the same command in this process, with a LoRA at scale 0: the same frames as the base model
    b = tmp_path / "b.mp4"
    capsys.readouterr()
    code = cli_main(clip_args(tiny_models, "ltx", b, "--width", "70", "--height", "40", "--frames", "10", "--seed",
                              "11", "--lora", str(tiny_models["lora"]), "--lora-scale", "0"))
    assert code == 0, capsys.readouterr().err
    frames = [np.stack([np.asarray(f) for f in read_video_frames(p, 64, 32)]) for p in (a, b)]
    assert np.array_equal(frames[0], frames[1])


def test_ltx2_first_last_frame_with_audio(tiny_models, tmp_path):
    from PIL import Image

    Image.new("RGB", (64, 64), (250, 200, 0)).save(tmp_path / "first.png")
    Image.new("RGB", (64, 64), (0, 50, 250)).save(tmp_path / "last.png")
    out = tmp_path / "av.mp4"
    proc = run(*clip_args(tiny_models, "ltx2", out, "--width", "64", "--height", "64", "--frames", "9", "--audio",
                          "--image", str(tmp_path / "first.png"), "--end-image", str(tmp_path / "last.png")))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["has_audio"] is True
    info = probe(out)
    assert info.has_audio and info.acodec == "aac" and count_frames(out) == 9


def test_cpu_needs_to_be_chosen(tiny_models, tmp_path):
    args = clip_args(tiny_models, "ltx", tmp_path / "x.mp4")
    args.remove("--device")
    args.remove("cpu")
    proc = run(*args)
    assert proc.returncode == 3 and "--device cpu" in proc.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_local_check_reports_device_and_model(tiny_models, capsys):
    proc = run("local", "check", "--json")
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    assert report["accelerator"]["kind"] == "none" and report["ok"] is False and "--device cpu" in report["problem"]
    assert report["accelerator"]["torch_version"] and report["accelerator"]["diffusers_version"]
    capsys.readouterr()
    assert cli_main(["local", "check", "--device", "cpu", "--model-path", str(tiny_models["ltx2"]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["offered_as"] == "CPU (very slow)" and report["plan"]["offload"] == "none"
    assert report["model_path"]["family"] == "ltx2"
    assert cli_main(["local", "check", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "CPU (very slow)" in err and "torch 2" in err and "GB GPU memory" in err
