"""The job journal: where a paid job's take goes when project.json cannot be written (a full disk, a read-only
folder) so its job id is never only in memory. A folder per project in the config folder, one small JSON file per
take (replaced atomically: the newest state wins, and nothing grows while the disk is short of room); the next
render of the project applies it and removes it.

Image takes use the same folder: an image that arrived (paid) is recorded before project.json's save, with its
ledger entry and whether it became its scene's frame; an image paid for but not written carries only its charge.
`apply` restores both kinds, each take and each charge once however often it runs."""
from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Iterable, Optional

from core.atomic import atomic_write_bytes
from core.errors import UnavailableError
from core.paths import config_dir
from core.video.project import ImageTake, LedgerEntry, Scene, Take, VideoProject
from core.video.project_io import ProjectStore

log = logging.getLogger(__name__)


def journal_path(project_folder: Path) -> Path:
    """The project's journal folder (it exists only while it holds takes)."""
    key = hashlib.sha256(str(Path(project_folder).resolve()).encode()).hexdigest()[:16]
    return config_dir() / "journal" / key


def _entry_name(take_id: str) -> str:
    return f"{take_id}.{time.time_ns()}.json"  # several states of one take: the newest wins


def _entry(project_folder: Path, scene_id: str, take: Take, ledger: Iterable[LedgerEntry], selected: bool) -> bytes:
    return json.dumps({"project": str(Path(project_folder).resolve()), "scene_id": scene_id,
                       "take": take.model_dump(mode="json"), "selected": selected,
                       "ledger": [e.model_dump(mode="json") for e in ledger]}).encode("utf-8")


def record(project_folder: Path, scene_id: str, take: Take, ledger: Iterable[LedgerEntry] = (), *,
           selected: bool = False) -> Path:
    """Write the take (with its job id), its ledger entries and whether it is its scene's selected take to the
    journal, on disk when this returns; the entry's path. Raises OSError when even that fails."""
    folder = journal_path(project_folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _entry_name(take.id)
    atomic_write_bytes(path, _entry(project_folder, scene_id, take, ledger, selected))
    return path


def record_image(project_folder: Path, scene_id: str, take: Optional[ImageTake], charge: LedgerEntry, *,
                 chosen: bool = False) -> Path:
    """An image that arrived (paid): its take, its ledger entry and whether it became its scene's start or end
    frame, on disk (fsync) when this returns; before project.json's save, so neither a failing save nor a killed
    process loses it. `take` None: the image was paid for but could not be written, only its charge is kept."""
    folder = journal_path(project_folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _entry_name(charge.take_id)
    atomic_write_bytes(path, json.dumps({
        "project": str(Path(project_folder).resolve()), "scene_id": scene_id, "chosen": chosen,
        "image_take": take.model_dump(mode="json") if take is not None else None,
        "ledger": [charge.model_dump(mode="json")]}).encode("utf-8"))
    return path


def fill_empty_frame(scene: Scene, take: ImageTake) -> bool:
    """A scene without this take's frame (start or end) uses it; whether it did. A frame already chosen stays."""
    frame = f"{take.role}_frame"
    if getattr(scene, frame) is not None:
        return False
    setattr(scene, frame, take.path)
    setattr(scene, f"{take.role}_image_take_id", take.id)
    return True


def note(project_folder: Path, scene_id: str, take: Take) -> Path:
    """The take (its job id just known) written to the journal at once, before the slower save of project.json:
    a plain write, no fsync, so the time in which a killed process takes a fresh job id with it is a fraction of
    a millisecond (the page cache outlives a killed process; project.json's own save then makes it durable)."""
    folder = journal_path(project_folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _entry_name(take.id)
    path.write_bytes(_entry(project_folder, scene_id, take, (), False))
    return path


def forget(paths: Iterable[Path]) -> None:
    """Drop these entries: project.json now holds (at least) the state they recorded. Only these: an entry a
    later failing save wrote meanwhile stays."""
    for path in paths:
        Path(path).unlink(missing_ok=True)


def _order(path: Path) -> int:
    parts = path.name.split(".")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0


def _entries(folder: Path) -> list[Path]:
    legacy = folder.with_name(folder.name + ".jsonl")  # one JSON-lines file per project (earlier versions)
    found = [legacy] if legacy.is_file() else []
    if folder.is_dir():
        found += sorted(folder.glob("*.json"), key=_order)
    return found


def apply(store: ProjectStore) -> int:
    """Merge journalled takes and their charges into the project (the newest state of each take wins), save, remove
    the journal. Returns how many takes it restored. UnavailableError when project.json still cannot be written
    (the journal stays)."""
    files = _entries(journal_path(store.folder))
    if not files:
        return 0
    latest: dict[tuple[str, str], Take] = {}
    selected: dict[str, str] = {}  # scene id -> take id
    images: dict[tuple[str, str], tuple[ImageTake, bool]] = {}
    charges: dict[str, LedgerEntry] = {}
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
                entries = [LedgerEntry.model_validate(e) for e in item.get("ledger") or []]
                if "image_take" in item:
                    image = item["image_take"] and ImageTake.model_validate(item["image_take"])
                    if image:
                        images[(item["scene_id"], image.id)] = (image, bool(item.get("chosen")))
                else:
                    take = Take.model_validate(item["take"])
                    latest[(item["scene_id"], take.id)] = take
                    if item.get("selected"):
                        selected[item["scene_id"]] = take.id
            except (ValueError, KeyError, TypeError) as exc:  # a line cut short by the crash that made it
                log.warning("skipping a damaged journal entry in %s: %s", path, exc)
                continue
            charges.update((e.take_id, e) for e in entries)
    restored = _restore_images(store, images)
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
        if selected.get(scene_id) == take_id:
            scene.selected_take_id = take_id
        restored += 1
    charged = {e.take_id for e in store.project.ledger}
    store.project.ledger += [e for tid, e in charges.items() if tid not in charged]
    try:
        store.save()
    except OSError as exc:
        raise UnavailableError(f"project.json cannot be written ({exc.strerror or exc}); "
                               f"{restored} paid take(s) (renders' job ids, images) stay in "
                               f"{journal_path(store.folder)} until it can") from None
    for path in files:
        path.unlink(missing_ok=True)
    try:
        journal_path(store.folder).rmdir()
    except OSError:
        pass  # another render journalled meanwhile, or there was only the legacy file
    return restored


def _restore_images(store: ProjectStore, images: dict[tuple[str, str], tuple[ImageTake, bool]]) -> int:
    """Journalled image takes into their scenes (once: a take the project holds already is left as it is); one whose
    file is gone keeps only its charge. How many the project holds now."""
    project: VideoProject = store.project
    restored = 0
    for (scene_id, take_id), (take, chosen) in images.items():
        try:
            scene = project.scene(scene_id)
        except KeyError:
            continue  # the scene was removed meanwhile: its charge still counts
        if all(t.id != take_id for t in scene.image_takes):
            if not store.resolve(take.path).is_file():
                log.warning("journalled image %s is no longer on disk: only its charge is kept", take.path)
                continue
            scene.image_takes.append(take)
            if chosen:
                fill_empty_frame(scene, take)
        restored += 1
    return restored
