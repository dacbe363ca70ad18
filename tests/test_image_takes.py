"""Image takes per scene against the Stability fake on 127.0.0.1: variants become takes saved the moment they arrive,
choosing one sets the start frame (undoable) and changes the scene's video settings hash, the ledger holds each
image once, a request whose answer was lost is never sent again, cancel keeps what arrived, and an estimate spends
nothing."""
from __future__ import annotations

import asyncio

import pytest

from core.config import Settings
from core.errors import InvalidRequestError
from core.images.run import ImageQueue
from core.images.takes import plan_images
from core.render.queue import RenderQueue
from core.video.project import ReferenceImage
from core.video.project_io import ProjectStore
from core.video.scene_edits import ChooseImageTake, EditHistory
from providers import registry as video_registry
from providers.images.registry import get_image
from tests.fakes.clips import write_image
from tests.images_support import image_project, openai_fake, pixels, size_of, stability_fake  # noqa: F401

SETTINGS = Settings(render_retries=2, render_timeout_s=60)


def _getter(name: str):
    return get_image(name, SETTINGS)


def _run(store: ProjectStore, plan, getter=_getter, events=None):
    queue = ImageQueue(store, SETTINGS, provider_getter=getter, on_event=events.append if events is not None else None)
    return asyncio.run(queue.run(plan))


def _video_hash(store: ProjectStore, scene_id: str) -> str:
    queue = RenderQueue(store, SETTINGS, provider_getter=video_registry.get)
    return queue.plan([scene_id], force=True).items[0].plan.settings_hash


def test_three_variants_are_three_takes_and_choosing_one_sets_the_start_frame_undoably(stability_fake, tmp_path):
    store = image_project(tmp_path / "p", ["a red fox in snow", "a lighthouse"])
    scene = store.project.scenes[0]
    plan = plan_images(store, _getter, [scene.id], variants=3, seed=5)
    assert plan.images == 3 and plan.total_cost == pytest.approx(0.09)
    events: list = []
    summary = _run(store, plan, events=events)
    assert summary.ok and summary.done == [scene.id] and summary.total_cost == pytest.approx(0.09)

    saved = ProjectStore.open(store.folder).project.scenes[0]  # on disk, not only in memory
    assert [t.role for t in saved.image_takes] == ["start"] * 3
    assert [t.seed for t in saved.image_takes] == [5, 6, 7]
    assert [size_of(store.resolve(t.path)) for t in saved.image_takes] == [(854, 480)] * 3  # the video's frame
    assert len({pixels(store.resolve(t.path)) for t in saved.image_takes}) == 3
    first, second, _ = saved.image_takes
    assert saved.start_frame == first.path and saved.start_image_take_id == first.id  # the empty slot took one
    assert [e.kind for e in events].count("image") == 3

    before = _video_hash(store, scene.id)
    history = EditHistory(store.project)
    history.push(ChooseImageTake(scene.id, second.id, "start"))
    assert scene.start_frame == second.path and scene.start_image_take_id == second.id
    chosen = _video_hash(store, scene.id)
    assert chosen != before
    history.undo()
    assert scene.start_frame == first.path and scene.start_image_take_id == first.id
    assert _video_hash(store, scene.id) == before
    history.redo()
    assert _video_hash(store, scene.id) == chosen


def test_each_image_is_one_ledger_entry_and_a_second_run_adds_takes_without_moving_the_choice(stability_fake,
                                                                                             tmp_path):
    store = image_project(tmp_path / "p", ["one", "two", "three"])
    summary = _run(store, plan_images(store, _getter, variants=2))
    assert len(summary.done) == 3 and stability_fake.counts["submissions"] == 6
    image_entries = [e for e in store.project.ledger if e.kind == "image"]
    assert len(image_entries) == 6 and store.project.total_cost == pytest.approx(0.18)
    assert {e.take_id for e in image_entries} == {t.id for s in store.project.scenes for t in s.image_takes}
    chosen = [s.start_frame for s in store.project.scenes]
    # every scene has a start frame now: the default run has nothing to do, a chosen scene gets new takes
    assert plan_images(store, _getter).items == []
    _run(store, plan_images(store, _getter, [store.project.scenes[1].id]))
    assert [s.start_frame for s in store.project.scenes] == chosen
    assert len(store.project.scenes[1].image_takes) == 3


