"""A re-export through the CLI does only the work that changed: every FFmpeg the app starts is logged by a wrapper
named as the FFmpeg binary (IMAGEAI_FFMPEG), so the test sees the processes a user's machine would run."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from core.video.media import count_frames, ffmpeg_exe
from tests.cli_helpers import cli_env, run_json
from tests.media_factory import audio_level_db, make_clip, make_tone, project_with_clips

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the logging wrapper is a POSIX shell script")


def _logging_ffmpeg(folder: Path) -> tuple[Path, Path]:
    log = folder / "ffmpeg-calls.log"
    wrapper = folder / "ffmpeg-logged"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{ffmpeg_exe()}" "$@"\n')
    os.chmod(wrapper, 0o755)
    return wrapper, log


def test_a_music_only_reexport_through_the_cli_runs_one_ffmpeg_and_no_probe(tmp_path):
    wrapper, log = _logging_ffmpeg(tmp_path)
    env = cli_env(IMAGEAI_FFMPEG=str(wrapper))
    clips = [make_clip(tmp_path / f"c{i}.mp4", 320, 180, 24, 1.0, freq=500 + 100 * i) for i in range(3)]
    store = project_with_clips(tmp_path / "proj", clips)
    music = make_tone(tmp_path / "song.wav", 4.0, 150, volume=0.4)
    first = run_json("project", "export", store.folder, "--transition", "fade", "--transition-duration", "0.25",
                     "--music", music, "--music-volume", "1.0", env=env)
    first_calls = log.read_text().splitlines()
    assert any("-version" in c for c in first_calls)  # the first run learns FFmpeg's version and probes the clips
    out = Path(first["output_path"])
    loud = audio_level_db(out, 0.5, 2.0, band="lowpass=f=200")

    log.unlink()
    second = run_json("project", "export", store.folder, "--music-volume", "0.25", env=env)
    calls = log.read_text().splitlines()
    # one process mixes the new music level and writes the file around the cached video: nothing is probed again
    # (facts are cached by path, size and mtime) and FFmpeg's version is not asked again
    assert len(calls) == 1, calls
    assert "-progress" in calls[0] and "-c:v copy" in calls[0]
    assert second["reused"] == ["5 of 5 video segments from the cache", "clip audio from the cache"]
    assert Path(second["output_path"]) == out and count_frames(out) == 72 - 2 * 6
    quiet = audio_level_db(out, 0.5, 2.0, band="lowpass=f=200")
    assert quiet == pytest.approx(loud - 12, abs=1.5)  # a quarter of the gain is 12 dB down
