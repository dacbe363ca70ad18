"""Ordered project-file migrations: MIGRATIONS[n] turns a schema-n document into schema n+1 (plain dicts)."""
from __future__ import annotations

from typing import Callable

from core.errors import ProjectFileError


def _v0_to_v1(doc: dict) -> dict:
    """v0: the first prototype's flat format (no schema_version; duration_sec, image_path, video_path per scene,
    provider/model/resolution at the top)."""
    render = {k: doc.pop(k) for k in ("provider", "model", "resolution", "aspect_ratio", "fps") if k in doc}
    if "deployment" in doc:
        render["deployment"] = doc.pop("deployment")
    scenes = []
    for i, old in enumerate(doc.pop("scenes", [])):
        scene = {
            "id": str(old.get("id") or f"scene{i + 1:03d}"),
            "title": old.get("title", ""),
            "prompt": old.get("prompt", ""),
            "duration": old.get("duration_sec", old.get("duration", 5.0)),
        }
        if old.get("image_path"):
            scene["start_frame"] = old["image_path"]
        if old.get("video_path"):
            take_id = f"{scene['id']}-t1"
            scene["takes"] = [{"id": take_id, "provider": render.get("provider", "animatic"), "status": "done",
                               "clip_path": old["video_path"]}]
            scene["selected_take_id"] = take_id
        scenes.append(scene)
    return {"schema_version": 1, "name": doc.get("name", "Untitled"), "render": render, "scenes": scenes}


MIGRATIONS: dict[int, Callable[[dict], dict]] = {0: _v0_to_v1}


def migrate(doc: dict, current: int, file_label: str) -> dict:
    version = doc.get("schema_version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise ProjectFileError(f"{file_label}: field 'schema_version' must be a whole number >= 0, got {version!r}")
    if version > current:
        raise ProjectFileError(f"{file_label}: field 'schema_version' is {version}, written by a newer version of "
                               f"ImageAI Video (this one reads up to {current}); update the app to open it")
    while version < current:
        doc = MIGRATIONS[version](doc)
        version += 1
        doc["schema_version"] = version
    return doc
