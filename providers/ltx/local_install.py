"""The steps of `python main.py local install`: which torch build fits the hardware, the pip commands, the disk
check, the weights download (huggingface_hub, resumable), their verification against the hub's metadata.

The choices are pure functions of what was probed (unit-tested per hardware case); the probes and the side effects
are small functions the CLI calls in order. No torch import here: this runs before torch is installed."""
from __future__ import annotations

import hashlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Optional

from pydantic import BaseModel, ConfigDict

from core.errors import InvalidRequestError, UnavailableError

TORCH_INDEX = "https://download.pytorch.org/whl"
#: CUDA builds published for the pinned torch, newest first; a driver runs a build of its CUDA version or older
CUDA_BUILDS = (("13.0", "cu130"), ("12.8", "cu128"), ("12.6", "cu126"))
#: what a diffusers pipeline needs from a model repository: its index and the component folders (the repos also
#: hold single-file checkpoints of several GB at the top level that the pipeline never reads)
ALLOW_PATTERNS = ["model_index.json", "*/*"]
BUILDS = ("cuda", "mps", "cpu")


class Hardware(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    platform: str  # sys.platform: "linux", "win32", "darwin"
    machine: str  # platform.machine(): "x86_64", "arm64", ...
    nvidia_driver: Optional[str] = None  # from nvidia-smi; None: no NVIDIA driver
    cuda_version: Optional[str] = None  # the highest CUDA version the driver supports
    gpu_name: Optional[str] = None


class TorchBuild(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str  # "cuda", "mps", "cpu"
    index_url: Optional[str]  # None: PyPI's default wheel
    tag: Optional[str] = None  # "cu128", "cpu"
    reason: str


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:2])


def probe_hardware(run: Callable = subprocess.run) -> Hardware:
    """What the machine has, without torch: nvidia-smi's driver and CUDA version, the OS and the CPU."""
    import platform

    hw = dict(platform=sys.platform, machine=platform.machine().lower())
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            query = run([smi, "--query-gpu=driver_version,name", "--format=csv,noheader"],
                        capture_output=True, text=True, timeout=30)
            banner = run([smi], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return Hardware(**hw)
        return Hardware(**hw, **parse_nvidia_smi(query.stdout if query.returncode == 0 else "",
                                                 banner.stdout if banner.returncode == 0 else ""))
    return Hardware(**hw)


def parse_nvidia_smi(query_csv: str, banner: str) -> dict:
    """driver, CUDA version and GPU name from `nvidia-smi --query-gpu=driver_version,name` and its banner."""
    out: dict = {}
    first = query_csv.strip().splitlines()[0] if query_csv.strip() else ""
    if "," in first:
        driver, name = (p.strip() for p in first.split(",", 1))
        out.update(nvidia_driver=driver, gpu_name=name)
    m = re.search(r"CUDA Version:\s*([\d.]+)", banner)
    if m:
        out["cuda_version"] = m.group(1)
    return out


def choose_torch_build(hw: Hardware, forced: Optional[str] = None) -> TorchBuild:
    """The torch wheel for this hardware; `forced` ("cuda", "mps", "cpu") is the user's --cuda/--mps/--cpu."""
    if forced is not None and forced not in BUILDS:
        raise InvalidRequestError(f"unknown torch build {forced!r}", field="build", allowed=BUILDS)
    apple_silicon = hw.platform == "darwin" and hw.machine in ("arm64", "aarch64")
    if forced == "mps" and not apple_silicon:
        raise UnavailableError(f"--mps needs a Mac with Apple silicon; this is {hw.platform} {hw.machine} "
                               "(allowed here: --cpu" + (", --cuda)" if hw.nvidia_driver else ")"))
    if forced == "cuda" and hw.platform == "darwin":
        raise UnavailableError("--cuda: PyTorch has no CUDA build for macOS (allowed here: --mps, --cpu)")
    if forced == "cuda" and not hw.nvidia_driver:
        raise UnavailableError("--cuda: no NVIDIA driver found (nvidia-smi is missing or fails); install the "
                               "driver first, or choose --cpu")
    if hw.platform == "darwin":
        # macOS wheels on PyPI carry MPS; there is no separate build to choose
        if forced == "cpu" or not apple_silicon:
            return TorchBuild(kind="cpu", index_url=None, reason="macOS: PyPI's wheel (CPU)")
        return TorchBuild(kind="mps", index_url=None, reason="Apple silicon: PyPI's wheel with MPS")
    if forced == "cpu" or not hw.nvidia_driver:
        why = "--cpu chosen" if forced == "cpu" else "no NVIDIA driver found"
        return TorchBuild(kind="cpu", index_url=f"{TORCH_INDEX}/cpu", tag="cpu",
                          reason=f"{why}: the CPU build (PyPI's Linux wheel carries gigabytes of CUDA libraries)")
    if not hw.cuda_version:
        raise UnavailableError(f"NVIDIA driver {hw.nvidia_driver} found but nvidia-smi reports no CUDA version; "
                               "update the driver, or choose --cpu")
    have = _version_tuple(hw.cuda_version)
    for version, tag in CUDA_BUILDS:
        if _version_tuple(version) <= have:
            return TorchBuild(kind="cuda", index_url=f"{TORCH_INDEX}/{tag}", tag=tag,
                              reason=f"NVIDIA driver {hw.nvidia_driver} supports CUDA {hw.cuda_version}: the "
                                     f"CUDA {version} build")
    oldest = CUDA_BUILDS[-1][0]
    raise UnavailableError(f"NVIDIA driver {hw.nvidia_driver} supports CUDA {hw.cuda_version}, older than the "
                           f"oldest torch build (CUDA {oldest}); update the driver, or choose --cpu "
                           f"(allowed CUDA builds: {', '.join(v for v, _ in CUDA_BUILDS)})")


def pip_commands(build: TorchBuild, torch_version: str, project_root: Path,
                 python: str = sys.executable) -> list[list[str]]:
    """torch first from its build's index (so pip does not pull PyPI's default build), then the `local` extra."""
    torch_cmd = [python, "-m", "pip", "install", f"torch=={torch_version}"]
    if build.index_url:
        torch_cmd += ["--index-url", build.index_url]
    return [torch_cmd, [python, "-m", "pip", "install", "-e", f"{project_root}[local]"]]


def local_extra_requirements(project_root: Path) -> list[str]:
    """The `local` extra's requirement lines, from pyproject.toml (a checkout) or the installed metadata."""
    pyproject = project_root / "pyproject.toml"
    if pyproject.exists():
        import tomllib
        return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["optional-dependencies"]["local"])
    reqs = importlib.metadata.requires("imageai-video") or []
    return [r.split(";")[0].strip() for r in reqs if 'extra == "local"' in r]


