"""Exports with the real FFmpeg on generated clips: formats, lengths, audio levels, pixels, escaping, cancel."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.errors import CancelledError, InvalidRequestError, UnavailableError
from core.video.export import (AUDIO_CODECS_FOR_FORMAT, CODECS_FOR_FORMAT, ExportSettings, TextOverlay,
                               TransitionSpec)
from core.video.exporter import export_project
from core.video.media import count_frames, probe
from tests.media_factory import (audio_level_db, frame_rgb, make_clip, make_image, make_lut, make_tone,
                                 project_with_clips)

SMALL = "320x180"
CODEC_NAMES = {"h264": "h264", "h265": "hevc", "vp9": "vp9", "prores": "prores"}
AUDIO_NAMES = {"aac": "aac", "mp3": "mp3", "opus": "opus"}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Clips that differ in size, fps, codec, container, pixel format and audio (one has none)."""
    d = tmp_path_factory.mktemp("mixed")
    return [make_clip(d / "full_hd.mp4", 1920, 1080, 30, 1.0, freq=300),
            make_clip(d / "hd.webm", 1280, 720, 24, 1.0, codec="vp9", freq=500),
            make_clip(d / "portrait.mp4", 720, 1280, 24, 1.0, audio=False),
            make_clip(d / "odd.mp4", 1279, 719, 25, 1.0, freq=700, audio_rate=44100, audio_channels=1)]


def _pairs():
    out = []
    for fmt, codecs in CODECS_FOR_FORMAT.items():
        for i, vcodec in enumerate(codecs):
            audios = AUDIO_CODECS_FOR_FORMAT[fmt]
            out.append((fmt, vcodec, audios[i % len(audios)]))
    return out


@pytest.mark.parametrize("fmt,vcodec,acodec", _pairs())
def test_every_format_codec_pair_plays_with_right_codec_size_fps_and_length(tmp_path, mixed, fmt, vcodec, acodec):
    store = project_with_clips(tmp_path / "p", mixed)
    settings = ExportSettings(format=fmt, video_codec=vcodec, audio_codec=acodec, quality="low", resolution=SMALL,
                              fps=24, transition=TransitionSpec(kind="fade", duration=0.25))
    result = export_project(store, settings)
    info = probe(result.output_path)
    assert result.output_path.suffix == f".{fmt}"
    assert info.vcodec == CODEC_NAMES[vcodec]
    assert (info.width, info.height) == (320, 180)
    assert info.fps == pytest.approx(24, abs=0.01)
    assert info.has_audio and info.acodec == AUDIO_NAMES[acodec]
    expected = 4 * 24 - 3 * 6  # 4 clips of 1 s minus three 0.25 s fades, in frames
    assert abs(count_frames(result.output_path) - expected) <= 1
    assert info.duration == pytest.approx(expected / 24, abs=1 / 24 + 0.03)


def test_length_is_sum_minus_transitions_with_per_boundary_choices(tmp_path, mixed):
    store = project_with_clips(tmp_path / "p", mixed)
    scenes = store.project.scenes
    settings = ExportSettings(resolution=SMALL, fps=24, quality="low", transition=TransitionSpec(kind="none"),
                              boundary_transitions={scenes[1].id: TransitionSpec(kind="wipe", duration=0.5),
                                                    scenes[3].id: TransitionSpec(kind="dissolve", duration=0.25)})
    events = []
    result = export_project(store, settings, progress=events.append)
    assert count_frames(result.output_path) == 96 - 12 - 6
    assert result.duration == pytest.approx(78 / 24)
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and events[-1].stage == "done"
    assert {"video", "audio"} <= {e.stage for e in events}
    assert any(e.eta_s is not None for e in events if e.stage == "video")
    assert max(e.fraction for e in events if e.stage == "video") > 0.3  # -progress drives the bar


def test_source_resolution_keeps_the_first_clip_and_letterboxes_the_rest(tmp_path, mixed):
    store = project_with_clips(tmp_path / "p", [mixed[2], mixed[0]])  # portrait first
    result = export_project(store, ExportSettings(quality="low", resolution="480p"))
    info = probe(result.output_path)
    assert (info.width, info.height) == (480, 854)
    # the landscape clip is letterboxed into the portrait frame: black bars above and below
    frame = frame_rgb(result.output_path, 1.5)
    assert max(frame.getpixel((240, 20))) < 30 and max(frame.getpixel((240, 830))) < 30


