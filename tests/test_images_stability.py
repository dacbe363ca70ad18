"""Stability AI's stable-image endpoints over httpx against the fake (tests/fakes/stability_fake.py): the multipart
form each endpoint received, image-to-image from a reference, the image written at the asked size with the seed the
service used, and the failures mapped to the typed set."""
from __future__ import annotations

import pytest

from core.errors import AuthError, ContentRejectedError, InvalidRequestError, PaymentError, TransientError
from tests.fakes.clips import write_image
from tests.images_support import generate, pixels, request, size_of, stability_fake  # noqa: F401


def test_core_gets_the_aspect_ratio_seed_and_negative_prompt_and_the_image_fits_the_asked_size(stability_fake,
                                                                                               tmp_path):
    results = generate("stability", request(tmp_path / "a.png", width=1280, height=720, seed=42,
                                            negative_prompt="blurry"))
    sent = stability_fake.last()
    assert sent["path"] == "/v2beta/stable-image/generate/core" and sent["auth"] == "bearer"
    assert sent["accept"] == "image/*" and sent["content_type"] == "multipart/form-data"
    fields = {k: v for k, v in sent["fields"].items() if k != "none"}
    assert fields == {"prompt": "a red fox in snow", "aspect_ratio": "16:9", "seed": "42",
                      "negative_prompt": "blurry", "output_format": "png"}
    assert size_of(results[0].path) == (1280, 720) and results[0].rendered == (1344, 768)
    assert results[0].seed == 42 and results[0].cost == 0.03


def test_variants_are_one_request_each_with_seed_plus_i(stability_fake, tmp_path):
    results = generate("stability", request(tmp_path / "v.png", model="stable-image-ultra", seed=7, variants=3,
                                            aspect_ratio="9:16"))
    assert [r["fields"]["seed"] for r in stability_fake.requests] == ["7", "8", "9"]
    assert {r["path"] for r in stability_fake.requests} == {"/v2beta/stable-image/generate/ultra"}
    assert [size_of(r.path) for r in results] == [(720, 1280)] * 3
    assert len({pixels(r.path) for r in results}) == 3


def test_sd3_image_to_image_sends_the_reference_with_strength_and_no_aspect_ratio(stability_fake, tmp_path):
    ref = write_image(tmp_path / "hero.png", (400, 300))
    results = generate("stability", request(tmp_path / "b.png", model="sd3.5-large", width=1280, height=720,
                                            project_reference_images=[ref], strength=0.55))
    sent = stability_fake.last()
    assert sent["path"] == "/v2beta/stable-image/generate/sd3"
    assert {k: v for k, v in sent["fields"].items()} == {"prompt": "a red fox in snow", "model": "sd3.5-large",
                                                         "mode": "image-to-image", "strength": "0.55",
                                                         "output_format": "png"}
    assert [(f["field"], f["size"]) for f in sent["files"]] == [("image", (400, 300))]
    assert size_of(results[0].path) == (1280, 720)  # the service kept the 4:3 input; cropped and scaled here


def test_a_scene_reference_on_core_is_refused_before_anything_is_sent(stability_fake, tmp_path):
    ref = write_image(tmp_path / "hero.png")
    with pytest.raises(InvalidRequestError) as err:
        generate("stability", request(tmp_path / "c.png", reference_images=[ref]))
    assert err.value.field == "reference_images" and "sd3.5-large" in str(err.value)
    assert stability_fake.counts["submit_attempts"] == 0


def test_turbo_is_not_sent_a_negative_prompt(stability_fake, tmp_path):
    generate("stability", request(tmp_path / "t.png", model="sd3.5-large-turbo", negative_prompt="blurry"))
    assert "negative_prompt" not in stability_fake.last()["fields"]


def test_content_moderation_is_a_content_rejection_quoting_the_service(stability_fake, tmp_path):
    with pytest.raises(ContentRejectedError) as err:
        generate("stability", request(tmp_path / "x.png", prompt="FORBIDDEN"))
    assert "content moderation" in str(err.value) and not (tmp_path / "x.png").exists()


def test_a_filtered_image_is_a_content_rejection_not_a_blurred_start_frame(stability_fake, tmp_path):
    stability_fake.inject("job", {"finish_reason": "CONTENT_FILTERED"})
    with pytest.raises(ContentRejectedError) as err:
        generate("stability", request(tmp_path / "x.png"))
    assert "CONTENT_FILTERED" in str(err.value) and not (tmp_path / "x.png").exists()
    assert stability_fake.counts["submit_attempts"] == 1


@pytest.mark.parametrize("fault,error", [
    ({"status": 402, "json": {"name": "payment_required", "errors": ["lack sufficient credits"]}}, PaymentError),
    ({"status": 401, "json": {"name": "unauthorized", "errors": ["authorization: missing"]}}, AuthError)])
def test_payment_and_auth_answers_are_typed_and_not_repeated(stability_fake, tmp_path, fault, error):
    stability_fake.inject("generate", fault)
    with pytest.raises(error) as err:
        generate("stability", request(tmp_path / "x.png"))
    assert err.value.exit_code == 3 and stability_fake.counts["submit_attempts"] == 1


def test_a_429_waits_its_retry_after_then_makes_the_image(stability_fake, tmp_path):
    stability_fake.inject("generate", {"status": 429, "headers": {"Retry-After": "0.2"}, "json": {
        "name": "rate_limit_exceeded", "errors": ["You have exceeded the rate limit of 150 requests per 10 s"]}})
    retried: list = []
    generate("stability", request(tmp_path / "x.png"), retried=retried)
    assert retried == [("RateLimitedError", 0.2)] and stability_fake.counts["submissions"] == 1


def test_a_failure_midway_keeps_the_variants_already_made(stability_fake, tmp_path):
    # the second of three requests meets a 500 after the first image was made: the first stays and is reported
    import asyncio

    from core.config import Settings
    from providers.images.registry import get_image

    async def go():
        provider = get_image("stability", Settings())
        plan = provider.prepare(request(tmp_path / "v.png", variants=3, seed=1))
        original = provider.deliver

        async def deliver(plan, call, progress):
            if call.index == 1:
                stability_fake.inject("generate", {"status": 500, "json": {"name": "internal_error",
                                                                            "errors": ["unexpected"]}})
            return await original(plan, call, progress)

        provider.deliver = deliver
        try:
            return await provider.generate(plan, retries=3)
        finally:
            await provider.aclose()

    with pytest.raises(TransientError) as err:
        asyncio.run(go())
    kept = [r.path.name for r in err.value.partial]
    assert kept == ["v-1.png"] and (tmp_path / "v-1.png").is_file()
    assert not (tmp_path / "v-2.png").exists() and not (tmp_path / "v-3.png").exists()
    assert stability_fake.counts["submit_attempts"] == 2  # the 500 may have been charged: not sent again