def missing_packages(build: TorchBuild, requirements: list[str]) -> list[str]:
    """The requirements this environment does not meet (a CPU-only torch does not meet a CUDA build)."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pip vendors packaging but does not always install it: then presence is enough
        Requirement = None

    missing = []
    for line in requirements:
        req = Requirement(line) if Requirement else None
        name = req.name if req else re.split(r"[<>=!~\[ ;]", line, maxsplit=1)[0]
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(line)
            continue
        if req and not req.specifier.contains(have.split("+")[0], prereleases=True):
            missing.append(f"{line} (have {have})")
        elif name == "torch" and build.kind == "cuda" and have.endswith("+cpu"):
            missing.append(f"{line} (have {have}, the CPU build)")
    return missing


class RemoteFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    size: int
    sha256: Optional[str] = None  # LFS files
    git_sha1: Optional[str] = None  # the git blob id (small files)


class RemoteRepo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    repo_id: str
    commit: str
    files: list[RemoteFile]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def hub_endpoint() -> Optional[str]:
    """HF_ENDPOINT read now (huggingface_hub reads it once, at import): a mirror set later still counts."""
    import os
    return os.environ.get("HF_ENDPOINT") or None


def remote_repo(repo_id: str, revision: str = "main") -> RemoteRepo:
    """The commit and the pipeline files (with sizes and hashes) of a repo, from the hub's metadata."""
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile
    from huggingface_hub.utils import filter_repo_objects

    api = HfApi(endpoint=hub_endpoint())
    try:
        commit = api.repo_info(repo_id, revision=revision).sha
        entries = [f for f in api.list_repo_tree(repo_id, recursive=True, revision=commit) if isinstance(f, RepoFile)]
    except Exception as exc:  # huggingface_hub raises httpx and its own errors: one message for all of them
        raise UnavailableError(f"cannot read {repo_id} from the Hugging Face hub ({type(exc).__name__}: {exc}); "
                               "check the network, HF_ENDPOINT, or HF_TOKEN for a gated model") from None
    keep = set(filter_repo_objects([f.path for f in entries], allow_patterns=ALLOW_PATTERNS))
    files = [RemoteFile(path=f.path, size=f.size, sha256=f.lfs.sha256 if f.lfs else None,
                        git_sha1=None if f.lfs else f.blob_id) for f in entries if f.path in keep]
    return RemoteRepo(repo_id=repo_id, commit=commit, files=sorted(files, key=lambda f: f.path))


