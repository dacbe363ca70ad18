"""Export settings (saved in the project as `project.export`) and the ids/labels the GUI and CLI offer.

Choices are stored as ids ("mp4", "h264"); the label dicts are for display only. Each field is checked on its own
when set, so a project always loads; whether the choices fit together (format/codec pairs, bitrate with ProRes) is
checked by `ExportSettings.resolved()` when an export starts, with a message that names the allowed values.
"""
from __future__ import annotations

import re
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.video.relpath import check_relative_path

from core.errors import InvalidRequestError, invalid_requests

FORMATS = {"mp4": "MP4", "mov": "MOV (QuickTime)", "avi": "AVI", "webm": "WebM"}
VIDEO_CODECS = {"auto": "Auto", "h264": "H.264", "h265": "H.265 / HEVC", "vp9": "VP9", "prores": "ProRes"}
# The first codec of each list is what "auto" picks. Pairs FFmpeg 9 cannot mux are left out (research §3.6).
CODECS_FOR_FORMAT = {"mp4": ["h264", "h265", "vp9"], "mov": ["h264", "h265", "prores"], "avi": ["h264"],
                     "webm": ["vp9"]}
AUDIO_CODECS = {"auto": "Auto", "aac": "AAC", "mp3": "MP3", "opus": "Opus"}
AUDIO_CODECS_FOR_FORMAT = {"mp4": ["aac", "mp3", "opus"], "mov": ["aac", "mp3"], "avi": ["mp3", "aac"],
                           "webm": ["opus"]}
QUALITIES = {"high": "High", "medium": "Medium", "low": "Low (fast draft)", "custom": "Custom bitrate"}
EXPORT_RESOLUTIONS = {"source": "Same as the first clip", "480p": "480p", "720p": "720p", "1080p": "1080p",
                      "1440p": "1440p", "2160p": "4K (2160p)"}
TRANSITIONS = {"none": "None (hard cut)", "fade": "Fade", "dissolve": "Dissolve", "wipe": "Wipe (left)",
               "wiperight": "Wipe right", "wipeup": "Wipe up", "wipedown": "Wipe down",
               "fadeblack": "Dip to black", "fadewhite": "Dip to white", "slideleft": "Slide left",
               "slideright": "Slide right", "circleopen": "Circle open", "circleclose": "Circle close",
               "pixelize": "Pixelize", "radial": "Radial", "smoothleft": "Smooth left", "distance": "Distance"}
CLIP_AUDIO_MODES = {"keep": "Keep and mix with the music", "duck": "Duck the music under the clips' audio",
                    "mute": "Mute the clips' audio"}
WATERMARK_POSITIONS = {"top-left": "Top left", "top-right": "Top right", "bottom-left": "Bottom left",
                       "bottom-right": "Bottom right", "center": "Centre"}
TEXT_POSITIONS = {"top": "Top", "center": "Centre", "bottom": "Bottom", "top-left": "Top left",
                  "top-right": "Top right", "bottom-left": "Bottom left", "bottom-right": "Bottom right"}
MAX_TRANSITION_S = 10.0
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_COLOR = re.compile(r"^(#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?|[a-zA-Z]{3,20})$")


def _check_id(value: str, table: dict, field: str) -> str:
    v = str(value).strip().lower()
    if v not in table:
        raise ValueError(f"{field}: unknown value {value!r} (allowed: {', '.join(table)})")
    return v


