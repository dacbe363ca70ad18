"""The last step before a take is done: the clip a provider wrote to its staging path is checked in full, then
moved to the take's clip path. A clip that fails its check never takes the clip path."""
from __future__ import annotations

import os
from pathlib import Path

from core.atomic import give_file_mode
from core.errors import UnavailableError
from core.render.contract import RenderPlan, RenderResult


def verify_result(result: RenderResult, plan: RenderPlan, final: Path) -> None:
    from core.video.verify import verify_clip  # FFmpeg decode check

    staged = Path(result.clip_path)
    try:
        report = verify_clip(staged, expected_duration=plan.expected_seconds,
                             min_duration=plan.render_seconds if plan.expected_seconds is None else None,
                             need_audio=bool(plan.sent.get("include_audio")))
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
            give_file_mode(final)  # a provider's staging file is made 0600 (mkstemp); the take's clip is not private
        except OSError as exc:
            raise UnavailableError(f"the checked clip cannot be moved to {final} ({exc.strerror or exc})") from None
    finally:
        if staged.exists() and staged != final:
            staged.unlink()
    result.clip_path = final
    result.duration = report.duration
