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
    """Remove partial downloads whose process is gone, and staged clips of takes that will never be fetched into
    them again (done, failed, cancelled, or unknown to the project). Returns how many files went."""
    folder = store.folder / STAGING_DIR
    if not folder.is_dir() or not folder.resolve().is_relative_to(store.folder):
        return 0
    waiting = set()  # staged names of takes whose job is still followed: a later fetch replaces them
    for scene in store.project.scenes:
        take = resumable_take(scene)
        if take is not None:
            waiting.add(Path(staging_rel_path(scene, take.id)).name)
    removed = 0
    for entry in os.scandir(folder):
        if not entry.is_file(follow_symlinks=False):
            continue
        owner = tagged_owner(entry.name)
        if entry.name.endswith(".part"):
            stale = owner is not None and owner != os.getpid() and not pid_alive(owner)
        else:
            stale = entry.name not in waiting and owner is None
        if stale:
            try:
                os.unlink(entry.path)
                removed += 1
            except OSError as exc:  # tried again next time
                log.info("removing %s: %s", entry.path, exc)
    return removed
