"""Veo on the Gemini API (an AI Studio key): google-genai 2.x only, since 3.x offers generate_videos on Vertex AI
alone (Docs/veo.md). Results are files of the Gemini files API: an extension takes the previous result by its uri,
and the clip is downloaded through files.download, which reads the file id from the https uri and fetches it from
the configured base URL (settings.gemini_url / IMAGEAI_GEMINI_URL)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from core.errors import InvalidRequestError, TransientError
from core.secrets import get_key
from providers.veo import errors
from providers.veo.backend import VeoBackend, genai_version


class GeminiBackend(VeoBackend):
    deployment = "gemini"
    url_setting = "gemini_url"

    def unavailable_reason(self) -> Optional[str]:
        reason = super().unavailable_reason()
        if reason:
            return reason
        version = genai_version() or ""
        if version.split(".")[0].isdigit() and int(version.split(".")[0]) >= 3:
            return (f"google-genai {version} offers Veo on Vertex AI only; for the Gemini API install 2.34: "
                    "pip install 'google-genai>=2.34,<3'")
        if not get_key("google"):
            return "the Gemini API needs an API key: set GEMINI_API_KEY or GOOGLE_API_KEY, or save a key for 'google'"
        return None

    def client_arguments(self) -> dict:
        # vertexai=False explicitly: GOOGLE_GENAI_USE_VERTEXAI in the environment must not switch the service
        return {"api_key": get_key("google"), "vertexai": False}

    def video_input(self, types: Any, video: Any) -> Any:
        # the Gemini API extends only its own results, named by their files-API uri
        return types.Video(uri=video.uri)

    def user_video(self, types: Any, path: Path) -> Any:
        raise InvalidRequestError("the Gemini API extends only clips Veo made there; extend your own clip on Vertex "
                                  "AI", field="extend_video", allowed=["veo-3.1-generate-001", "veo-3.1-fast-generate-001"])

    async def save(self, video: Any, dest: Path) -> None:
        if not getattr(video, "uri", None):
            raise TransientError("Veo on the Gemini API: the result names no file", not_created=False)
        try:
            await self.client().aio.files.download(file=video, destination=str(dest))
        except Exception as exc:
            raise errors.from_exception(self.deployment, exc) from exc
