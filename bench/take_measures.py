"""How long the objective measures of a take (core.video.take_measures.measure_clip) take, against FFmpeg's plain
decode of the same clip.

Clips: 8 s of testsrc2 at 720p24 and 1080p24 (H.264 veryfast, crf 21, as a service's clip). Each round times, one
after the other so load from other processes hits all alike:
  baseline   ffmpeg -i clip -an -f null -        (the plain video decode)
  measures   measure_clip(clip)                  (decode + scale to 360 lines + Sobel, frame difference, luma)
and prints the median wall time, the clip's length / that time (x real time) and the ratio to the baseline.

    python bench/take_measures.py [--runs 5] [--seconds 8]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.video.media import ffmpeg_exe  # noqa: E402
from core.video.take_measures import measure_clip  # noqa: E402


def make_clip(path: Path, size: str, seconds: float) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size={size}:rate=24:duration={seconds}", "-c:v", "libx264", "-preset", "veryfast",
                    "-crf", "21", "-pix_fmt", "yuv420p", str(path)], check=True, timeout=600)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    ffmpeg = ffmpeg_exe()
    with tempfile.TemporaryDirectory() as tmp:
        for size in ("1280x720", "1920x1080"):
            clip = Path(tmp) / f"clip_{size}.mp4"
            make_clip(clip, size, args.seconds)
            base, meas = [], []
            for _ in range(args.runs):
                base.append(timed(lambda: subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-i",
                                                          str(clip), "-an", "-f", "null", "-"], check=True)))
                meas.append(timed(lambda: measure_clip(clip, ffmpeg=ffmpeg)))
            b, m = statistics.median(base), statistics.median(meas)
            print(f"{size} {args.seconds:g} s: baseline decode {b:.2f} s ({args.seconds / b:.1f}x real time), "
                  f"measures {m:.2f} s ({args.seconds / m:.1f}x real time), ratio {m / b:.2f}x the baseline")


if __name__ == "__main__":
    main()