def bytes_to_fetch(repo: RemoteRepo, folder: Path) -> int:
    """What is still missing in `folder`: files absent or of another size, less what their partial files hold."""
    total = 0
    for f in repo.files:
        dest, part = folder / f.path, partial_path(folder, f)
        if dest.is_file() and dest.stat().st_size == f.size:
            continue
        have = part.stat().st_size if part.is_file() else 0
        total += f.size - have if have <= f.size else f.size
    return total


def _existing_parent(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def check_disk(needed: int, folder: Path) -> int:
    """The free bytes where `folder` will be; refuses with the numbers when `needed` does not fit."""
    free = shutil.disk_usage(_existing_parent(folder)).free
    if needed > free:
        raise UnavailableError(f"not enough disk space in {folder}: the models need {gb(needed)} more, "
                               f"{gb(free)} is free; free {gb(needed - free)} or choose another --dir")
    return free


def gb(n: int) -> str:
    return f"{n / 1024 ** 3:.2f} GB" if n >= 1024 ** 3 / 100 else f"{n / 1024 ** 2:.1f} MB"


PARTIAL_DIR = ".partial"  # inside the model folder: partial files survive a killed run and are continued


def partial_path(folder: Path, f: RemoteFile) -> Path:
    # the content hash in the name: a partial file of another version of the file is never continued
    return folder / PARTIAL_DIR / f"{f.path}.{(f.sha256 or f.git_sha1 or 'x')[:16]}.part"


def download(repo: RemoteRepo, folder: Path, log: Callable[[str], None] = lambda _m: None) -> int:
    """The pipeline files into `folder`; returns the bytes fetched. Each file grows in a partial file kept across
    runs; a run continues it with a Range request (huggingface_hub's http_get) and moves it in place when whole.
    (snapshot_download is not used: huggingface_hub 2.x writes each file to a new temporary file per process, so an
    interrupted file restarts from zero.)"""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    fetched = 0
    headers = build_hf_headers()
    for f in repo.files:
        dest = folder / f.path
        if dest.is_file() and dest.stat().st_size == f.size:
            continue
        part = partial_path(folder, f)
        part.parent.mkdir(parents=True, exist_ok=True)
        have = part.stat().st_size if part.exists() else 0
        if have > f.size:  # not a prefix of this file: start again
            part.unlink()
            have = 0
        if have:
            log(f"{f.path}: continuing at {gb(have)} of {gb(f.size)}")
        url = hf_hub_url(repo.repo_id, f.path, revision=repo.commit, endpoint=hub_endpoint())
        try:
            with part.open("ab") as fh:
                http_get(url, fh, resume_size=have, headers=headers, expected_size=f.size,
                         displayed_filename=f.path)
        except Exception as exc:  # httpx and huggingface_hub errors alike: the partial file is kept
            raise UnavailableError(f"download of {repo.repo_id}/{f.path} stopped ({type(exc).__name__}: {exc}); "
                                   "run the same command again to continue where it stopped") from None
        fetched += part.stat().st_size - have
        dest.parent.mkdir(parents=True, exist_ok=True)
        part.replace(dest)
    shutil.rmtree(folder / PARTIAL_DIR, ignore_errors=True)
    return fetched


def _digest(path: Path, algo: str, git: bool = False) -> str:
    h = hashlib.new(algo)
    if git:  # a git blob id hashes a header, then the content
        h.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(repo: RemoteRepo, folder: Path) -> list[str]:
    """Problems of the downloaded files against the hub's sizes and hashes; a bad file is removed so that the next
    run fetches it again. An empty list: every file is right."""
    problems = []
    for f in repo.files:
        path = folder / f.path
        if not path.is_file():
            problems.append(f"{f.path}: missing")
            continue
        size = path.stat().st_size
        if size != f.size:
            problems.append(f"{f.path}: {size} bytes, the hub says {f.size}")
        elif f.sha256 and _digest(path, "sha256") != f.sha256:
            problems.append(f"{f.path}: sha256 differs from the hub's")
        elif f.git_sha1 and _digest(path, "sha1", git=True) != f.git_sha1:
            problems.append(f"{f.path}: content differs from the hub's")
        else:
            continue
        path.unlink()
    return problems
