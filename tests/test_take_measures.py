"""The objective measures of a take (core/video/take_measures.py) on real clips made with FFmpeg: each one moves the
way its one-line meaning says, and two sizes of the same picture measure alike at one analysis height."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.errors import InvalidRequestError
from core.video.media import ffmpeg_exe
from core.video.take_measures import MEANINGS, analysis_height, measure_clip


def lavfi(path: Path, source: str, *filters: str) -> Path:
    graph = ",".join([source, *filters, "format=yuv420p"])
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", graph,
                    "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", str(path)], check=True, timeout=120)
    return path


MOVING = "testsrc2=size=320x180:rate=24:duration=2"


def test_a_blurred_copy_is_less_sharp(tmp_path):
    sharp = measure_clip(lavfi(tmp_path / "sharp.mp4", MOVING))
    blurred = measure_clip(lavfi(tmp_path / "blur.mp4", MOVING, "gblur=sigma=4"))
    assert blurred.sharpness < 0.7 * sharp.sharpness
    assert sharp.frames == blurred.frames == 48


def test_a_still_picture_has_no_motion_and_a_moving_one_has_some(tmp_path):
    still = measure_clip(lavfi(tmp_path / "still.mp4", "testsrc2=size=320x180:rate=24:duration=0.04",
                               "loop=loop=47:size=1:start=0"))
    moving = measure_clip(lavfi(tmp_path / "moving.mp4", MOVING))
    assert still.frames == 48 and still.motion < 0.05
    assert moving.motion > 20 * max(still.motion, 0.05)


def test_alternating_brightness_is_flicker_and_steady_light_is_not(tmp_path):
    steady = measure_clip(lavfi(tmp_path / "steady.mp4", "color=c=gray:size=160x90:rate=24:duration=2"))
    flicker = measure_clip(lavfi(tmp_path / "flicker.mp4", "color=c=gray:size=160x90:rate=24:duration=2",
                                 r"geq=lum='if(mod(N\,2)\,60\,180)':cb=128:cr=128"))
    assert steady.flicker < 0.5
    assert flicker.flicker == pytest.approx(60, abs=3)  # mean luma 60 and 180 in turn: a spread of 60


def test_two_sizes_of_one_picture_measure_alike_at_one_height(tmp_path):
    big = lavfi(tmp_path / "big.mp4", "testsrc2=size=1280x720:rate=24:duration=1")
    small = lavfi(tmp_path / "small.mp4", "testsrc2=size=640x360:rate=24:duration=1")
    height = analysis_height(720, 360)
    a, b = measure_clip(big, height=height), measure_clip(small, height=height)
    assert height == 360 and a.analysis_height == b.analysis_height == 360
    assert a.sharpness == pytest.approx(b.sharpness, rel=0.15)
    assert a.motion == pytest.approx(b.motion, rel=0.15)


def test_analysis_height_is_the_smallest_even_one_at_most_360():
    assert analysis_height(1080, 2160) == 360
    assert analysis_height(72, 1080) == 72
    assert analysis_height(91) == 90


def test_a_file_without_video_is_refused_naming_it(tmp_path):
    audio = tmp_path / "tone.m4a"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=1", str(audio)], check=True, timeout=60)
    with pytest.raises(InvalidRequestError) as err:
        measure_clip(audio)
    assert "tone.m4a" in str(err.value)


def test_every_measure_has_its_meaning():
    assert set(MEANINGS) == {"sharpness", "motion", "flicker"}
