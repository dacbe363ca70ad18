"""How fast the full decode check (core.video.verify.verify_clip) runs, against FFmpeg's plain full decode.

Clip: 1080p25 H.264 (High, x264 veryfast at --crf, as a service's clip) + AAC, 10 s, testsrc2 + a tone.
Each run times, one after the other so load from other processes hits all alike:
  baseline   ffmpeg -i clip -f null -           (the plain full decode of video and audio)
  verify     verify_clip(clip)                  (video only: what a render without sound checks)
  verify+a   verify_clip(clip, need_audio=True) (video and audio)
and prints the median wall time, the clip's length / that time (x real time), the CPU seconds FFmpeg used (clip
seconds per CPU second: free of other processes' load), and the ratio to the baseline. Target: verify >= 20x real
time on a 1080p clip.

    python bench/decode_check.py [--runs 5] [--crf 21] [--seconds 10] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.video.media import ffmpeg_exe, probe  # noqa: E402
from core.video.verify import verify_clip  # noqa: E402


def make_clip(path: Path, seconds: float, crf: int) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=25:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "128k", "-shortest", "-movflags", "+faststart", str(path)],
                   check=True, timeout=600)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(fn) -> tuple[float, float]:
    cpu, t = _children_cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t, _children_cpu() - cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--crf", type=int, default=21, help="x264 quality of the clip (lower: more bits to decode)")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--keep", help="make the clip in this folder and keep it")
    args = ap.parse_args()

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="decode-check-"))
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / f"clip_1080p25_{args.seconds:g}s_crf{args.crf}.mp4"
    if not clip.exists():
        make_clip(clip, args.seconds, args.crf)
    info = probe(clip)
    exe = ffmpeg_exe()

    def baseline():
        subprocess.run([exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(clip), "-f", "null", "-"],
                       check=True, capture_output=True)

    cases = {"baseline (ffmpeg -i clip -f null -)": baseline,
             "verify_clip": lambda: verify_clip(clip, expected_duration=args.seconds),
             "verify_clip need_audio": lambda: verify_clip(clip, expected_duration=args.seconds, need_audio=True)}
    walls: dict[str, list[float]] = {k: [] for k in cases}
    cpus: dict[str, list[float]] = {k: [] for k in cases}
    for name, fn in cases.items():  # warm the page cache and the binary once
        fn()
    for _ in range(args.runs):
        for name, fn in cases.items():
            wall, cpu = timed(fn)
            walls[name].append(wall)
            cpus[name].append(cpu)

    report = verify_clip(clip, need_audio=True)
    print(f"clip: {clip.name}  {info.width}x{info.height} {info.fps:g} fps  {info.duration:.2f} s  "
          f"{info.bitrate_kbps} kb/s  ({report.frames} frames decode)  cores: {os.cpu_count()}  "
          f"load avg: {os.getloadavg()[0]:.2f}  runs: {args.runs}")
    base = statistics.median(walls[next(iter(cases))])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    print(f"{'':38} {'median s':>9} {'x real time':>12} {'cpu s':>7} {'x rt/cpu s':>11} {'vs baseline':>12}")
    for name in cases:
        wall = statistics.median(walls[name])
        cpu = statistics.median(cpus[name])
        print(f"{name:38} {wall:9.3f} {info.duration / wall:11.1f}x {cpu:7.2f} {info.duration / cpu:10.1f}x "
              f"{base / wall:11.2f}x")
    verify = statistics.median(walls["verify_clip"])
    bound = info.duration / (statistics.median(cpus["verify_clip"]) / cores)
    target = 20.0
    print(f"target: verify_clip >= {target:g}x real time: {'met' if info.duration / verify >= target else 'NOT met'} "
          f"(measured {info.duration / verify:.1f}x; CPU-bound on {cores} idle cores at most {bound:.1f}x)")
    # on a shared machine the wall times carry the other processes' load; CPU seconds do not
    if not args.keep:
        clip.unlink()
        os.rmdir(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
