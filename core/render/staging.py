"""The staging folder (clips/.incoming) where providers write clips before their check: what killed or ended
renders left there is removed when the next render starts. The project-wide cleaner (core/video/leftovers.py) looks
at the top of each asset folder only."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from core.child_process import pid_alive
from core.render.planner import resumable_take
from core.render.requests import STAGING_DIR, staging_rel_path
from core.video.leftovers import tagged_owner
from core.video.project_io import ProjectStore

log = logging.getLogger(__name__)


def clean_staging(store: ProjectStore) -> int:
    """Remove partial downloads whose process is gone, and what a provider staged for takes that will never be
    fetched again (done, failed, cancelled): the clip and its side files (e.g. Veo's chain record). Files of takes
    whose job is still followed, and of takes this project does not know, stay. Returns how many files went."""
    folder = store.folder / STAGING_DIR
    if not folder.is_dir() or not folder.resolve().is_relative_to(store.folder):
        return 0
    ended: set[str] = set()  # staged clip names (without .mp4) of takes that will never be fetched again
    for scene in store.project.scenes:
        active = resumable_take(scene)
        for take in scene.takes:
            if take is not active and take.status not in ("queued", "submitted", "running"):
                ended.add(Path(staging_rel_path(scene, take.id)).stem)
    removed = 0
    for entry in os.scandir(folder):
        if not entry.is_file(follow_symlinks=False):
            continue
        owner = tagged_owner(entry.name)
        if owner is not None:
            stale = owner != os.getpid() and not pid_alive(owner)
        else:
            stale = _stem(entry.name) in ended
        if stale:
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError as exc:  # tried again next time
                log.info("removing %s: %s", entry.path, exc)
    return removed


def _stem(name: str) -> str:
    """`<scene>_<take>` of a staged file: the clip `S_T.mp4`, or a side file `.S_T.mp4.<what>`."""
    return name.lstrip(".").split(".", 1)[0]
