"""`python main.py local install` against a fake Hugging Face hub on 127.0.0.1 (huggingface_hub's real client):
a download killed halfway resumes with a Range request and does not fetch again what it has; a disk too small is
refused before any download; --dry-run changes nothing; the torch build per hardware case; the pip commands."""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import pytest

from core.errors import InvalidRequestError, UnavailableError
from providers.ltx import local_install as li
from tests.fakes.hf_fake import HubFake, tiny_pipeline

ROOT = Path(__file__).resolve().parent.parent
REPO = "Lightricks/LTX-Video-0.9.5"  # ltx-video-2b's repo
BIG = "transformer/diffusion_pytorch_model.safetensors"


def _repo(big_bytes: int) -> dict[str, bytes]:
    files = tiny_pipeline(16)
    files[BIG] = random.Random(0).randbytes(big_bytes)
    return files


@pytest.fixture
def hf_env(tmp_path, monkeypatch, isolated_config):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    # huggingface_hub reads HF_HUB_OFFLINE once, at import; another test module may have imported it offline
    import huggingface_hub.constants
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    return tmp_path


def _run_cli(hub_url: str, models_dir: Path, *extra: str, popen: bool = False):
    env = dict(os.environ, HF_ENDPOINT=hub_url)
    cmd = [sys.executable, str(ROOT / "main.py"), "local", "install", "--cpu", "--dir", str(models_dir), *extra]
    if popen:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()} \
        if folder.exists() else {}


# --- download, resume, verify, settings ------------------------------------------------------------------------

def test_killed_download_resumes_without_fetching_again(hf_env, isolated_config):
    files = _repo(24 << 20)  # over huggingface_hub's 10 MiB write chunk, so part of it is on disk when killed
    models = hf_env / "models"
    key = f"{REPO}/{BIG}"
    with HubFake({REPO: files}) as hub:
        hub.hold_after[key] = 14 << 20
        proc = _run_cli(hub.url, models, popen=True)
        try:
            assert hub.reached.wait(120), "the client never reached the middle of the large file"
            # the first 10 MiB chunk is written once it has arrived; wait for it on disk (bounded)
            deadline = time.monotonic() + 60
            partial: list[Path] = []
            while time.monotonic() < deadline:
                partial = list(models.rglob("*.part"))
                if partial and partial[0].stat().st_size >= 10 << 20:
                    break
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()
        assert len(partial) == 1, "the killed download left no partial file"
        kept = partial[0].stat().st_size
        assert 0 < kept < len(files[BIG])
        assert not (models / "ltx-video-2b" / BIG).exists()
        first_run = hub.served[key]

        del hub.hold_after[key]
        hub.release.set()
        # the disk check counts only what is still missing (the small files came first and are whole)
        plan = _run_cli(hub.url, models, "--dry-run", "--json")
        disk = next(s for s in json.loads(plan.stdout)["steps"] if s["step"] == "disk")
        assert disk["needed"] == len(files[BIG]) - kept
        done = _run_cli(hub.url, models, "--json")
        assert done.returncode == 0, done.stderr
        # the second GET of the large file asked for the rest only, and only the rest was sent
        assert hub.ranges[-1] == (key, kept)
        assert hub.served[key] - first_run == len(files[BIG]) - kept

    folder = models / "ltx-video-2b"
    got = (folder / BIG).read_bytes()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(files[BIG]).hexdigest()
    assert not list(models.rglob("*.part"))
    # the top-level single-file checkpoint is not part of a pipeline download
    assert not (folder / "ltx-video-2b-v0.9.5.safetensors").exists()
    report = json.loads(done.stdout)
    assert [s["step"] for s in report["steps"]] == ["hardware", "torch build", "packages", "disk", "download",
                                                    "resume", "verify", "settings"]
    assert report["steps"][5]["text"].startswith(f"{BIG}: continuing at")
    assert report["check"]["ok"] is True and report["check"]["model_path"]["family"] == "ltx"
    settings = json.loads((isolated_config / "settings.json").read_text())
    assert settings["ltx_local_path"] == str(folder)
    assert settings["ltx_local_device"] == "cpu"


