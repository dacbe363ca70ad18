"""The name a take is shown by ("Take 2 · fal · 6 s") instead of its clip's file name, a content hash (Qt-free)."""
from __future__ import annotations

from typing import Optional

from core.video.project import Scene, Take

SEP = " · "


def take_number(scene: Scene, take: Take) -> int:
    """1 for the scene's first take (in the order they were made), 0 for a take the scene does not hold."""
    for i, t in enumerate(scene.takes):
        if t.id == take.id:
            return i + 1
    return 0


def take_name(scene: Scene, take: Optional[Take]) -> str:
    """'Take 2 · fal · 6 s': its number in the scene, where it rendered (the deployment, else the provider) and the
    length it rendered; '' without a take."""
    if take is None:
        return ""
    parts = [f"Take {take_number(scene, take) or '?'}", take.deployment or take.provider]
    if take.rendered_seconds:
        parts.append(f"{take.rendered_seconds:g} s")
    return SEP.join(parts)


def take_details(take: Take) -> str:
    """A take's tooltip: model, cost, seed and the clip's file, one per line."""
    lines = [f"{take.provider}" + (f" / {take.model}" if take.model and take.model != take.provider else "")
             + (f" on {take.deployment}" if take.deployment else "")]
    if take.status == "done":
        lines.append(f"cost ${take.cost:.2f}")
    if take.seed is not None:
        lines.append(f"seed {take.seed}")
    if take.clip_path:
        lines.append(f"clip {take.clip_path}")
    return "\n".join(lines)
