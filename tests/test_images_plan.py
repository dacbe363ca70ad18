"""Preparing image requests, with no network, no key and no GPU: the size the project's aspect ratio asks for and the
size each model renders, the price per image and per plan, settings a model does not take listed as ignored,
references refused beyond what a model takes (the scene's) or trimmed to it (the project's), every problem at once;
and Docs/images.md lists every model of every catalog."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import Settings
from core.errors import InvalidRequestError
from core.images import sizing
from core.images.contract import ImageRequest
from providers.images.registry import get_image, image_names
from tests.fakes.clips import write_image

ROOT = Path(__file__).resolve().parent.parent


def plan(name: str, tmp_path: Path, **kw):
    return get_image(name, Settings()).prepare(ImageRequest(prompt="a fox", output_path=tmp_path / "f.png", **kw))


@pytest.mark.parametrize("aspect,short,size", [("16:9", 720, (1280, 720)), ("9:16", 720, (720, 1280)),
                                               ("1:1", 1080, (1080, 1080)), ("21:9", 480, (1120, 480))])
def test_the_project_aspect_ratio_and_resolution_give_the_size_written(tmp_path, aspect, short, size):
    for name in image_names():
        p = plan(name, tmp_path, aspect_ratio=aspect, short_side=short)
        assert (p.width, p.height) == size, name


def test_each_model_renders_the_nearest_it_can_and_says_so(tmp_path):
    google = plan("google", tmp_path, aspect_ratio="9:16", short_side=1080)
    assert google.sent == {"aspect_ratio": "9:16", "image_size": "2K"}  # 1K is 768x1344: too small for 1080x1920
    assert (google.render_width, google.render_height) == (1536, 2688)
    assert "renders 1536x2688" in google.notes()[0]
    stability = plan("stability", tmp_path, aspect_ratio="4:3")
    assert stability.sent["aspect_ratio"] == "5:4"  # the service's nearest shape; the image is cropped to 4:3
    assert "cropped to the asked shape" in stability.notes()[0]
    exact = plan("openai", tmp_path, width=1280, height=720)
    assert exact.sent["size"] == "1280x720" and exact.adjustments == []


@pytest.mark.parametrize("asked,sent", [((512, 288), (1088, 608)),  # scaled up to the 655,360-pixel minimum
                                        ((1000, 562), (1088, 608)),
                                        ((4000, 1000), (3840, 1280)),  # beyond 3:1 and 3840 wide
                                        ((3840, 2160), (3840, 2160))])
def test_free_sizes_follow_the_model_rules(asked, sent):
    w, h = sizing.free_size(*asked, multiple=16, min_pixels=655_360, max_pixels=3840 * 2160, max_side=3840,
                            max_ratio=3.0)
    assert (w, h) == sent and w % 16 == 0 and h % 16 == 0 and 655_360 <= w * h <= 3840 * 2160


def test_cost_is_per_image_times_variants_and_follows_quality_and_size(tmp_path):
    assert plan("stability", tmp_path, model="stable-image-ultra", variants=3).cost == pytest.approx(0.24)
    low, high = (plan("openai", tmp_path, quality=q) for q in ("low", "high"))
    assert low.cost_per_image < high.cost_per_image
    big = plan("openai", tmp_path, quality="high", width=2048, height=2048)
    assert big.cost_per_image == pytest.approx(0.167 * 4)  # billed by area against the 1024x1024 price
    assert plan("google", tmp_path, width=3840, height=2160).cost_per_image == 0.151  # the 4K tier
    assert plan("local-sd", tmp_path).cost == 0.0


def test_settings_a_model_does_not_take_are_listed_as_ignored_and_not_sent(tmp_path):
    p = plan("openai", tmp_path, seed=3, negative_prompt="blurry", strength=0.5)
    assert {i.field for i in p.ignored} == {"seed", "negative_prompt", "strength"}
    assert not {"seed", "negative_prompt", "strength"} & set(p.sent)
    g = plan("google", tmp_path, quality="high", negative_prompt="blurry")
    assert {i.field for i in g.ignored} == {"quality", "negative_prompt"}


def test_scene_references_beyond_the_model_are_refused_and_project_ones_trimmed(tmp_path):
    refs = [write_image(tmp_path / f"r{i}.png") for i in range(5)]
    p = plan("google", tmp_path, model="gemini-2.5-flash-image", reference_images=refs[:1],
             project_reference_images=refs[1:])
    assert p.references == refs[:3] and p.mode == "reference-images"
    assert any(a.field == "project reference images" and a.used == 2 for a in p.adjustments)
    with pytest.raises(InvalidRequestError) as err:
        plan("stability", tmp_path, model="sd3.5-large", reference_images=refs[:2])
    assert err.value.field == "reference_images" and "at most 1" in str(err.value)
    core = plan("stability", tmp_path, project_reference_images=refs[:1])  # core takes none: not used, said so
    assert core.references == [] and core.ignored[0].field == "project reference images"


def test_every_problem_is_named_at_once(tmp_path):
    with pytest.raises(InvalidRequestError) as err:
        get_image("openai", Settings()).prepare(ImageRequest(
            prompt=" ", output_path=tmp_path / "f.gif", quality="ultra",
            reference_images=[tmp_path / "missing.png"], options={"steps": 4}))
    text = str(err.value)
    for expected in ("prompt:", "output:", "quality", "missing.png: no such file", "options.steps"):
        assert expected in text
    assert err.value.exit_code == 2


def test_an_unknown_model_names_the_models_there_are(tmp_path):
    with pytest.raises(InvalidRequestError) as err:
        plan("openai", tmp_path, model="gpt-image-1")  # shut down on 2026-10-23
    assert err.value.field == "model" and "gpt-image-2" in err.value.allowed


def test_variants_get_their_own_files_and_one_openai_request_makes_up_to_ten(tmp_path):
    p = plan("openai", tmp_path, variants=3)
    assert [o.name for o in p.outputs] == ["f-1.png", "f-2.png", "f-3.png"] and len(p.calls) == 1
    s = plan("stability", tmp_path, variants=3, seed=10)
    assert [c.seed for c in s.calls] == [10, 11, 12]


def test_the_settings_hash_follows_what_is_sent_not_what_is_ignored(tmp_path):
    a = plan("openai", tmp_path).settings_hash
    assert plan("openai", tmp_path, seed=4).settings_hash == a  # seed is ignored by OpenAI
    assert plan("openai", tmp_path, quality="high").settings_hash != a


def test_docs_list_every_model_with_its_price():
    text = (ROOT / "Docs" / "images.md").read_text(encoding="utf-8")
    for name in image_names():
        for m in get_image(name, Settings()).capabilities().models:
            assert re.search(rf"`{re.escape(m.id)}`", text), f"{name} {m.id} missing from Docs/images.md"
