"""The full decode check (core.video.verify.verify_clip) on real files made by the real FFmpeg: what a header-only
probe lets through (a faststart MP4 cut to a third, a PNG named .mp4) is refused with a one-sentence reason."""
from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import pytest

from core.errors import ERROR_KINDS, BadOutputError, ImageAIError
from core.video.media import ffmpeg_exe, probe
from core.video.verify import ClipReport, verify_clip
from tests.fakes.clips import write_image


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True,
                   capture_output=True, timeout=120)


def _clip(path: Path, seconds: float, *, fps: int = 25, audio: bool = True, audio_seconds: float | None = None,
          size: str = "320x180") -> Path:
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={audio_seconds or seconds}", "-c:a", "aac"]
    _ffmpeg(*args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
            str(path))
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("verify")
    return {"six": _clip(folder / "six.mp4", 6.0),
            "two": _clip(folder / "two.mp4", 2.0),
            "silent": _clip(folder / "silent.mp4", 6.0, audio=False)}


def _refused(path: Path, **kw) -> BadOutputError:
    with pytest.raises(BadOutputError) as info:
        verify_clip(path, **kw)
    return info.value


def test_a_whole_clip_passes_with_its_exact_frame_count(media):
    report = verify_clip(media["six"], expected_duration=6.0, width=320, height=180, need_audio=True)
    assert isinstance(report, ClipReport)
    assert report.frames == 150 and report.fps == 25.0
    assert report.duration == pytest.approx(6.0) and report.claimed_duration == pytest.approx(6.0, abs=0.05)
    assert (report.width, report.height) == (320, 180)
    assert report.has_audio and report.audio_duration == pytest.approx(6.0, abs=0.1)
    assert report.decode_errors == 0 and report.problems == []


def test_an_odd_frame_count_is_counted_exactly(tmp_path):
    # 121 frames at 24 fps: LTX's 8k+1 grid; the check counts what decodes, it does not derive it from the header
    path = tmp_path / "ltx.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=192x108:rate=24", "-frames:v", "121", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path))
    report = verify_clip(path, expected_duration=5.0)
    assert report.frames == 121 and report.duration == pytest.approx(121 / 24, abs=0.001)


def test_sound_a_little_longer_than_the_picture_is_not_a_cut(tmp_path):
    # the container's length is its longest stream's (6.4 s here); all 150 frames decode without an error
    path = _clip(tmp_path / "longer_sound.mp4", 6.0, audio_seconds=6.4)
    assert probe(path).duration == pytest.approx(6.4, abs=0.05)
    report = verify_clip(path, expected_duration=6.0, need_audio=True)
    assert report.frames == 150 and report.audio_duration == pytest.approx(6.4, abs=0.05)


def test_a_faststart_mp4_cut_to_a_third_is_refused_though_its_header_says_six_seconds(media, tmp_path):
    cut = tmp_path / "cut.mp4"
    data = media["six"].read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    assert probe(cut).duration == pytest.approx(6.0, abs=0.05)  # what a header-only check believes
    err = _refused(cut, expected_duration=6.0)
    m = re.search(r"only (\d+) of 150 frames decode \((\d+\.\d) s of a 6\.0 s clip\)", str(err))
    assert m, str(err)
    assert 0 < int(m.group(1)) < 75 and float(m.group(2)) == pytest.approx(int(m.group(1)) / 25, abs=0.05)
    assert str(err).startswith("cut.mp4: ")
    assert err.kind == "bad_output" and err.exit_code == 1 and not err.retryable and not err.not_created
    assert isinstance(err, ImageAIError) and ERROR_KINDS["bad_output"] is BadOutputError


def test_a_png_named_mp4_is_not_a_video(tmp_path):
    fake = tmp_path / "take.mp4"
    fake.write_bytes(write_image(tmp_path / "frame.png", (64, 36)).read_bytes())
    err = _refused(fake, expected_duration=6.0)
    assert str(err) == "take.mp4: not a video: looks like a PNG image"


def test_an_image_the_magic_bytes_do_not_name_is_caught_by_ffmpeg_reading_it(tmp_path):
    from PIL import Image
    Image.new("RGB", (64, 36), (10, 200, 30)).save(tmp_path / "frame.tiff")
    fake = tmp_path / "take.mp4"
    fake.write_bytes((tmp_path / "frame.tiff").read_bytes())
    assert "not a video: looks like a TIFF image" in str(_refused(fake))


def test_an_error_page_saved_as_the_clip_is_named_as_such(tmp_path):
    page = tmp_path / "take.mp4"
    page.write_text("<!DOCTYPE html><html><body>AccessDenied: the link expired</body></html>")
    assert "not a video: looks like an HTML page" in str(_refused(page))
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert "the file is empty" in str(_refused(empty))


def test_a_two_second_clip_where_six_are_expected(media):
    err = _refused(media["two"], expected_duration=6.0)
    assert str(err) == "two.mp4: 2.0 s long; 6.0 s expected"
    assert "at least 6.0 s expected" in str(_refused(media["two"], min_duration=6.0))
    assert verify_clip(media["six"], min_duration=6.0).frames == 150


def test_no_audio_track_when_audio_was_asked_for(media):
    err = _refused(media["silent"], expected_duration=6.0, need_audio=True)
    assert str(err) == "silent.mp4: no audio track; audio was asked for"
    report = verify_clip(media["silent"], expected_duration=6.0)  # without sound asked for it is fine
    assert report.frames == 150 and not report.has_audio


def test_audio_that_stops_early_is_refused_when_audio_was_asked_for(tmp_path):
    short = _clip(tmp_path / "short_audio.mp4", 6.0, audio_seconds=2.0)
    err = _refused(short, need_audio=True)
    assert "the audio decodes for 2.0 s of the 6.0 s clip" in str(err)


def test_the_wrong_frame_size(media):
    err = _refused(media["six"], width=1920, height=1080)
    assert str(err) == "six.mp4: 320x180; 1920x1080 expected"


def test_corruption_inside_a_clip_of_full_length_is_a_decode_error(media, tmp_path):
    data = bytearray(media["six"].read_bytes())
    rnd = random.Random(7)
    for start in (len(data) // 2, len(data) // 2 + 5000):  # garbage in two places of the picture data
        data[start:start + 400] = bytes(rnd.randrange(256) for _ in range(400))
    bad = tmp_path / "noisy.mp4"
    bad.write_bytes(bytes(data))
    err = _refused(bad, expected_duration=6.0)
    assert re.search(r"FFmpeg reported \d+ decode errors? \(", str(err)), str(err)


def test_audio_only_and_unreadable_files(tmp_path):
    audio = tmp_path / "sound.m4a"
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(audio))
    assert "not a video FFmpeg can read (it holds audio only)" in str(_refused(audio))
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(random.Random(3).randbytes(20000))
    assert "not a video FFmpeg can read" in str(_refused(noise))
    assert "no such file" in str(_refused(tmp_path / "missing.mp4"))


def test_several_problems_are_all_named(media):
    err = _refused(media["silent"], expected_duration=2.0, width=640, height=360, need_audio=True)
    assert err.problems == ["6.0 s long; 2.0 s expected", "320x180; 640x360 expected",
                            "no audio track; audio was asked for"]
