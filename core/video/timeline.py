"""The export timeline in whole frames: where each clip starts, how long each transition overlaps, and the segments
(clip bodies and transition windows) the segment cache renders and joins. Pure: no FFmpeg, no files."""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

from core.errors import InvalidRequestError
from core.video.export import ExportSettings, TransitionSpec
from core.video.media import MediaInfo

XFADE_NAMES = {"wipe": "wipeleft"}  # ids whose FFmpeg xfade name differs


@dataclass(frozen=True)
class Cut:
    """The join between clip k-1 and clip k: `frames` of overlap (0 = hard cut) drawn with xfade `kind`."""
    kind: str
    frames: int

    @property
    def xfade(self) -> str:
        return XFADE_NAMES.get(self.kind, self.kind)


@dataclass(frozen=True)
class Segment:
    """A run of output frames rendered as one file. body: clip `clip` alone; window: the transition into `clip`."""
    kind: str
    clip: int
    start: int      # first output frame (timeline)
    frames: int
    src_start: int  # first frame inside clip `clip` (bodies) or inside clip `clip - 1` (windows)


@dataclass
class Timeline:
    width: int
    height: int
    fps: Fraction
    clip_frames: list[int]
    cuts: list[Cut] = field(default_factory=list)  # len(clip_frames) - 1; cuts[k-1] joins clip k-1 and clip k
    #: seconds skipped at the start of each clip (an extension returned with its source footage); empty = none
    clip_starts: list[float] = field(default_factory=list)

    def clip_start(self, k: int) -> float:
        """Where the timeline's part of clip k starts inside the clip file, in seconds."""
        return self.clip_starts[k] if k < len(self.clip_starts) else 0.0

    def cut_before(self, k: int) -> Cut:
        return self.cuts[k - 1] if k > 0 else Cut("none", 0)

    def cut_after(self, k: int) -> Cut:
        return self.cuts[k] if k < len(self.cuts) else Cut("none", 0)

    @property
    def starts(self) -> list[int]:
        out, pos = [], 0
        for k, n in enumerate(self.clip_frames):
            pos -= self.cut_before(k).frames
            out.append(pos)
            pos += n
        return out

    @property
    def total_frames(self) -> int:
        return sum(self.clip_frames) - sum(c.frames for c in self.cuts)

    def seconds(self, frames: int) -> float:
        return float(Fraction(frames) / self.fps)

    @property
    def duration(self) -> float:
        return self.seconds(self.total_frames)

    @property
    def has_transitions(self) -> bool:
        return any(c.frames for c in self.cuts)

    def segments(self) -> list[Segment]:
        """Windows and bodies in output order; together they cover every output frame exactly once."""
        segs: list[Segment] = []
        starts = self.starts
        for k, n in enumerate(self.clip_frames):
            before, after = self.cut_before(k).frames, self.cut_after(k).frames
            if before:
                segs.append(Segment("window", k, starts[k], before, self.clip_frames[k - 1] - before))
            segs.append(Segment("body", k, starts[k] + before, n - before - after, before))
        return segs


def even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def target_size(resolution: str, first: MediaInfo) -> tuple[int, int]:
    """Output frame size: the first clip's (rounded to even), a short-side id keeping the first clip's shape, or
    an exact WxH."""
    w0, h0 = (first.width or 1280), (first.height or 720)
    if resolution == "source":
        return even(w0), even(h0)
    if "x" in resolution:
        w, h = (int(v) for v in resolution.split("x"))
        return even(w), even(h)
    short = int(resolution.rstrip("p"))
    if w0 >= h0:
        return even(short * w0 / h0), short
    return short, even(short * h0 / w0)


def target_fps(fps: float | None, first: MediaInfo) -> Fraction:
    value = fps or first.fps or 24.0
    return Fraction(value).limit_denominator(1001)


def plan_timeline(settings: ExportSettings, clips: Sequence[MediaInfo],
                  transitions: Sequence[TransitionSpec], starts: Sequence[float] = ()) -> Timeline:
    """Frame-exact plan. transitions[k-1] is the transition into clip k; starts[k] the second inside clip k where
    its part begins (each clip's `duration` is the length of that part). Refuses a transition that would not leave
    at least one frame of each clip on its own, naming the scenes (numbered from 1)."""
    if not clips:
        raise InvalidRequestError("the project has no clips to export", field="scenes")
    if len(transitions) != len(clips) - 1:
        raise ValueError("one transition per boundary between clips is required")
    width, height = target_size(settings.resolution, clips[0])
    fps = target_fps(settings.fps, clips[0])
    frames = [max(1, round(c.duration * fps)) for c in clips]
    cuts = [Cut("none", 0) if t.is_cut else Cut(t.kind, max(1, round(t.duration * fps))) for t in transitions]
    tl = Timeline(width, height, fps, frames, cuts, [float(s) for s in starts] if any(starts) else [])
    for k, n in enumerate(frames):
        used = tl.cut_before(k).frames + tl.cut_after(k).frames
        if used >= n:
            raise InvalidRequestError(
                f"scene {k + 1} lasts {tl.seconds(n):.2f} s, too short for its transitions "
                f"({tl.seconds(used):.2f} s in total); shorten the transitions next to scene {k + 1}",
                field="transition duration")
    return tl
