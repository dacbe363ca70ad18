"""The Animatic provider renders exact clips offline: duration, size and fps as asked, H.264 + silent AAC."""
import asyncio

import pytest

from core.errors import InvalidRequestError
from core.video.media import count_frames, probe
from core.video.render_settings import RenderSettings
from providers.animatic import AnimaticProvider
from providers.base import RenderRequest
from tests.cli_helpers import make_image


def render(tmp_path, **kw):
    image = kw.pop("image", None)
    settings = RenderSettings(**kw)
    req = RenderRequest(prompt="A lighthouse at night, waves", settings=settings, start_image=image,
                        output_path=tmp_path / "clip.mp4", work_dir=tmp_path)
    provider = AnimaticProvider()
    plan = provider.prepare(req)
    job = asyncio.run(provider.submit(plan))
    return asyncio.run(provider.wait(job, plan))


@pytest.mark.parametrize("resolution,aspect,fps,duration,size", [
    ("480p", "16:9", 24, 2.0, (854, 480)),
    ("720p", "9:16", 30, 1.5, (720, 1280)),
    ("480p", "1:1", 25, 3.0, (480, 480)),
])
def test_clip_has_exact_duration_size_fps(tmp_path, resolution, aspect, fps, duration, size):
    image = make_image(tmp_path / "start.png", (900, 500))
    result = render(tmp_path, resolution=resolution, aspect_ratio=aspect, fps=fps, duration=duration, image=image)
    info = probe(result.clip_path)
    assert (info.width, info.height) == size
    assert info.fps == fps
    assert info.vcodec == "h264" and info.acodec == "aac" and info.has_audio
    assert count_frames(result.clip_path) == round(duration * fps)
    assert abs(info.duration - duration) < 0.05


def test_title_card_without_image_shows_text(tmp_path):
    result = render(tmp_path, resolution="480p", fps=24, duration=1.0)
    info = probe(result.clip_path)
    assert (info.width, info.height) == (854, 480)
    # the card is not a flat colour: the prompt's text is drawn on it
    from core.video.media import ffmpeg_exe
    import subprocess
    from PIL import Image
    frame = tmp_path / "f.png"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(result.clip_path), "-frames:v", "1",
                    str(frame)], check=True)
    bright = sum(1 for p in Image.open(frame).convert("L").getdata() if p > 200)
    assert bright > 500


def test_validation_names_allowed_values(tmp_path):
    req = RenderRequest(prompt="x", settings=RenderSettings(fps=23, duration=900 / 2, model="other"),
                        output_path=tmp_path / "c.mp4")
    with pytest.raises(InvalidRequestError) as err:
        AnimaticProvider().prepare(req)
    # every problem at once, each naming what is allowed
    assert "fps" in str(err.value) and "24" in str(err.value)
    assert "duration" in str(err.value) and "120" in str(err.value)
    assert "model" in str(err.value) and "animatic" in str(err.value)


def test_inherited_values_are_adapted_with_an_adjustment(tmp_path):
    from core.video.render_settings import layer_settings
    layered = layer_settings([("project", RenderSettings(fps=23)), ("scene", RenderSettings(duration=2.0))])
    req = RenderRequest(prompt="x", layered=layered, cut_seconds=2.0, output_path=tmp_path / "c.mp4")
    plan = AnimaticProvider().prepare(req)
    assert plan.sent["fps"] == 24
    assert [a.field for a in plan.adjustments] == ["fps"] and "23 fps" in str(plan.adjustments[0])