def test_music_is_audible_and_faded_where_expected(tmp_path):
    clips = [make_clip(tmp_path / f"c{i}.mp4", 160, 90, 24, 2.0, audio=False) for i in range(2)]
    music = make_tone(tmp_path / "music.mp3", 2.5, 220, volume=0.5)  # shorter than the video: it loops
    store = project_with_clips(tmp_path / "p", clips)
    settings = ExportSettings(music_path=store.import_asset(music, "references"), music_volume=1.0, music_fade_in=1.0, music_fade_out=1.0,
                              quality="low")
    out = export_project(store, settings).output_path
    start, middle, end = (audio_level_db(out, 0.0, 0.15), audio_level_db(out, 1.5, 1.0),
                          audio_level_db(out, 3.85, 0.15))
    assert middle > -20  # the tone at full level (volume 0.5 is about -9 dBFS)
    assert start < middle - 12 and end < middle - 12  # faded in and out
    assert audio_level_db(out, 2.6, 0.4) > -20  # still playing after the 2.5 s file ended (looped)


def test_clip_audio_keep_mute_and_duck(tmp_path):
    loud = make_clip(tmp_path / "talk.mp4", 160, 90, 24, 2.0, freq=1500)
    quiet = make_clip(tmp_path / "silent.mp4", 160, 90, 24, 2.0, audio=False)
    music = make_tone(tmp_path / "m.wav", 4.0, 150, volume=0.3)
    store = project_with_clips(tmp_path / "p", [loud, quiet])
    low = "lowpass=f=300,lowpass=f=300"   # hear the music only
    high = "highpass=f=1000,highpass=f=1000"  # hear the clip only

    keep = export_project(store, ExportSettings(quality="low", music_path=store.import_asset(music, "references"), music_volume=1.0)).output_path
    assert audio_level_db(keep, 0.5, 1.0, high) > -35
    keep_music = audio_level_db(keep, 0.5, 1.0, low)

    duck = export_project(store, ExportSettings(quality="low", music_path=store.import_asset(music, "references"), music_volume=1.0,
                                                clip_audio="duck")).output_path
    assert audio_level_db(duck, 0.5, 1.0, low) < keep_music - 6   # music pushed down under the clip's audio
    assert audio_level_db(duck, 2.8, 1.0, low) > audio_level_db(duck, 0.5, 1.0, low) + 6  # back up after

    mute = export_project(store, ExportSettings(quality="low", music_path=store.import_asset(music, "references"), clip_audio="mute")).output_path
    assert audio_level_db(mute, 0.5, 1.0, high) < -60
    assert audio_level_db(mute, 0.5, 1.0, low) > -30

    none = export_project(store, ExportSettings(quality="low", clip_audio="mute")).output_path
    assert not probe(none).has_audio


def test_lut_that_inverts_colours_inverts_the_pixels(tmp_path):
    clip = make_clip(tmp_path / "red.mp4", 160, 90, 24, 1.0, color="red", audio=False)
    lut = make_lut(tmp_path / "invert.cube", "invert")
    store = project_with_clips(tmp_path / "p", [clip])
    plain = frame_rgb(export_project(store, ExportSettings(quality="high")).output_path, 0.5).getpixel((80, 45))
    graded = frame_rgb(export_project(store, ExportSettings(quality="high", lut_path=store.import_asset(lut, "references"))).output_path,
                       0.5).getpixel((80, 45))
    assert plain[0] > 200 and plain[1] < 60
    for before, after in zip(plain, graded):
        assert abs((255 - before) - after) < 30


def test_watermark_and_text_change_the_pixels_where_they_should(tmp_path):
    clip = make_clip(tmp_path / "grey.mp4", 320, 180, 24, 2.0, color="0x404040", audio=False)
    logo = make_image(tmp_path / "logo.png", 40, 20, (255, 0, 0, 255))
    store = project_with_clips(tmp_path / "p", [clip])
    settings = ExportSettings(quality="high", watermark_path=store.import_asset(logo, "references"), watermark_position="top-right",
                              watermark_scale=0.25, watermark_opacity=1.0,
                              texts=[TextOverlay(text="WWWWWW", start=0, end=1, position="bottom", size=120,
                                                 color="white", box=False)])
    out = export_project(store, settings).output_path
    early, late = frame_rgb(out, 0.5), frame_rgb(out, 1.5)
    r, g, b = early.getpixel((320 - 6 - 20, 6 + 10))  # inside the logo (80 px wide, top-right, 2.5 % margin)
    assert r > 180 and g < 80
    assert max(early.getpixel((20, 20))) < 90            # top-left untouched
    band = (60, 140, 260, 180)  # the bottom strip where a 20 px caption sits
    assert max(max(p) for p in early.crop(band).getdata()) > 200  # white text drawn during 0-1 s
    assert max(max(p) for p in late.crop(band).getdata()) < 90     # and gone after its end
    assert max(max(p) for p in early.crop((60, 0, 200, 120)).getdata()) < 90  # nowhere else


