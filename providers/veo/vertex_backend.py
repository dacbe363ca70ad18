"""Veo on Vertex AI: a project (GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_LOCATION, application-default credentials) or an
express-mode key. Operations are followed with fetchPredictOperation; the clip comes back inline (no output bucket
is set), and an extension sends the previous clip's bytes. Service address: settings.vertex_url /
IMAGEAI_VERTEX_URL."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from core.errors import BadOutputError
from core.secrets import get_key
from providers.veo.backend import VeoBackend

DEFAULT_LOCATION = "us-central1"


class VertexBackend(VeoBackend):
    deployment = "vertex"
    url_setting = "vertex_url"
    refetch_helps = False  # the clip comes inline in the operation: the same bytes every time

    @staticmethod
    def project() -> Optional[str]:
        return os.environ.get("GOOGLE_CLOUD_PROJECT") or None

    def unavailable_reason(self) -> Optional[str]:
        reason = super().unavailable_reason()
        if reason:
            return reason
        if not self.project() and not get_key("google"):
            return ("Vertex AI needs a project (set GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION, with "
                    "application-default credentials) or an express-mode key (GOOGLE_API_KEY)")
        return None

    def client_arguments(self) -> dict:
        if self.project():  # a project wins over a key: it is the standard way, an express key the shortcut
            return {"vertexai": True, "project": self.project(),
                    "location": os.environ.get("GOOGLE_CLOUD_LOCATION") or DEFAULT_LOCATION,
                    "credentials": self.credentials}
        return {"vertexai": True, "api_key": get_key("google")}

    def video_input(self, types: Any, video: Any) -> Any:
        if getattr(video, "video_bytes", None):
            return types.Video(video_bytes=video.video_bytes, mime_type="video/mp4")
        return types.Video(uri=video.uri, mime_type="video/mp4")  # a gs:// result: Vertex reads it itself

    def user_video(self, types: Any, path: Path) -> Any:
        return types.Video(video_bytes=Path(path).read_bytes(), mime_type="video/mp4")

    async def save(self, video: Any, dest: Path) -> None:
        data = getattr(video, "video_bytes", None)
        if not data:
            # fetching the same operation again returns the same uri: not worth another try
            raise BadOutputError("Veo on Vertex AI returned no inline video (a Cloud Storage result needs "
                                 f"google-cloud-storage: {getattr(video, 'uri', None)})", field="video.gcsUri")
        Path(dest).write_bytes(data)
