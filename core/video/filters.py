"""Filtergraph text: escaping and small filter-string makers.

FFmpeg reads a filter argument through two parsers: the graph parser (splits on `[],;`, honours '...' quotes and
backslashes) and then the option parser (splits on `:` and `=`, the same quoting again). A value is made literal by
escaping it for the option level first (backslash before `\\`, `'`, `:`) and then quoting the result for the graph
level ('...' with an embedded quote written as '\\''). drawtext additionally needs expansion=none so `%{...}` is
drawn as typed.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path, PureWindowsPath


def escape_option(value: str) -> str:
    """Option level: the option parser removes one level of backslashes, splits on ':' and trims unescaped
    whitespace at both ends (so whitespace is escaped too)."""
    out = value.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    return "".join("\\" + c if c in " \t\n\r" else c for c in out)


def quote_graph(value: str) -> str:
    """Graph level: inside '...' every character is literal except the closing quote."""
    return "'" + value.replace("'", "'\\''") + "'"


def literal(value: str) -> str:
    """A filter option value that FFmpeg sees exactly as `value`, whatever characters it holds."""
    return quote_graph(escape_option(value))


def path_value(path: str | Path) -> str:
    """A file path as a filter option value (Windows backslashes become slashes; the drive colon is escaped)."""
    text = str(path)
    if "\\" in text and PureWindowsPath(text).drive:
        text = PureWindowsPath(text).as_posix()
    return literal(text)


def num(value: float) -> str:
    """A number for a filter argument: short, no exponent."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def rate(fps: Fraction) -> str:
    return str(fps.numerator) if fps.denominator == 1 else f"{fps.numerator}/{fps.denominator}"


def chain(label_in: str | list[str], filters: list[str], label_out: str) -> str:
    """'[in]f1,f2[out]' (several inputs allowed)."""
    ins = label_in if isinstance(label_in, list) else [label_in]
    return "".join(f"[{x}]" for x in ins) + ",".join(filters) + f"[{label_out}]"


def fit_filters(width: int, height: int, fps: Fraction, pix_fmt: str = "yuv420p") -> list[str]:
    """Letterbox/pillarbox any clip into W x H at a constant frame rate with square pixels and the AVTB timebase
    (xfade refuses inputs that differ in size, SAR or timebase)."""
    return [f"scale={width}:{height}:force_original_aspect_ratio=decrease",
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black", "setsar=1", f"fps={rate(fps)}",
            f"format={pix_fmt}"]


AUDIO_RATE = 48000
AUDIO_FORMAT = f"aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"


def music_part_filters(start: float, end: float | None, file_duration: float, loop: bool,
                       total: float) -> list[str]:
    """The music's [start, end) part (after AUDIO_FORMAT), repeated when `loop` and it is shorter than `total`
    seconds. aloop repeats the trimmed part itself; `-stream_loop` on the input would repeat the whole file."""
    out = [f"atrim=start={num(start)}" + (f":end={num(end)}" if end is not None else ""), "asetpts=PTS-STARTPTS"]
    part = (end if end is not None else file_duration) - start
    if loop and 0 < part < total:
        out.append(f"aloop=loop=-1:size={round(part * AUDIO_RATE)}")
    return out
