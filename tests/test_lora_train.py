"""`lora train` on the tiny LTX model: the loss measured on a fixed evaluation set goes down, a resumed run ends with
exactly the weights of an uninterrupted one, and the trained file changes a render when loaded with --lora."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli.main import main as cli_main
from core.config import Settings
from core.video.media import ffmpeg_exe, probe
from core.video.render_settings import RenderSettings
from providers.base import RenderRequest
from providers.ltx.local_backend import LocalBackend
from providers.ltx.plan import prepare
from providers.ltx.local_pipelines import read_video_frames
from tests.fakes.tiny_ltx import tiny_models  # noqa: F401  (session fixture)

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("lora-data")
    Image.new("RGB", (80, 60), (200, 30, 30)).save(d / "red.png")
    (d / "red.txt").write_text("a red square")
    subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=24:duration=0.5",
                    "-pix_fmt", "yuv420p", str(d / "clip.mp4")], check=True)
    (d / "clip.txt").write_text("a test pattern moves")
    return d


def _train(capsys, tiny_models, data, out: Path, *extra) -> dict:
    capsys.readouterr()
    code = cli_main(["lora", "train", "--data", str(data), "--output", str(out), "--rank", "4", "--lr", "5e-3",
                     "--width", "64", "--height", "64", "--frames", "9", "--checkpoint-every", "10",
                     "--model-path", str(tiny_models["ltx"]), "--device", "cpu", "--json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _tensors(path: Path) -> dict:
    from safetensors.torch import load_file
    return load_file(str(path))


def test_train_lowers_loss_resumes_and_changes_the_output(capsys, tiny_models, data, tmp_path):
    full = _train(capsys, tiny_models, data, tmp_path / "full.safetensors", "--steps", "20")
    assert full["steps"] == 20 and len(full["losses"]) == 20
    assert full["eval_loss_after"] < full["eval_loss_before"]
    assert Path(full["checkpoint"]).is_file()

    part = _train(capsys, tiny_models, data, tmp_path / "part.safetensors", "--steps", "10")
    assert part["resumed_from"] == 0 and len(part["losses"]) == 10
    resumed = _train(capsys, tiny_models, data, tmp_path / "part.safetensors", "--steps", "20", "--resume")
    assert resumed["resumed_from"] == 10 and len(resumed["losses"]) == 20
    assert resumed["losses"] == full["losses"]  # same data order, noise and optimizer state after the resume
    a, b = _tensors(tmp_path / "full.safetensors"), _tensors(tmp_path / "part.safetensors")
    assert set(a) == set(b) and all(k.startswith("transformer.") for k in a)
    assert all(np.allclose(a[k].numpy(), b[k].numpy(), atol=1e-6) for k in a)

    backend = LocalBackend(Settings())
    try:
        frames = []
        for name, lora in (("base", None), ("tuned", str(tmp_path / "full.safetensors"))):
            options = dict(model_path=str(tiny_models["ltx"]), device="cpu", width=64, height=64, frames=9,
                           num_inference_steps=2, **({"lora_path": lora} if lora else {}))
            req = RenderRequest(prompt="a red square", output_path=tmp_path / f"{name}.mp4", settings=RenderSettings(
                provider="ltx-video", model="ltx-video-2b", deployment="local", seed=3, options=options))
            plan = prepare(req).detail
            backend.check(plan)

            async def go():
                job = await backend.submit(plan)
                return await backend.wait(job, plan)
            clip = asyncio.run(go()).clip_path
            frames.append(np.stack([np.asarray(f, dtype=np.int16) for f in read_video_frames(clip, 64, 64)]))
            assert probe(clip).width == 64
        assert np.abs(frames[0] - frames[1]).max() > 0
    finally:
        backend.close()


def test_bad_input_is_rejected_before_training(capsys, tiny_models, tmp_path):
    (tmp_path / "d").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "d" / "nocaption.png")
    code = cli_main(["lora", "train", "--data", str(tmp_path / "d"), "--output", str(tmp_path / "x.safetensors"),
                     "--model-path", str(tiny_models["ltx"]), "--device", "cpu"])
    assert code == 2 and "nocaption.png" in capsys.readouterr().err
    code = cli_main(["lora", "train", "--data", str(tmp_path / "d"), "--output", str(tmp_path / "x.bin"),
                     "--model-path", str(tiny_models["ltx"]), "--device", "cpu"])
    assert code == 2 and ".safetensors" in capsys.readouterr().err
    code = cli_main(["lora", "train", "--data", str(tmp_path / "d"), "--output", str(tmp_path / "x.safetensors"),
                     "--model-path", str(tiny_models["ltx"]), "--device", "cpu", "--resume"])
    assert code == 2


def test_lora_train_runs_as_a_command(tiny_models, data, tmp_path):
    out = tmp_path / "cmd.safetensors"
    proc = subprocess.run([sys.executable, "main.py", "lora", "train", "--data", str(data), "--output", str(out),
                           "--steps", "3", "--rank", "2", "--width", "32", "--height", "32", "--frames", "5",
                           "--model-path", str(tiny_models["ltx"]), "--device", "cpu", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=240,
                          env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["steps"] == 3 and out.is_file() and "step 3/3" in proc.stderr
