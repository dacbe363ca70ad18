"""The job journal: where a paid job's take goes when project.json cannot be written (a full disk, a read-only
folder) so its job id is never only in memory. One JSON-lines file per project in the config folder; the next
render of the project applies it and removes it."""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Iterable

from core.errors import UnavailableError
from core.paths import config_dir
from core.video.project import LedgerEntry, Take
from core.video.project_io import ProjectStore

log = logging.getLogger(__name__)


def journal_path(project_folder: Path) -> Path:
    key = hashlib.sha256(str(Path(project_folder).resolve()).encode()).hexdigest()[:16]
    return config_dir() / "journal" / f"{key}.jsonl"


def record(project_folder: Path, scene_id: str, take: Take, ledger: Iterable[LedgerEntry] = ()) -> Path:
    """Append the take (with its job id) and its ledger entries to the journal, flushed to disk. Raises OSError when
    even that fails."""
    path = journal_path(project_folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"project": str(Path(project_folder).resolve()), "scene_id": scene_id,
                       "take": take.model_dump(mode="json"),
                       "ledger": [e.model_dump(mode="json") for e in ledger]})
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return path


def apply(store: ProjectStore) -> int:
    """Merge journalled takes and their charges into the project (the newest state of each take wins), save, remove
    the journal. Returns how many takes it restored. UnavailableError when project.json still cannot be written
    (the journal stays)."""
    path = journal_path(store.folder)
    if not path.is_file():
        return 0
    latest: dict[tuple[str, str], Take] = {}
    charges: dict[str, LedgerEntry] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
            take = Take.model_validate(item["take"])
            entries = [LedgerEntry.model_validate(e) for e in item.get("ledger") or []]
        except (ValueError, KeyError, TypeError) as exc:  # a line cut short by the crash that made it
            log.warning("skipping a damaged journal line in %s: %s", path, exc)
            continue
        latest[(item["scene_id"], take.id)] = take
        charges.update((e.take_id, e) for e in entries)
    restored = 0
    for (scene_id, take_id), take in latest.items():
        try:
            scene = store.project.scene(scene_id)
        except KeyError:
            continue
        for i, existing in enumerate(scene.takes):
            if existing.id == take_id:
                scene.takes[i] = take
                break
        else:
            scene.takes.append(take)
        restored += 1
    charged = {e.take_id for e in store.project.ledger}
    store.project.ledger += [e for tid, e in charges.items() if tid not in charged]
    try:
        store.save()
    except OSError as exc:
        raise UnavailableError(f"project.json cannot be written ({exc.strerror or exc}); the job ids of "
                               f"{restored} paid render(s) stay in {path} until it can") from None
    path.unlink()
    return restored
