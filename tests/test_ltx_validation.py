"""Everything the catalog forbids is refused by the CLI with exit 2, a message naming the allowed values, and no
request reaching the service."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import InvalidRequestError
from providers.ltx.plan import prepare
from tests.test_ltx_support import Inputs, fal, rep, request_for  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=dict(os.environ), capture_output=True,
                          text=True, timeout=120)


def base(model: str, deployment: str, out: Path, *extra: str) -> list[str]:
    return ["--provider", "ltx-video", "--deployment", deployment, "--model", model, "-p", "a harbour at dawn",
            "-o", str(out), *extra]


CASES = [
    # (model, deployment, flags, words that must be in the message)
    ("ltx-2-fast", "fal", ["--resolution", "720p", "--fps", "25", "--duration", "6"], ["resolution", "1080p, 1440p, 2160p"]),
    ("ltx-2-pro", "fal", ["--resolution", "1080p", "--fps", "30", "--duration", "6"], ["fps", "25, 50"]),
    ("ltx-2-pro", "fal", ["--resolution", "1080p", "--fps", "25", "--duration", "12"], ["duration", "6, 8, 10"]),
    ("ltx-2-ultra", "fal", ["--resolution", "1080p", "--fps", "50", "--duration", "6"], ["resolution", "2160p"]),
    ("ltx-2-ultra", "replicate", ["--resolution", "4K", "--fps", "25", "--duration", "6"], ["fps", "50"]),
    ("ltx-2-fast", "fal", ["--resolution", "1440p", "--fps", "25", "--duration", "14"], ["duration", "1080p"]),
    ("ltx-video-13b", "fal", ["--resolution", "720p", "--fps", "24", "--duration", "4", "--keyframe", "6:{key}"],
     ["keyframe", "0-4 s"]),
    ("ltx-video-13b", "fal", ["--resolution", "720p", "--fps", "24", "--duration", "4", "--reference", "{start}",
                              "--reference", "{end}", "--reference", "{key}", "--reference", "{big}"], ["reference", "3"]),
    ("ltx-2-fast", "fal", ["--resolution", "1080p", "--fps", "25", "--duration", "6", "--lora", "{lora}"],
     ["lora", "ltx-2-19b", "ltx-video-13b"]),
    ("ltx-2-fast", "replicate", ["--resolution", "1080p", "--fps", "25", "--duration", "6", "--lora", "{lora}"],
     ["lora", "LoRA"]),
    ("ltx-2-fast", "fal", ["--resolution", "1080p", "--fps", "25", "--duration", "6", "--webhook-url",
                           "http://hooks.example.com/x"], ["webhook", "https://"]),
    ("ltx-2-fast", "fal", ["--resolution", "1080p", "--fps", "25", "--duration", "6", "--image", "{missing}"],
     ["no such file"]),
    ("ltx-2-fast", "fal", ["--resolution", "1080p", "--fps", "25", "--duration", "6", "--image", "{text}"],
     ["not an image", "PNG"]),
    ("ltx-2-fast", "fal", ["--resolution", "1080p", "--fps", "25", "--duration", "6", "--extend", "{video}",
                           "--direction", "both"], ["direction", "forward, backward"]),
    ("ltx-2-fast", "fal", ["--resolution", "1080p", "--fps", "25", "--duration", "6", "--no-audio", "--audio-prompt",
                           "waves"], ["audio", "--audio"]),
]


@pytest.mark.parametrize("model,deployment,flags,words", CASES,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_forbidden_combinations_exit_2_naming_allowed_values(fal, rep, tmp_path, model, deployment, flags, words):
    inputs = Inputs(tmp_path / "in")
    paths = {"start": inputs.start, "end": inputs.end, "key": inputs.key, "big": inputs.big, "lora": inputs.lora,
             "text": inputs.text, "video": inputs.video, "missing": tmp_path / "nope.png"}
    flags = [f.format(**paths) for f in flags]
    out = tmp_path / "out.mp4"
    proc = cli(*base(model, deployment, out, *flags))
    assert proc.returncode == 2, proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr
    assert fal.requests == [] and rep.requests == []
    assert fal.counts["uploads"] == 0 and rep.counts["uploads"] == 0
    assert not out.exists()


def test_missing_key_is_unavailable_not_bad_input(tmp_path, monkeypatch):
    monkeypatch.delenv("FAL_KEY", raising=False)
    proc = cli(*base("ltx-2-fast", "fal", tmp_path / "o.mp4", "--resolution", "1080p", "--fps", "25",
                     "--duration", "6"))
    assert proc.returncode == 3 and "FAL_KEY" in proc.stderr


def test_plan_refuses_without_network(tmp_path):
    inputs = Inputs(tmp_path / "in")
    req = request_for("ltx-2-fast", "fal", "text-to-video", inputs, tmp_path / "o.mp4", fps=50, duration=12)
    with pytest.raises(InvalidRequestError) as err:
        prepare(req)
    assert err.value.field == "duration" and err.value.allowed == ["6", "8", "10"]