NASTY = "It's 50% off: a,b [c]; \\ back\\slash %{pts} %{localtime} \"q\" = Привет 你好 ;-)"


def test_special_characters_in_text_and_file_names_are_taken_literally(tmp_path):
    weird = tmp_path / "we'ird, [dir]; 50% %{n} \\ é"
    weird.mkdir()
    clip = make_clip(weird / "cl'ip:1, [x];%.mp4", 320, 180, 24, 1.0, color="0x202020", audio=False)
    clip2 = make_clip(weird / "Привет,клип.mp4", 320, 180, 24, 1.0, color="0x202020", audio=False)
    lut = make_lut(weird / "id'entity:lut,[1].cube", "identity")
    logo = make_image(weird / "lo'go;%.png", 20, 10, (0, 255, 0, 255))
    music = make_tone(weird / "mu'sic:[a],b.wav", 1.0, 300)
    store = project_with_clips(weird / "proj 'x': [y]", [clip, clip2], name="na'me: [x]")
    settings = ExportSettings(quality="high", lut_path=store.import_asset(lut, "references"), watermark_path=store.import_asset(logo, "references"), music_path=store.import_asset(music, "references"),
                              transition=TransitionSpec(kind="fade", duration=0.25),
                              texts=[TextOverlay(text=NASTY, start=0, end=2, position="center", size=40,
                                                 box=False)])
    result = export_project(store, settings, output=weird / "out 'x': [1] 50%; Ж.mp4")
    assert result.output_path.name == "out 'x': [1] 50%; Ж.mp4"
    assert result.output_path.exists() and count_frames(result.output_path) == 42
    # the text must be drawn exactly as typed: compare with the same caption read from a file (no escaping)
    _assert_text_matches_textfile(tmp_path, result.output_path, NASTY)


def test_a_single_clip_in_a_folder_with_a_percent_sign(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", 160, 90, 24, 1.0)
    store = project_with_clips(tmp_path / "100% done", [clip])
    result = export_project(store, ExportSettings(quality="low", resolution="120p"))
    assert count_frames(result.output_path) == 24 and probe(result.output_path).height == 120


def _assert_text_matches_textfile(tmp_path: Path, exported: Path, text: str) -> None:
    import subprocess

    from PIL import ImageChops

    from core.video.exporter import find_font
    from core.video.media import ffmpeg_exe
    (tmp_path / "caption.txt").write_text(text, encoding="utf-8")
    ref = tmp_path / "ref.png"
    font = find_font()
    size = round(40 * 180 / 1080)
    fontopt = f"fontfile={font}:" if font else ""
    vf = (f"drawtext={fontopt}expansion=none:textfile=caption.txt:fontsize={size}:fontcolor=white:"
          "x=(w-text_w)/2:y=(h-text_h)/2")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=0x202020:s=320x180:d=1",
                    "-vf", vf, "-frames:v", "1", str(ref)], cwd=tmp_path, check=True)
    from PIL import Image
    got = frame_rgb(exported, 0.3).crop((0, 60, 320, 120)).convert("L")
    want = Image.open(ref).convert("RGB").crop((0, 60, 320, 120)).convert("L")
    diff = ImageChops.difference(got, want)
    # allow codec noise; a different string (escaped or expanded) moves whole glyphs
    assert sum(1 for p in diff.getdata() if p > 80) < 40


def test_cancel_leaves_the_previous_export_untouched_and_no_temp_files(tmp_path, mixed):
    store = project_with_clips(tmp_path / "p", mixed)
    first = export_project(store, ExportSettings(quality="low", resolution=SMALL, fps=24))
    before = first.output_path.read_bytes()
    cancel = threading.Event()
    stages = []

    def on_progress(p):
        stages.append(p.stage)
        if p.stage == "video":
            cancel.set()

    with pytest.raises(CancelledError):
        export_project(store, ExportSettings(quality="high", resolution="640x360", fps=24,
                                             transition=TransitionSpec(kind="fade", duration=0.25)),
                       progress=on_progress, cancel=cancel)
    assert "video" in stages
    assert first.output_path.read_bytes() == before
    exports = first.output_path.parent
    assert sorted(p.name for p in exports.iterdir()) == sorted([".cache", first.output_path.name])
    cache = exports / ".cache"
    assert not [p for p in cache.iterdir() if p.name.startswith("work-") or "partial" in p.name]


