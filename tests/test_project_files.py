"""Project folders on disk: round trips, relative paths, atomic saves with a backup, migrations, hostile files."""
import json
import shutil

import pytest

from core.errors import ProjectFileError
from core.video.project import SCHEMA_VERSION, ReferenceImage, Scene, Take
from core.video.project_io import ProjectStore
from tests.cli_helpers import make_image, run_cli

DATA = __import__("pathlib").Path(__file__).parent / "data"


def test_round_trip_and_relative_assets(tmp_path):
    store = ProjectStore.create(tmp_path / "p", "Demo")
    outside = make_image(tmp_path / "elsewhere.png")
    rel = store.import_asset(outside, "images")
    assert rel == "images/elsewhere.png" and (store.folder / rel).is_file()
    assert store.import_asset(outside, "images") == rel  # same bytes: no second copy
    (tmp_path / "x").mkdir()
    make_image(tmp_path / "x" / "elsewhere.png", color=(1, 2, 3))
    assert store.import_asset(tmp_path / "x" / "elsewhere.png", "images") == "images/elsewhere_1.png"
    store.project.scenes.append(Scene(prompt="hello", start_frame=rel))
    store.project.reference_images.append(ReferenceImage(path=rel))
    store.save()
    text = store.path.read_text()
    assert str(tmp_path) not in text  # nothing absolute in the file
    moved = tmp_path / "moved"
    shutil.move(str(store.folder), moved)
    again = ProjectStore.open(moved)
    assert again.resolve(again.project.scenes[0].start_frame).is_file()
    assert again.missing_assets() == []


def test_save_is_atomic_and_keeps_backup(tmp_path):
    store = ProjectStore.create(tmp_path / "p")
    store.project.name = "first"
    store.save()
    store.project.name = "second"
    store.save()
    assert json.loads(store.path.read_text())["name"] == "second"
    assert json.loads((store.folder / "project.json.bak").read_text())["name"] == "first"
    assert not [p for p in store.folder.iterdir() if p.name.endswith(".tmp")]


def test_effective_references():
    g = [ReferenceImage(path=f"references/g{i}.png") for i in range(3)]
    own = ReferenceImage(path="references/own.png")
    s = Scene(reference_images=[own])
    assert [r.path for r in s.get_effective_reference_images(g)] == ["references/own.png", "references/g0.png",
                                                                     "references/g1.png"]
    s.use_global_references = False
    assert s.get_effective_reference_images(g) == [own]
    assert Scene().get_effective_reference_images(g) == g