def normalize_export_resolution(value: str) -> str:
    """'source', a resolution id ('1080p', '4k', '720') or an exact 'WxH'."""
    v = str(value).strip().lower()
    v = {"4k": "2160p", "uhd": "2160p", "fhd": "1080p", "hd": "720p", "2k": "1440p", "": "source"}.get(v, v)
    if v.isdigit():
        v += "p"
    if v in EXPORT_RESOLUTIONS:
        return v
    if re.fullmatch(r"\d{3,4}p", v) and 120 <= int(v[:-1]) <= 4320 and int(v[:-1]) % 2 == 0:
        return v  # any other even short side, e.g. 360p for drafts
    m = _SIZE.match(v)
    if m and all(16 <= int(x) <= 8192 for x in m.groups()):
        return v
    raise ValueError(f"resolution: unknown value {value!r} (allowed: {', '.join(EXPORT_RESOLUTIONS)}, 4K, "
                     f"another short side like 360p, or WIDTHxHEIGHT like 1280x720)")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TransitionSpec(_Model):
    kind: str = "none"
    duration: float = Field(0.5, ge=0.0, le=MAX_TRANSITION_S)

    _kind = field_validator("kind")(classmethod(lambda cls, v: _check_id(v, TRANSITIONS, "transition")))

    @property
    def is_cut(self) -> bool:
        return self.kind == "none" or self.duration <= 0


class TextOverlay(_Model):
    """A timed caption. `text` is drawn literally (no %{...} expansion); start/end are timeline seconds."""

    text: str = Field(..., min_length=1, max_length=2000)
    start: float = Field(0.0, ge=0)
    end: float = Field(3.0, gt=0)
    position: str = "bottom"
    size: int = Field(48, ge=6, le=400)
    color: str = "white"
    box: bool = True

    _pos = field_validator("position")(classmethod(lambda cls, v: _check_id(v, TEXT_POSITIONS, "text position")))

    @field_validator("color")
    @classmethod
    def _color(cls, v: str) -> str:
        if not _COLOR.match(v):
            raise ValueError(f"text color: {v!r} is not a colour name or #RRGGBB[AA]")
        return v

    @field_validator("end")
    @classmethod
    def _end(cls, v: float, info) -> float:
        start = info.data.get("start", 0.0)
        if v <= start:
            raise ValueError(f"text end ({v}) must be after its start ({start})")
        return v


