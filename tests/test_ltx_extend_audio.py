"""Extending on fal's LTX-2 extend-video endpoint with the default audio setting: the endpoint takes no
generate_audio (cloud-apis.md §1.2.2; the result's sound is the source's), so the plan asks for none and the
clip's check requires none, whether or not the source has sound."""
from __future__ import annotations

import asyncio

import pytest

from core.config import Settings
from core.render.queue import RenderQueue
from core.video.project import Scene
from core.video.project_io import ProjectStore
from providers import registry
from tests.fakes.clips import write_clip
from tests.test_ltx_support import FAST, fal  # noqa: F401  (the fal fake fixture)

REASON = "include_audio: the extend endpoint keeps the source video's sound"


@pytest.mark.parametrize("source_audio", [False, True])
@pytest.mark.parametrize("model", ["ltx-2-fast", "ltx-2.3-fast"])
def test_extend_with_the_default_audio_renders_and_lists_audio_as_ignored(tmp_path, fal, model, source_audio):
    store = ProjectStore.create(tmp_path / "proj", name="extend")
    store.project.render = store.project.render.updated(provider="ltx-video", model=model, deployment="fal")
    write_clip(store.folder / "clips" / "a.mp4", 2.0, 24, audio=source_audio)
    scene = Scene(prompt="the fox keeps running", duration=2.0, extend_video="clips/a.mp4")
    store.project.scenes.append(scene)
    store.save()
    assert store.project.scene_settings(scene).settings.include_audio is None  # nothing chosen: the default

    queue = RenderQueue(store, Settings(**FAST), provider_getter=registry.get, on_event=lambda e: None)
    item = queue.plan().items[0]
    assert "include_audio" not in item.plan.sent and REASON in item.ignored
    summary = asyncio.run(queue.run())

    assert summary.ok, summary.failed
    body = fal.requests[-1]["body"]
    assert fal.requests[-1]["path"].endswith("/extend-video") and "generate_audio" not in body
    assert fal.rejected == []
    take = ProjectStore.open(store.folder).project.scenes[0].selected_take
    assert take.status == "done" and store.resolve(take.clip_path).is_file()
    assert f"ignored {REASON}" in take.notes and "include_audio" not in take.settings


def test_an_explicit_audio_choice_on_extend_is_still_listed_as_ignored(tmp_path):
    from providers.ltx.plan import prepare
    from tests.test_ltx_support import Inputs, request_for

    for choice in (True, False):
        plan = prepare(request_for("ltx-2-fast", "fal", "extend", Inputs(tmp_path / "in"), tmp_path / "o.mp4",
                                   include_audio=choice))
        assert [i.value for i in plan.ignored if i.field == "include_audio"] == [choice]
        assert "include_audio" not in plan.sent