def test_v0_project_is_migrated(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    shutil.copy(DATA / "project_v0.json", folder / "project.json")
    before = (folder / "project.json").read_bytes()
    store = ProjectStore.open(folder)
    p = store.project
    assert p.schema_version == SCHEMA_VERSION and p.name == "Old prototype project"
    assert p.render.provider == "animatic" and p.render.resolution == "480p"  # fps 24 was the old fixed default
    assert [s.duration for s in p.scenes] == [2.5, 1.5]
    assert p.scenes[0].id == "s1" and p.scenes[0].start_frame == "images/start.png"
    assert p.scenes[1].selected_take.status == "done" and p.scenes[1].selected_take.clip_path == "clips/old.mp4"
    assert (folder / "project.json").read_bytes() == before  # opening never rewrites the file


def _valid_doc(tmp_path):
    store = ProjectStore.create(tmp_path / "base")
    store.project.scenes.append(Scene(prompt="ok", takes=[Take(provider="animatic")]))
    store.save()
    return json.loads(store.path.read_text())


def hostile_documents(doc):
    def edit(fn):
        d = json.loads(json.dumps(doc))
        fn(d)
        return json.dumps(d).encode()

    sid = doc["scenes"][0]["id"]
    return {
        "truncated": json.dumps(doc).encode()[:-40],
        "empty": b"",
        "not_utf8": b"\xff\xfe\x00garbage",
        "top_level_list": b"[1, 2, 3]",
        "future_schema": edit(lambda d: d.update(schema_version=99)),
        "schema_not_int": edit(lambda d: d.update(schema_version="one")),
        "scenes_not_list": edit(lambda d: d.update(scenes={"a": 1})),
        "duration_string": edit(lambda d: d["scenes"][0].update(duration="long")),
        "duration_negative": edit(lambda d: d["scenes"][0].update(duration=-3)),
        "fps_huge": edit(lambda d: d["render"].update(fps=100000)),
        "unknown_resolution": edit(lambda d: d["render"].update(resolution="9000p")),
        "dotdot_start_frame": edit(lambda d: d["scenes"][0].update(start_frame="../../etc/passwd")),
        "absolute_start_frame": edit(lambda d: d["scenes"][0].update(start_frame="/etc/passwd")),
        "windows_absolute": edit(lambda d: d["scenes"][0].update(start_frame="C:\\Windows\\win.ini")),
        "dotdot_clip": edit(lambda d: d["scenes"][0]["takes"][0].update(clip_path="clips/../../x.mp4")),
        "absolute_reference": edit(lambda d: d.update(reference_images=[{"path": "/tmp/ref.png"}])),
        "huge_prompt": edit(lambda d: d["scenes"][0].update(prompt="A" * 5_000_000)),
        "duplicate_scene_ids": edit(lambda d: d["scenes"].append(dict(d["scenes"][0]))),
        "four_references": edit(lambda d: d.update(reference_images=[{"path": f"references/{i}.png"}
                                                                     for i in range(4)])),
        "bad_take_status": edit(lambda d: d["scenes"][0]["takes"][0].update(status="paid-twice")),
        "selected_take_missing": edit(lambda d: d["scenes"][0].update(selected_take_id="nope")),
        "unknown_field": edit(lambda d: d.update(surprise=True)),
        "scene_id_" + sid[:2]: edit(lambda d: d["scenes"][0].update(id=None)),
        # shapes that end the parser itself (RecursionError, a too-long integer), not a field check
        "nested_200k_arrays": b"[" * 200_000 + b"]" * 200_000,
        "nested_200k_objects": b'{"a":' * 200_000 + b"1" + b"}" * 200_000,
        "nested_in_take_settings": json.dumps(doc).replace(
            '"settings": {}', '"settings": ' + "[" * 200_000 + "]" * 200_000, 1).encode(),
        "integer_5000_digits": json.dumps(doc).replace('"duration": 5.0', '"duration": ' + "9" * 5000, 1).encode(),
    }


def test_twenty_hostile_files_exit_2_and_stay_unchanged(tmp_path):
    docs = hostile_documents(_valid_doc(tmp_path))
    assert len(docs) >= 20
    for name, raw in docs.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "project.json").write_bytes(raw)
        proc = run_cli("project", "info", folder)
        assert proc.returncode == 2, (name, proc.stderr)
        assert "project.json" in proc.stderr, (name, proc.stderr)
        assert "Traceback" not in proc.stderr, name
        assert len(proc.stderr) < 2000, name  # a clear message, not a dump of the file
        assert (folder / "project.json").read_bytes() == raw, name


def test_error_names_the_field(tmp_path):
    doc = _valid_doc(tmp_path)
    doc["scenes"][0]["duration"] = "long"
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "project.json").write_text(json.dumps(doc))
    with pytest.raises(ProjectFileError) as err:
        ProjectStore.open(folder)
    assert "scenes.0.duration" in str(err.value) and str(folder / "project.json") in str(err.value)


def test_save_as_copies_assets_but_not_the_export_cache(tmp_path):
    store = ProjectStore.create(tmp_path / "a")
    rel = store.import_asset(make_image(tmp_path / "pic.png"), "images")
    cache = store.folder / "exports" / ".cache"
    cache.mkdir(parents=True)
    (cache / "segment.mp4").write_bytes(b"x" * 1000)
    store.project.scenes.append(Scene(prompt="p", start_frame=rel))
    store.save_as(tmp_path / "b")
    copy = ProjectStore.open(tmp_path / "b")
    assert copy.resolve(rel).is_file() and copy.project.scenes[0].start_frame == rel
    assert not (tmp_path / "b" / "exports" / ".cache").exists()
    assert (tmp_path / "a" / "project.json").is_file()  # the original stays


def test_export_paths_outside_the_project_are_refused_on_load(tmp_path):
    doc = _valid_doc(tmp_path)
    for field, value in (("output_path", "/home/someone/.bashrc"), ("music_path", "../../song.mp3"),
                         ("watermark_path", "C:\\logo.png")):
        bad = json.loads(json.dumps(doc))
        bad["export"][field] = value
        folder = tmp_path / field
        folder.mkdir()
        (folder / "project.json").write_text(json.dumps(bad))
        with pytest.raises(ProjectFileError) as err:
            ProjectStore.open(folder)
        assert f"export.{field}" in str(err.value)
