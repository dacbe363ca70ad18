"""Export benchmark: the same spec three ways in one run, plus the cheap re-export paths.

Spec: 10 clips of 5 s at 1280x720 24 fps (H.264 + AAC, testsrc2 + a tone), 0.5 s fades, 60 s of background music
(MP3, a tone over pink noise; volume 0.6, 1 s fade in, 2 s fade out), H.264 "medium" (x264 veryfast crf 21) + AAC
192k in MP4.

  1. our exporter (cold cache)             core.video.exporter.export_project
  2. the single hand-written FFmpeg command (one graph: xfade + acrossfade chains + music amix)
  3. MoviePy (bench-only extra: pip install moviepy)

then, with the cache warm: a music-only change (in process, and the same change through the CLI as a user runs it:
`python main.py project export DIR --music-volume V`, a fresh process that imports, loads the project and exits), a
one-transition change, and a hard-cut export of compatible clips.
Targets: ours <= 1.10x hand-written; >= 5x faster than MoviePy; music-only >= 10x faster than the full export, in
process and through the CLI; one-transition >= 5x faster; hard cuts >= 100x real time.

    python bench/export.py [--runs 2] [--reexport-runs 5] [--no-moviepy] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.video.export import ExportSettings, TransitionSpec  # noqa: E402
from core.video.exporter import export_project  # noqa: E402
from core.video.media import count_frames, ffmpeg_exe  # noqa: E402
from tests.media_factory import make_clip, make_tone, project_with_clips  # noqa: E402

N, D, T, FPS = 10, 5.0, 0.5, 24
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "192k"]


def make_media(folder: Path) -> tuple[list[Path], Path]:
    clips = []
    for i in range(N):
        p = folder / f"clip{i}.mp4"
        make_clip(p, 1280, 720, FPS, D, freq=220 + 55 * i)
        clips.append(p)
    # music: a tone over pink noise; a bare sine is a worst case for FFmpeg's AAC encoder (about 3x slower than
    # real music), which would make the audio-only re-export look slower than it is
    return clips, make_tone(folder / "music.mp3", 60.0, 330, volume=0.3, noise=0.1)


def hand_written(clips: list[Path], music: Path, out: Path) -> list[str]:
    """What a person would type for this spec: one graph over all inputs."""
    parts, total = [], N * D - (N - 1) * T
    for i in range(N):
        parts.append(f"[{i}:v]fps={FPS},format=yuv420p,settb=AVTB[v{i}]")
        parts.append(f"[{i}:a]aresample=48000,aformat=channel_layouts=stereo,apad,atrim=duration={D}[a{i}]")
    v, a = "v0", "a0"
    for k in range(1, N):
        parts.append(f"[{v}][v{k}]xfade=transition=fade:duration={T}:offset={k * (D - T)}[vx{k}]")
        parts.append(f"[{a}][a{k}]acrossfade=d={T}[ax{k}]")
        v, a = f"vx{k}", f"ax{k}"
    parts.append(f"[{N}:a]aresample=48000,aformat=channel_layouts=stereo,atrim=duration={total},volume=0.6,"
                 f"afade=t=in:st=0:d=1,afade=t=out:st={total - 2}:d=2[m]")
    parts.append(f"[{a}][m]amix=inputs=2:duration=first:dropout_transition=0:normalize=0,alimiter=limit=0.95[aout]")
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    for c in clips:
        args += ["-i", str(c)]
    args += ["-i", str(music), "-filter_complex", ";".join(parts), "-map", f"[{v}]", "-map", "[aout]"]
    return args + X264 + AAC + ["-movflags", "+faststart", str(out)]


def moviepy_export(clips: list[Path], music: Path, out: Path) -> None:
    from moviepy import AudioFileClip, CompositeAudioClip, VideoFileClip, afx, concatenate_videoclips, vfx
    vids = [VideoFileClip(str(c)) for c in clips]
    vids = [vids[0]] + [c.with_effects([vfx.CrossFadeIn(T)]) for c in vids[1:]]
    video = concatenate_videoclips(vids, method="compose", padding=-T)
    song = AudioFileClip(str(music)).with_effects([afx.AudioLoop(duration=video.duration), afx.MultiplyVolume(0.6),
                                                   afx.AudioFadeIn(1.0), afx.AudioFadeOut(2.0)])
    video = video.with_audio(CompositeAudioClip([video.audio, song]))
    video.write_videofile(str(out), fps=FPS, codec="libx264", preset="veryfast", ffmpeg_params=["-crf", "21"],
                          audio_codec="aac", audio_bitrate="192k", logger=None)
    for c in vids:
        c.close()


def cli_environments() -> list[tuple[str, dict]]:
    """The environment as it is; and, where it forbids bytecode files (PYTHONDONTWRITEBYTECODE, set in some
    sandboxes), also with bytecode cached as after a pip install: else every run compiles the app's modules."""
    env = dict(os.environ)
    if not env.get("PYTHONDONTWRITEBYTECODE"):
        return [("fresh process", env)]
    cached = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return [("no bytecode cache", env), ("bytecode cached", cached)]


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2, help="repetitions of the full exports (min is reported)")
    ap.add_argument("--reexport-runs", type=int, default=5, help="repetitions of the music-only re-export")
    ap.add_argument("--no-moviepy", action="store_true")
    ap.add_argument("--keep", help="keep the media in this folder")
    args = ap.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="export-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        print(f"making {N} clips of {D:g} s at 1280x720 {FPS} fps ...", file=sys.stderr)
        clips, music = make_media(folder)
        base = ExportSettings(quality="medium", transition=TransitionSpec(kind="fade", duration=T),
                              music_path=f"references/{music.name}", music_volume=0.6, music_fade_in=1.0, music_fade_out=2.0)
        out_len = N * D - (N - 1) * T
        ours, hand = [], []
        for run in range(args.runs):
            store = project_with_clips(folder / f"proj{run}", clips)
            store.import_asset(music, "references")  # project files name only files inside the project
            ours.append(timed(lambda: export_project(store, base)))
            hand.append(timed(lambda: subprocess.run(hand_written(clips, music, folder / "hand.mp4"), check=True)))
            print(f"run {run + 1}: ours {ours[-1]:.2f} s, hand-written {hand[-1]:.2f} s", file=sys.stderr)
        frames = count_frames(store.folder / "exports" / f"{store.project.name}.mp4")
        mp = None
        if not args.no_moviepy:
            print("MoviePy ...", file=sys.stderr)
            mp = timed(lambda: moviepy_export(clips, music, folder / "moviepy.mp4"))
        # re-exports, each repeated (min reported): every run changes something new, so nothing is a pure hit
        trans_runs, cut_runs = [], []
        scene = store.project.scenes[4].id
        kinds = ["wipe", "slideleft", "circleopen", "pixelize", "radial", "dissolve"]
        cuts_store = project_with_clips(folder / "cuts", clips)
        cuts = export_project(cuts_store, ExportSettings(transition=TransitionSpec(kind="none")))
        for run in range(args.runs):
            trans_runs.append(timed(lambda: export_project(store, base.model_copy(update={
                "boundary_transitions": {scene: TransitionSpec(kind=kinds[run % len(kinds)], duration=T)}}))))
            cut_runs.append(timed(lambda: export_project(cuts_store, ExportSettings(
                transition=TransitionSpec(kind="none")))))
            print(f"re-export run {run + 1}: one transition {trans_runs[-1]:.2f} s, hard cuts {cut_runs[-1]:.2f} s",
                  file=sys.stderr)
        # a music-only change in process and the same change through the CLI (the project's saved settings are the
        # base, the flag changes the volume), interleaved so that both see the same load; a new volume every run
        store.project.export = base
        store.save()
        envs = cli_environments()

        def cli_export(env: dict, volume: float) -> None:
            subprocess.run([sys.executable, str(ROOT / "main.py"), "project", "export", str(store.folder),
                            "--music-volume", f"{volume:.3f}", "--json"], check=True, capture_output=True, cwd=ROOT,
                           env=env)

        for k, (_, env) in enumerate(envs):
            cli_export(env, 0.25 + 0.01 * k)  # warm-up (writes the bytecode where allowed)
        music_runs, cli_runs = [], {label: [] for label, _ in envs}
        for run in range(args.reexport_runs):
            music_runs.append(timed(lambda: export_project(store, base.model_copy(update={
                "music_volume": 0.3 + 0.01 * run}))))
            for k, (label, env) in enumerate(envs):
                cli_runs[label].append(timed(lambda: cli_export(env, 0.5 + 0.01 * run + 0.2 * k)))
            print(f"music-only run {run + 1}: in process {music_runs[-1]:.2f} s, "
                  + ", ".join(f"CLI ({label}) {v[-1]:.2f} s" for label, v in cli_runs.items()), file=sys.stderr)
        cli_rows = [(label, min(v)) for label, v in cli_runs.items()]
        music_only, one_t, cut_s = min(music_runs), min(trans_runs), min(cut_runs)
        full, hw = min(ours), min(hand)
        print(f"\nspec: {N} clips x {D:g} s 720p{FPS}, {T:g} s fades, music; output {out_len:g} s, {frames} frames "
              f"(expected {round(out_len * FPS)})")
        print(f"ffmpeg: {ffmpeg_exe()}; load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
              f"PYTHONDONTWRITEBYTECODE={'set' if os.environ.get('PYTHONDONTWRITEBYTECODE') else 'unset'}")
        rows = [("our exporter, full (min of %d)" % args.runs, full, ""),
                ("hand-written single command (min)", hw, f"ours/hand = {full / hw:.2f}x (target <= 1.10)"),
                ("MoviePy", mp, f"MoviePy/ours = {mp / full:.1f}x (target >= 5)" if mp else "skipped"),
                ("re-export, music changed (min)", music_only, f"full/this = {full / music_only:.1f}x (target >= 10)"),
                *[(f"same, CLI, {label} (min)", secs,
                   f"full/this = {full / secs:.1f}x (target >= 10); CLI overhead {secs - music_only:+.2f} s")
                  for label, secs in cli_rows],
                ("re-export, one transition changed (min)", one_t, f"full/this = {full / one_t:.1f}x (target >= 5)"),
                (f"hard cuts, compatible clips ({cuts.mode}, min)", cut_s,
                 f"{N * D / cut_s:.0f}x real time (target >= 100)")]
        for name, secs, note in rows:
            print(f"{name:<46} {'-' if secs is None else f'{secs:7.2f} s'}   {note}")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