def test_end_frames_look_at_the_start_frame_and_the_references(stability_fake, tmp_path):
    store = image_project(tmp_path / "p", ["a fox", "a hen"])
    ref = store.import_asset(write_image(tmp_path / "hero.png", (320, 240)), "references")
    store.project.reference_images = [ReferenceImage(path=ref)]
    start = store.import_asset(write_image(tmp_path / "start.png", (640, 360)), "images")
    store.project.scenes[0].start_frame = start
    plan = plan_images(store, _getter, [store.project.scenes[0].id], role="end", model="sd3.5-large")
    item = plan.items[0]
    assert item.plan.mode == "image-to-image"  # one input image: the start frame first
    assert [store.relative(p) for p in item.plan.references] == [start]
    assert any("project reference images" in n for n in plan.notes())  # the reference did not fit: said so
    _run(store, plan)
    scene = store.project.scenes[0]
    assert scene.end_frame == scene.image_takes[0].path and scene.image_takes[0].role == "end"
    assert scene.image_takes[0].references == [start]
    assert [(f["field"], f["size"]) for f in stability_fake.last()["files"]] == [("image", (640, 360))]


def test_every_scene_problem_is_named_at_once_and_an_estimate_sends_nothing(stability_fake, tmp_path):
    store = image_project(tmp_path / "p", ["", "fine", ""])
    hero = store.import_asset(write_image(tmp_path / "hero.png"), "references")
    store.project.scenes[1].reference_images = [ReferenceImage(path=hero)]  # core takes no input image
    with pytest.raises(InvalidRequestError) as err:
        plan_images(store, _getter)
    text = str(err.value)
    assert "scene 1: prompt" in text and "scene 3: prompt" in text and "scene 2: reference_images" in text
    plan = plan_images(store, _getter, [store.project.scenes[1].id], model="sd3.5-large")
    assert plan.total_cost == pytest.approx(0.065)
    assert stability_fake.counts["submit_attempts"] == 0 and not list((store.folder / "images").iterdir())


def test_a_lost_answer_is_not_sent_again_and_the_images_before_it_stay(stability_fake, tmp_path):
    store = image_project(tmp_path / "p", ["a fox"])
    scene = store.project.scenes[0]

    def getter(name):
        provider = get_image(name, SETTINGS)
        original = provider.deliver

        async def deliver(plan, call, progress):
            if call.index == 1:  # the second variant's answer: a 500, which may have made and charged the image
                stability_fake.inject("generate", {"status": 500, "json": {"name": "internal_error",
                                                                            "errors": ["unexpected"]}})
            return await original(plan, call, progress)

        provider.deliver = deliver
        return provider

    summary = _run(store, plan_images(store, _getter, variants=3), getter=getter)
    assert list(summary.failed) == [scene.id] and "charged" in summary.failed[scene.id]
    assert stability_fake.counts["submit_attempts"] == 2  # never sent a second time on its own
    saved = ProjectStore.open(store.folder).project
    assert len(saved.scenes[0].image_takes) == 1 and saved.scenes[0].start_frame == saved.scenes[0].image_takes[0].path
    assert [e.kind for e in saved.ledger] == ["image"]


def test_cancel_keeps_what_arrived_and_says_the_request_in_flight_may_be_charged(stability_fake, tmp_path):
    store = image_project(tmp_path / "p", ["a fox"])
    events: list = []
    box: dict = {}

    def on_event(event):
        events.append(event)
        if event.kind == "image":  # the first variant is saved: cancel while the second is on its way
            box["queue"].cancel()

    async def go():
        queue = ImageQueue(store, SETTINGS, provider_getter=_getter, on_event=on_event)
        box["queue"] = queue
        return await queue.run(plan_images(store, _getter, variants=3))

    summary = asyncio.run(go())
    assert summary.cancelled == [store.project.scenes[0].id]
    assert len(store.project.scenes[0].image_takes) == 1
    assert events[-1].kind == "cancelled" and "may still be charged" in events[-1].message
    assert stability_fake.counts["submit_attempts"] <= 2


