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


# v1 kept LTX-only settings beside the universal ones and wrote the app's fixed defaults out in full
_V1_OPTIONS = ("lora_path", "lora_scale", "guidance_scale", "num_inference_steps", "webhook_url", "extend_direction",
               "width", "height", "frames", "device", "model_path", "workflow")
_V1_OPTION_DEFAULTS = {"lora_scale": 1.0, "extend_direction": "forward"}
_V1_APP_DEFAULTS = {"resolution": "720p", "aspect_ratio": "16:9", "fps": 24, "duration": 5.0, "include_audio": True,
                    "camera_motion": "none", "camera_speed": 1.0}


def _v1_settings(old: dict | None, *, drop_app_defaults: bool) -> dict:
    """A v1 RenderSettings / RenderOverrides dict in the v2 shape: universal fields + options."""
    out: dict = {}
    options: dict = {}
    for key, value in (old or {}).items():
        if value is None:
            continue
        if key in _V1_OPTIONS:
            if _V1_OPTION_DEFAULTS.get(key, object()) != value:
                options[key] = value
        elif drop_app_defaults and _V1_APP_DEFAULTS.get(key, object()) == value:
            continue  # the old fixed default, not a choice: the model's own default applies now
        else:
            out[key] = value
    if options:
        out["options"] = options
    return out


def _v1_to_v2(doc: dict) -> dict:
    """v2: settings in two parts (universal + provider options), one shape at project and scene level; unset
    values mean the model's default. Takes keep their v1 settings and hash (hash_version 1), which the render
    queue compares in the v1 way, so a migrated project renders nothing again."""
    doc["render"] = _v1_settings(doc.get("render"), drop_app_defaults=True)
    for scene in doc.get("scenes", []) or []:
        if not isinstance(scene, dict):
            continue
        render = _v1_settings(scene.pop("overrides", None), drop_app_defaults=False)
        for key in ("camera_motion", "camera_speed", "audio_prompt"):
            if scene.get(key) is not None:
                render[key] = scene[key]
            scene.pop(key, None)
        if render:
            scene["render"] = render
        for take in scene.get("takes", []) or []:
            if isinstance(take, dict):
                take["hash_version"] = 1
    return doc


MIGRATIONS: dict[int, Callable[[dict], dict]] = {0: _v0_to_v1, 1: _v1_to_v2}


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