def test_a_file_that_does_not_match_the_hub_is_removed_and_named(hf_env, isolated_config):
    files = _repo(1 << 20)
    models = hf_env / "models"
    with HubFake({REPO: files}) as hub:
        hub.tamper.add(f"{REPO}/{BIG}")
        proc = _run_cli(hub.url, models)
    assert proc.returncode == 3
    assert f"{BIG}: sha256 differs from the hub's" in proc.stderr and "run the same command again" in proc.stderr
    assert not (models / "ltx-video-2b" / BIG).exists()
    assert (models / "ltx-video-2b" / "model_index.json").read_bytes() == files["model_index.json"]
    assert not (isolated_config / "settings.json").exists()


def test_disk_too_small_is_refused_before_downloading(hf_env, monkeypatch, isolated_config, capsys):
    from cli.main import main

    files = _repo(3 << 20)
    models = hf_env / "models"
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10 << 20, 9 << 20, 1 << 20))
    with HubFake({REPO: files}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        code = main(["local", "install", "--cpu", "--dir", str(models)])
        assert code == 3
        assert hub.served == {}  # nothing was downloaded
    err = capsys.readouterr().err
    assert "not enough disk space" in err and "3.0 MB more, 1.0 MB is free" in err
    assert _tree(models) == {}
    assert not (isolated_config / "settings.json").exists()


def test_dry_run_changes_nothing(hf_env, monkeypatch, isolated_config, capsys):
    from cli.main import main
    from core.config import Settings, save_settings

    save_settings(Settings(ltx_local_path="/old/folder"))
    before = (isolated_config / "settings.json").read_bytes()
    models = hf_env / "models"
    with HubFake({REPO: _repo(1 << 20)}) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        code = main(["local", "install", "--cpu", "--dir", str(models), "--dry-run", "--json"])
        assert hub.served == {}
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True
    assert [s["step"] for s in report["steps"]] == ["hardware", "torch build", "packages", "disk", "download",
                                                    "settings", "check"]
    assert not models.exists()
    assert not (hf_env / "hf_home").exists()
    assert (isolated_config / "settings.json").read_bytes() == before


def test_unknown_model_is_refused_with_the_allowed_ids(hf_env, capsys):
    from cli.main import main

    assert main(["local", "install", "--cpu", "--models", "ltx-video-2b,nope", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "'nope'" in err and "ltx-video-13b" in err


def test_verify_removes_a_corrupt_file(tmp_path):
    data = b"weights" * 100
    repo = li.RemoteRepo(repo_id="x/y", commit="0" * 40, files=[
        li.RemoteFile(path="a.safetensors", size=len(data), sha256=hashlib.sha256(data).hexdigest())])
    (tmp_path / "a.safetensors").write_bytes(data[:-1] + b"X")
    assert li.verify(repo, tmp_path) == ["a.safetensors: sha256 differs from the hub's"]
    assert not (tmp_path / "a.safetensors").exists()
    (tmp_path / "a.safetensors").write_bytes(data)
    assert li.verify(repo, tmp_path) == []


# --- the torch build per hardware case ---------------------------------------------------------------------------

LINUX = dict(platform="linux", machine="x86_64")


@pytest.mark.parametrize("hw, forced, kind, index", [
    (li.Hardware(**LINUX), None, "cpu", "https://download.pytorch.org/whl/cpu"),
    (li.Hardware(**LINUX, nvidia_driver="570.86", cuda_version="12.8"), None, "cuda",
     "https://download.pytorch.org/whl/cu128"),
    (li.Hardware(**LINUX, nvidia_driver="580.1", cuda_version="13.1"), None, "cuda",
     "https://download.pytorch.org/whl/cu130"),
    (li.Hardware(**LINUX, nvidia_driver="560.35", cuda_version="12.6"), None, "cuda",
     "https://download.pytorch.org/whl/cu126"),
    (li.Hardware(**LINUX, nvidia_driver="570.86", cuda_version="12.8"), "cpu", "cpu",
     "https://download.pytorch.org/whl/cpu"),
    (li.Hardware(platform="win32", machine="amd64", nvidia_driver="572.16", cuda_version="12.8"), None, "cuda",
     "https://download.pytorch.org/whl/cu128"),
    (li.Hardware(platform="win32", machine="amd64"), None, "cpu", "https://download.pytorch.org/whl/cpu"),
    (li.Hardware(platform="darwin", machine="arm64"), None, "mps", None),
    (li.Hardware(platform="darwin", machine="arm64"), "mps", "mps", None),
    (li.Hardware(platform="darwin", machine="arm64"), "cpu", "cpu", None),
    (li.Hardware(platform="darwin", machine="x86_64"), None, "cpu", None),
])
def test_torch_build_for_the_hardware(hw, forced, kind, index):
    build = li.choose_torch_build(hw, forced)
    assert (build.kind, build.index_url) == (kind, index)


@pytest.mark.parametrize("hw, forced, words", [
    (li.Hardware(**LINUX), "cuda", "no NVIDIA driver"),
    (li.Hardware(**LINUX), "mps", "Apple silicon"),
    (li.Hardware(platform="darwin", machine="arm64"), "cuda", "no CUDA build for macOS"),
    (li.Hardware(**LINUX, nvidia_driver="470.1", cuda_version="11.4"), None, "older than the oldest"),
    (li.Hardware(**LINUX, nvidia_driver="470.1"), None, "no CUDA version"),
])
def test_torch_build_refusals_say_what_to_do(hw, forced, words):
    with pytest.raises(UnavailableError, match=words):
        li.choose_torch_build(hw, forced)


def test_unknown_build_names_the_allowed_ones():
    with pytest.raises(InvalidRequestError, match="allowed: cuda, mps, cpu"):
        li.choose_torch_build(li.Hardware(**LINUX), "rocm")


def test_nvidia_smi_output_is_parsed():
    banner = "| NVIDIA-SMI 570.86.15   Driver Version: 570.86.15   CUDA Version: 12.8     |"
    assert li.parse_nvidia_smi("570.86.15, NVIDIA GeForce RTX 4090\n", banner) == {
        "nvidia_driver": "570.86.15", "gpu_name": "NVIDIA GeForce RTX 4090", "cuda_version": "12.8"}
    assert li.parse_nvidia_smi("", "") == {}


def test_pip_commands_put_torch_first_from_its_index():
    build = li.choose_torch_build(li.Hardware(**LINUX, nvidia_driver="570.86", cuda_version="12.8"))
    cmds = li.pip_commands(build, "2.13.0", Path("/src/app"), python="/venv/bin/python")
    assert cmds == [
        ["/venv/bin/python", "-m", "pip", "install", "torch==2.13.0", "--index-url",
         "https://download.pytorch.org/whl/cu128"],
        ["/venv/bin/python", "-m", "pip", "install", "-e", "/src/app[local]"]]
    mac = li.pip_commands(li.choose_torch_build(li.Hardware(platform="darwin", machine="arm64")), "2.13.0",
                          Path("/src/app"), python="py")
    assert mac[0] == ["py", "-m", "pip", "install", "torch==2.13.0"]


def test_missing_packages_sees_a_cpu_torch_under_a_cuda_build():
    import importlib.metadata

    reqs = li.local_extra_requirements(ROOT)
    assert any(r.startswith("torch") for r in reqs) and any(r.startswith("diffusers") for r in reqs)
    cuda = li.TorchBuild(kind="cuda", index_url="x", reason="test")
    have = importlib.metadata.version("torch")
    missing = li.missing_packages(cuda, ["torch>=2.4", "no-such-package-h17>=1"])
    assert "no-such-package-h17>=1" in missing
    assert any(m.startswith("torch") for m in missing) == have.endswith("+cpu")