class ExportSettings(_Model):
    format: str = "mp4"
    video_codec: str = "auto"
    quality: str = "medium"
    bitrate_kbps: Optional[int] = Field(None, ge=100, le=800_000)
    resolution: str = "source"
    fps: Optional[float] = Field(None, gt=0, le=240)
    audio_codec: str = "auto"
    music_path: Optional[str] = None          # relative to the project folder (files are copied in)
    music_volume: float = Field(0.6, ge=0.0, le=4.0)   # linear gain: 1.0 leaves the file's level unchanged
    music_fade_in: float = Field(0.0, ge=0.0, le=60.0)
    music_fade_out: float = Field(0.0, ge=0.0, le=60.0)
    music_loop: bool = True                   # repeat music shorter than the video
    # the part of the music file the export plays (seconds into the file); None: to the file's end. A loop
    # repeats this part, not the whole file
    music_start: float = Field(0.0, ge=0.0)
    music_end: Optional[float] = Field(None, gt=0.0)
    clip_audio: str = "keep"
    transition: TransitionSpec = Field(default_factory=TransitionSpec)
    # per scene boundary: key = id of the scene AFTER the boundary; wins over `transition`
    boundary_transitions: dict[str, TransitionSpec] = Field(default_factory=dict)
    lut_path: Optional[str] = None
    watermark_path: Optional[str] = None
    watermark_position: str = "bottom-right"
    watermark_scale: float = Field(0.15, gt=0.0, le=1.0)   # watermark width as a fraction of the video width
    watermark_opacity: float = Field(0.8, ge=0.0, le=1.0)
    texts: list[TextOverlay] = Field(default_factory=list)
    output_path: Optional[str] = None         # relative; None: exports/<project name>.<format>

    _format = field_validator("format")(classmethod(lambda cls, v: _check_id(v, FORMATS, "format")))
    _vcodec = field_validator("video_codec")(classmethod(lambda cls, v: _check_id(v, VIDEO_CODECS, "video codec")))
    _acodec = field_validator("audio_codec")(classmethod(lambda cls, v: _check_id(v, AUDIO_CODECS, "audio codec")))
    _quality = field_validator("quality")(classmethod(lambda cls, v: _check_id(v, QUALITIES, "quality")))
    _clip_audio = field_validator("clip_audio")(
        classmethod(lambda cls, v: _check_id(v, CLIP_AUDIO_MODES, "clip audio")))
    _wm_pos = field_validator("watermark_position")(
        classmethod(lambda cls, v: _check_id(v, WATERMARK_POSITIONS, "watermark position")))
    _res = field_validator("resolution")(classmethod(lambda cls, v: normalize_export_resolution(v)))
    # a project file never names a file outside its folder: inputs are copied in, and an export elsewhere is a
    # one-off destination of that run (exporter.export_project(output=...)), so a shared project cannot overwrite
    # files of whoever opens it
    _paths = field_validator("music_path", "lut_path", "watermark_path", "output_path")(
        classmethod(lambda cls, v: check_relative_path(v)))

    def transition_before(self, scene_id: str) -> TransitionSpec:
        """The transition into the scene `scene_id` from the scene before it."""
        return self.boundary_transitions.get(scene_id, self.transition)

    def resolved(self) -> tuple[str, str, str]:
        """(format, video codec, audio codec) with "auto" filled in; InvalidRequestError for a pair the
        container cannot hold, naming the valid choices."""
        fmt = self.format
        vcodec = CODECS_FOR_FORMAT[fmt][0] if self.video_codec == "auto" else self.video_codec
        if vcodec not in CODECS_FOR_FORMAT[fmt]:
            raise InvalidRequestError(f"{VIDEO_CODECS[vcodec]} cannot be written to {FORMATS[fmt]}",
                                      field="video codec", allowed=CODECS_FOR_FORMAT[fmt] + ["auto"])
        acodec = AUDIO_CODECS_FOR_FORMAT[fmt][0] if self.audio_codec == "auto" else self.audio_codec
        if acodec not in AUDIO_CODECS_FOR_FORMAT[fmt]:
            raise InvalidRequestError(f"{AUDIO_CODECS[acodec]} audio cannot be written to {FORMATS[fmt]}",
                                      field="audio codec", allowed=AUDIO_CODECS_FOR_FORMAT[fmt] + ["auto"])
        music = music_problems(self)
        if music:
            raise invalid_requests(music)
        if self.quality == "custom" and not self.bitrate_kbps:
            raise InvalidRequestError("quality 'custom' needs a bitrate (e.g. --bitrate 8M)", field="bitrate")
        if self.quality == "custom" and vcodec == "prores":
            raise InvalidRequestError("ProRes has fixed-rate profiles; choose a quality instead of a bitrate",
                                      field="quality", allowed=["high", "medium", "low"])
        return fmt, vcodec, acodec


def music_problems(settings: ExportSettings, file_duration: Optional[float] = None) -> list[InvalidRequestError]:
    """Every problem of the music start/end, each naming what is allowed; `file_duration` when the file is known."""
    start, end = settings.music_start, settings.music_end
    out = []
    if end is not None and end <= start:
        out.append(InvalidRequestError(f"the music end ({end:g} s) must be after its start ({start:g} s)",
                                       field="music end", allowed=[f"more than {start:g} s", "none"]))
    if file_duration:
        if start >= file_duration:
            out.append(InvalidRequestError(f"{start:g} s is not inside the music file ({file_duration:.2f} s long)",
                                           field="music start", allowed=[f"0 to {file_duration:.2f} s"]))
        if end is not None and end > file_duration + 0.05:
            out.append(InvalidRequestError(f"{end:g} s is past the end of the music file ({file_duration:.2f} s)",
                                           field="music end", allowed=[f"up to {file_duration:.2f} s", "none"]))
    return out


def parse_bitrate(text: str) -> int:
    """'8M', '8000k', '8000' (kb/s) -> kb/s."""
    t = str(text).strip().lower().removesuffix("bps").removesuffix("b/s")
    try:
        if t.endswith("m"):
            return int(float(t[:-1]) * 1000)
        if t.endswith("k"):
            return int(float(t[:-1]))
        return int(float(t))
    except ValueError:
        raise InvalidRequestError(f"{text!r} is not a bitrate like 8M or 4500k", field="bitrate") from None