def test_image_takes_saved_by_two_processes_are_both_kept(tmp_path):
    from core.video.project import ImageTake

    store = image_project(tmp_path / "p", ["a fox"])
    ours, theirs = ProjectStore.open(store.folder), ProjectStore.open(store.folder)
    mine = ImageTake(path="images/a.png", provider="stability", width=8, height=8)
    other = ImageTake(path="images/b.png", provider="openai", width=8, height=8)
    theirs.project.scenes[0].image_takes.append(other)
    theirs.project.scenes[0].start_image_take_id, theirs.project.scenes[0].start_frame = other.id, other.path
    theirs.save()
    ours.project.scenes[0].image_takes.append(mine)
    ours.save()
    scene = ProjectStore.open(store.folder).project.scenes[0]
    assert {t.id for t in scene.image_takes} == {mine.id, other.id}
    assert scene.start_image_take_id == other.id and scene.start_frame == other.path


def test_requests_to_one_provider_keep_to_its_concurrency_limit(stability_fake, tmp_path):
    store = image_project(tmp_path / "p", ["one", "two", "three", "four"])
    settings = SETTINGS.model_copy(update={"render_concurrency": {"default": 3, "stability": 2}})
    state = {"now": 0, "most": 0}

    def getter(name):
        provider = get_image(name, settings)
        original = provider.deliver

        async def deliver(plan, call, progress):
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            try:
                return await original(plan, call, progress)
            finally:
                state["now"] -= 1

        provider.deliver = deliver
        return provider

    queue = ImageQueue(store, settings, provider_getter=getter)
    summary = asyncio.run(queue.run(plan_images(store, _getter, variants=2)))
    assert len(summary.done) == 4 and stability_fake.counts["submissions"] == 8
    assert 1 <= state["most"] <= 2


def test_the_scene_and_project_references_reach_a_model_that_takes_input_images(openai_fake, tmp_path):
    store = image_project(tmp_path / "p", ["the hero walks in", "the hero sits down"])
    hero = store.import_asset(write_image(tmp_path / "hero.png", (300, 300)), "references")
    room = store.import_asset(write_image(tmp_path / "room.png", (200, 100)), "references")
    store.project.reference_images = [ReferenceImage(path=hero)]
    store.project.scenes[1].reference_images = [ReferenceImage(path=room)]
    plan = plan_images(store, _getter, provider="openai", quality="low")
    assert [[store.relative(p) for p in i.plan.references] for i in plan.items] == [[hero], [room, hero]]
    _run(store, plan)
    assert [s.image_takes[0].references for s in store.project.scenes] == [[hero], [room, hero]]
    edits = [r for r in openai_fake.requests if r["path"].endswith("/images/edits")]
    sent = sorted([tuple(f["size"]) for f in r["files"]] for r in edits)  # the scenes run side by side
    assert sent == [[(200, 100), (300, 300)], [(300, 300)]]


def test_a_start_image_may_end_the_scene_and_an_unknown_take_is_refused(tmp_path):
    from core.video.project import ImageTake

    store = image_project(tmp_path / "p", ["a fox"])
    scene = store.project.scenes[0]
    take = ImageTake(path="images/a.png", provider="stability", width=8, height=8)
    scene.image_takes.append(take)
    history = EditHistory(store.project)
    history.push(ChooseImageTake(scene.id, take.id, "end"))
    assert scene.end_frame == take.path and scene.end_image_take_id == take.id and scene.start_frame is None
    with pytest.raises(InvalidRequestError) as err:
        history.push(ChooseImageTake(scene.id, "nope", "start"))
    assert take.id in str(err.value) and scene.start_frame is None
    history.push(ChooseImageTake(scene.id, None, "end"))  # cleared: no end frame, no chosen take
    assert scene.end_frame is None and scene.end_image_take_id is None
