"""What a ComfyUI server hands back, as the render queue sees it: animated WebP/APNG that Pillow's writer merged
(a still batch comes back as one frame) keep their frame count, WebM is transcoded, and junk (a PNG named .mp4, a
clip too short for its scene, a cut file, a GIF bomb, an endless body, no output at all) fails its take as
bad_output with nothing at the clip path and nothing left behind. /view is streamed under a cap, never read whole."""
from __future__ import annotations

import asyncio
import json
import tracemalloc
from pathlib import Path

import pytest

from core.errors import BadOutputError
from core.video.media import count_frames, probe
from core.video.project import Scene
from core.video.project_io import ProjectStore
from providers.ltx.comfyui_output import frame_counts
from tests.fakes.comfyui_fake import FakeComfyUI
from tests.fakes.comfyui_helpers import project, provider_for, render, request, run_queue, settings_for

pytestmark = pytest.mark.timeout(180)

SAVERS = {
    "webp": ("SaveAnimatedWEBP", {"lossless": True, "quality": 80, "method": "default"}),
    "apng": ("SaveAnimatedPNG", {"compress_level": 4}),
    "webm": ("SaveWEBM", {"codec": "vp9", "crf": 32.0}),
}


@pytest.fixture
def fake():
    server = FakeComfyUI().start()
    yield server
    server.stop()


def saver_workflow(tmp_path: Path, kind: str) -> Path:
    cls, extra = SAVERS[kind]
    wf = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ltx-video-2b-v0.9.5.safetensors"}},
          "4": {"class_type": "EmptyLTXVLatentVideo", "inputs": {"width": "{{width}}", "height": "{{height}}",
                                                                 "length": "{{num_frames}}", "batch_size": 1}},
          "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["1", 2]}},
          "7": {"class_type": cls, "inputs": {"images": ["5", 0], "filename_prefix": "mine/clip", "fps": "{{fps}}",
                                              **extra}}}
    path = tmp_path / f"{kind}.json"
    path.write_text(json.dumps(wf))
    return path


@pytest.mark.parametrize("still", [False, True], ids=["moving", "still"])
@pytest.mark.parametrize("kind", ["webp", "apng", "webm"])
def test_animated_and_webm_outputs_keep_every_frame(fake, tmp_path, kind, still):
    fake.still = still  # 49 identical frames: Pillow writes one still frame with no duration
    r = render(provider_for(fake), request(tmp_path, workflow=str(saver_workflow(tmp_path, kind)), frames=49))
    info = probe(r.clip_path)
    assert info.vcodec == "h264" and (info.width, info.height) == (64, 64) and info.fps == 24
    assert count_frames(r.clip_path) == 49
    assert r.duration == pytest.approx(49 / 24, abs=0.05)


def test_merged_frame_durations_are_spread_back():
    base = 1000 / 24
    assert frame_counts([0], 24, 49) == [49]                    # a still that stands for the batch
    assert frame_counts([410, 41, 41, 41, 41, 41], 24, 15) == [10, 1, 1, 1, 1, 1]  # WebP: whole ms per frame
    assert sum(frame_counts([2000], 24, 49)) == 49              # GIF: 10 ms steps
    assert frame_counts([base] * 5, 24, 5) == [1] * 5
    assert sum(frame_counts([40] * 30, 25, 9)) == 30            # far from the asked length: its own length counts


def _store(tmp_path: Path, frames: int) -> ProjectStore:
    return project(tmp_path, [Scene(prompt="a storm at sea", duration=(frames - 1) / 24)],
                   options={"frames": frames})


@pytest.mark.parametrize("junk,says", [
    ("png_as_mp4", "a PNG image named .mp4"),
    ("short", "expected about 6.00 s"),
    ("truncated", ""),
    ("gif_bomb", "9000x9000, far larger than the 64x64 asked for"),
    ("none", "without a video or animated image output"),
])
def test_junk_never_reaches_the_clip_path(fake, tmp_path, junk, says):
    store = _store(tmp_path, 145)  # 6 s at 24 fps
    fake.junk_next = junk
    summary = run_queue(store, settings_for(fake, render_retries=0))
    (message,) = summary.failed.values()
    assert says in message
    take = ProjectStore.open(store.folder).project.scenes[0].takes[-1]
    assert take.status == "failed" and take.error_kind == "bad_output" and take.clip_path is None
    clips = store.folder / "clips"
    assert [p for p in clips.rglob("*") if p.is_file()] == []  # no clip, no part file, no raw download


def test_a_body_over_its_cap_is_streamed_and_refused(fake, tmp_path):
    fake.junk_next = "huge"  # 96 MiB sent chunked; the cap of a 64x64 0.33 s clip is about 32 MiB
    p = provider_for(fake)
    plan = p.prepare(request(tmp_path / "out", "c.mp4"))

    async def go():
        job = await p.submit(plan)
        tracemalloc.start()
        try:
            with pytest.raises(BadOutputError, match="cap"):
                await p.wait(job, plan)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            await p.aclose()
    peak = asyncio.run(go())
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB: the body was held in memory"
    assert list((tmp_path / "out").iterdir()) == []


NO_NUMPY = """
import sys
sys.modules["numpy"] = None  # any import of numpy fails
from pathlib import Path
from tests.fakes.comfyui_fake import FakeComfyUI
from tests.fakes.comfyui_helpers import provider_for, render, request
from tests.test_comfyui_outputs import saver_workflow
fake = FakeComfyUI().start()
try:
    fake.still = True
    tmp = Path(sys.argv[1])
    r = render(provider_for(fake), request(tmp, workflow=str(saver_workflow(tmp, "webp")), frames=17))
    src = tmp / "src.mp4"
    src.write_bytes(Path(r.clip_path).read_bytes())
    e = render(provider_for(fake), request(tmp, "ext.mp4", frames=17, extend_video=src))
    print(Path(r.clip_path).stat().st_size > 0, Path(e.clip_path).stat().st_size > 0)
finally:
    fake.stop()
"""


def test_outputs_and_extensions_need_no_numpy(tmp_path):
    import subprocess
    import sys
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", NO_NUMPY, str(tmp_path)], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["True", "True"]
