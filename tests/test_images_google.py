"""Gemini image models through the real google-genai client (generate_content) against the fake
(tests/fakes/gemini_images_fake.py): the request body the service received (prompt, inline reference images,
aspect ratio, size tier, seed), the image written at the asked size, and blocked prompts, filtered images, bad keys
and 429s mapped to the typed set."""
from __future__ import annotations

import pytest

from core.errors import AuthError, ContentRejectedError, InvalidRequestError, RateLimitedError
from tests.fakes.clips import write_image
from tests.images_support import KEYS, gemini_fake, generate, request, size_of  # noqa: F401

MODEL = "gemini-3.1-flash-image"


def test_a_prompt_and_references_reach_generate_content_and_the_image_fits_the_asked_size(gemini_fake, tmp_path):
    hero = write_image(tmp_path / "hero.png", (320, 240))
    style = write_image(tmp_path / "style.png", (100, 100))
    results = generate("google", request(tmp_path / "f.png", width=1920, height=1080, seed=11,
                                         reference_images=[hero], project_reference_images=[style]))
    sent = gemini_fake.last()
    assert sent["path"] == f"/v1beta/models/{MODEL}:generateContent" and sent["auth"] == "key"
    parts = sent["body"]["contents"][0]["parts"]
    assert parts[0] == {"text": "a red fox in snow"}
    assert [p["inlineData"]["data"] for p in parts[1:]] == [(320, 240), (100, 100)]  # the images, decoded
    config = sent["body"]["generationConfig"]
    assert config["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}  # 1K (1344x768) is too small
    assert config["seed"] == 11 and "IMAGE" in config["responseModalities"]
    assert size_of(results[0].path) == (1920, 1080) and results[0].rendered == (2688, 1536)
    assert results[0].cost == 0.101


def test_variants_are_one_request_each_and_the_older_model_gets_no_size_tier(gemini_fake, tmp_path):
    results = generate("google", request(tmp_path / "v.png", model="gemini-2.5-flash-image", variants=2, seed=3,
                                         aspect_ratio="1:1", short_side=512))
    bodies = [r["body"]["generationConfig"] for r in gemini_fake.requests]
    assert [b["seed"] for b in bodies] == [3, 4]
    assert all(b["imageConfig"] == {"aspectRatio": "1:1"} for b in bodies)
    assert [size_of(r.path) for r in results] == [(512, 512), (512, 512)]


def test_more_scene_references_than_the_model_takes_are_refused_before_sending(gemini_fake, tmp_path):
    refs = [write_image(tmp_path / f"r{i}.png") for i in range(4)]
    with pytest.raises(InvalidRequestError) as err:
        generate("google", request(tmp_path / "x.png", model="gemini-2.5-flash-image", reference_images=refs))
    assert "at most 3" in str(err.value) and gemini_fake.counts["submit_attempts"] == 0


def test_a_blocked_prompt_is_a_content_rejection(gemini_fake, tmp_path):
    with pytest.raises(ContentRejectedError) as err:
        generate("google", request(tmp_path / "x.png", prompt="FORBIDDEN thing"))
    assert "PROHIBITED_CONTENT" in str(err.value) and not (tmp_path / "x.png").exists()
    assert gemini_fake.counts["submit_attempts"] == 1


def test_an_image_the_filters_removed_is_a_content_rejection(gemini_fake, tmp_path):
    gemini_fake.inject("job", {"finish": "IMAGE_SAFETY"})
    with pytest.raises(ContentRejectedError) as err:
        generate("google", request(tmp_path / "x.png"))
    assert "IMAGE_SAFETY" in str(err.value) and gemini_fake.counts["submit_attempts"] == 1


def test_a_bad_key_is_an_auth_error(gemini_fake, tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "bad-key")
    with pytest.raises(AuthError) as err:
        generate("google", request(tmp_path / "x.png"))
    assert "API key not valid" in str(err.value) and err.value.exit_code == 3


def test_resource_exhausted_waits_the_retry_delay_then_makes_the_image(gemini_fake, tmp_path):
    gemini_fake.inject("generate", {"status": 429, "json": {"error": {
        "code": 429, "status": "RESOURCE_EXHAUSTED",
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.2s"}]}}})
    retried: list = []
    results = generate("google", request(tmp_path / "x.png"), retried=retried)
    assert retried == [("RateLimitedError", 0.2)]  # the service's delay, not the backoff
    assert gemini_fake.counts["submit_attempts"] == 2 and size_of(results[0].path) == (1280, 720)


def test_a_429_with_a_retry_after_header_that_stays_ends_as_a_rate_limit(gemini_fake, tmp_path):
    fault = {"status": 429, "headers": {"Retry-After": "0.1"},
             "json": {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Too many requests"}}}
    gemini_fake.inject("generate", fault, fault)
    with pytest.raises(RateLimitedError):
        generate("google", request(tmp_path / "x.png"), retries=1)
    assert gemini_fake.counts["submit_attempts"] == 2