def test_reexport_reuses_segments_and_audio(tmp_path, mixed):
    store = project_with_clips(tmp_path / "p", mixed)
    music = make_tone(tmp_path / "m.wav", 5.0, 200)
    base = ExportSettings(quality="low", resolution=SMALL, fps=24, music_path=store.import_asset(music, "references"),
                          transition=TransitionSpec(kind="fade", duration=0.25))
    first = export_project(store, base)
    assert first.reused == []
    n_segments = 4 + 3

    music_only = export_project(store, base.model_copy(update={"music_volume": 0.2, "music_fade_out": 1.0}))
    assert f"{n_segments} of {n_segments} video segments from the cache" in music_only.reused
    assert "clip audio from the cache" in music_only.reused

    scene = store.project.scenes[2].id
    one = export_project(store, base.model_copy(update={"boundary_transitions": {
        scene: TransitionSpec(kind="wipe", duration=0.25)}}))
    assert f"{n_segments - 1} of {n_segments} video segments from the cache" in one.reused
    assert "clip audio from the cache" in one.reused  # the kind of a transition does not change the audio
    assert count_frames(one.output_path) == 96 - 18
    _assert_decodes_cleanly(one.output_path)  # a re-rendered segment joins the split ones without errors

    # a changed clip re-renders only its own body and the two transitions beside it
    replacement = make_clip(tmp_path / "new.mp4", 640, 360, 24, 1.0, color="blue")
    take = store.project.scenes[1].selected_take
    take.clip_path = store.import_asset(replacement, "clips")
    changed = export_project(store, base)
    assert f"{n_segments - 3} of {n_segments} video segments from the cache" in changed.reused
    assert frame_rgb(changed.output_path, 1.1).getpixel((160, 90))[2] > 150  # the new blue clip is in


def _assert_decodes_cleanly(path: Path) -> None:
    import subprocess

    from core.video.media import ffmpeg_exe
    proc = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr


def test_compatible_hard_cuts_are_joined_by_stream_copy(tmp_path):
    clips = [make_clip(tmp_path / f"c{i}.mp4", 320, 180, 24, 1.0, freq=300 + 100 * i) for i in range(3)]
    store = project_with_clips(tmp_path / "p", clips)
    result = export_project(store, ExportSettings())
    assert result.mode == "stream-copy"
    assert count_frames(result.output_path) == 72
    assert probe(result.output_path).has_audio
    # a music track keeps the video copy and re-mixes only the audio
    music = make_tone(tmp_path / "m.wav", 3.0, 200)
    with_music = export_project(store, ExportSettings(music_path=store.import_asset(music, "references")))
    assert with_music.mode == "stream-copy" and count_frames(with_music.output_path) == 72


def test_clips_from_different_encoder_settings_are_not_stream_copied(tmp_path):
    # same codec, size and fps, but other H.264 parameter sets: one file can carry only one set
    clips = [make_clip(tmp_path / "fast.mp4", 320, 180, 24, 1.0),
             make_clip(tmp_path / "slow.mp4", 320, 180, 24, 1.0, preset="medium")]
    store = project_with_clips(tmp_path / "p", clips)
    result = export_project(store, ExportSettings(quality="low"))
    assert result.mode == "segments" and count_frames(result.output_path) == 48
    _assert_decodes_cleanly(result.output_path)


def test_scenes_without_a_done_clip_are_named(tmp_path):
    from core.video.project import Scene, Take
    clip = make_clip(tmp_path / "c.mp4", 160, 90, 24, 1.0)
    store = project_with_clips(tmp_path / "p", [clip])
    store.project.scenes.append(Scene())
    store.project.scenes.append(Scene(takes=[Take(provider="x", status="failed")]))
    with pytest.raises(InvalidRequestError, match=r"scene\(s\) 2, 3"):
        export_project(store)


def test_ffmpeg_from_the_environment_wins(tmp_path, monkeypatch):
    clip = make_clip(tmp_path / "c.mp4", 160, 90, 24, 1.0)
    store = project_with_clips(tmp_path / "p", [clip])
    monkeypatch.setenv("IMAGEAI_FFMPEG", str(tmp_path / "no-such-ffmpeg"))
    with pytest.raises(UnavailableError, match="no-such-ffmpeg"):
        export_project(store)
