"""Export settings (saved in the project). The FFmpeg command builder is added by the export work."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ExportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    format: str = "mp4"
    video_codec: str = "h264"
