"""OpenAI's GPT image models through the real openai SDK against the fake (tests/fakes/openai_images_fake.py): what
the service received, the images written at the asked size, references sent as an edit, and the failures a user
meets mapped to the typed set, with a request that may have been charged never sent twice."""
from __future__ import annotations

import pytest

from core.errors import (AuthError, ContentRejectedError, PaymentError, ProviderTimeoutError, RateLimitedError,
                         TransientError)
from tests.fakes.clips import write_image
from tests.images_support import KEYS, generate, openai_fake, pixels, request, size_of  # noqa: F401


def test_a_prompt_becomes_images_at_the_asked_size_with_the_fields_the_service_takes(openai_fake, tmp_path):
    out = tmp_path / "images" / "fox.png"
    results = generate("openai", request(out, width=1280, height=720, variants=2, quality="high"))
    assert [r.path.name for r in results] == ["fox-1.png", "fox-2.png"]
    assert [size_of(r.path) for r in results] == [(1280, 720), (1280, 720)]
    assert pixels(results[0].path) != pixels(results[1].path)  # two variants, two pictures
    assert openai_fake.counts["submit_attempts"] == 1  # both variants in one request (n=2)
    sent = openai_fake.last()
    assert sent["path"] == "/v1/images/generations" and sent["auth"] == "bearer"
    assert sent["body"] == {"model": "gpt-image-2", "prompt": "a red fox in snow", "n": 2, "size": "1280x720",
                            "quality": "high", "output_format": "png"}
    assert results[0].cost == 0.167  # high quality; 1280x720 is below the 1024x1024 the price is for


def test_a_model_with_three_sizes_gets_the_nearest_and_the_image_is_cropped_to_the_asked_shape(openai_fake, tmp_path):
    results = generate("openai", request(tmp_path / "a.png", model="gpt-image-1.5", aspect_ratio="9:16",
                                         short_side=720))
    assert openai_fake.last()["body"]["size"] == "1024x1536"
    assert size_of(results[0].path) == (720, 1280) and results[0].rendered == (1024, 1536)


def test_references_go_as_an_edit_with_every_image(openai_fake, tmp_path):
    scene_ref = write_image(tmp_path / "hero.png", (300, 200))
    project_ref = write_image(tmp_path / "style.png", (128, 128))
    results = generate("openai", request(tmp_path / "out.png", model="gpt-image-1.5", width=1024, height=1024,
                                         reference_images=[scene_ref], project_reference_images=[project_ref]))
    sent = openai_fake.last()
    assert sent["path"] == "/v1/images/edits" and sent["content_type"] == "multipart/form-data"
    assert [(f["filename"], f["size"]) for f in sent["files"]] == [("hero.png", (300, 200)), ("style.png", (128, 128))]
    assert sent["body"]["input_fidelity"] == "high" and sent["body"]["model"] == "gpt-image-1.5"
    assert size_of(results[0].path) == (1024, 1024)


def test_gpt_image_2_edits_without_input_fidelity(openai_fake, tmp_path):
    ref = write_image(tmp_path / "hero.png", (64, 64))
    generate("openai", request(tmp_path / "out.png", reference_images=[ref]))
    assert "input_fidelity" not in openai_fake.last()["body"]  # the service refuses it for gpt-image-2


def test_a_content_policy_refusal_is_typed_and_writes_nothing(openai_fake, tmp_path):
    out = tmp_path / "x.png"
    with pytest.raises(ContentRejectedError) as err:
        generate("openai", request(out, prompt="FORBIDDEN scene"))
    assert "safety system" in str(err.value) and err.value.exit_code == 1
    assert not out.exists() and openai_fake.counts["submit_attempts"] == 1


def test_a_429_is_sent_again_after_its_retry_after(openai_fake, tmp_path):
    openai_fake.inject("generate", {"status": 429, "headers": {"Retry-After": "0.2"}, "json": {"error": {
        "message": "Rate limit reached for images per minute.", "type": "requests", "code": "rate_limit_exceeded"}}})
    retried: list = []
    results = generate("openai", request(tmp_path / "x.png"), retried=retried)
    assert retried == [("RateLimitedError", 0.2)]
    assert openai_fake.counts["submit_attempts"] == 2 and openai_fake.counts["submissions"] == 1
    assert size_of(results[0].path) == (1280, 720)


def test_a_429_that_stays_is_a_rate_limit_after_the_retries(openai_fake, tmp_path):
    fault = {"status": 429, "headers": {"Retry-After": "0.1"}, "json": {"error": {"message": "slow down",
                                                                                  "code": "rate_limit_exceeded"}}}
    openai_fake.inject("generate", fault, fault, fault)
    with pytest.raises(RateLimitedError):
        generate("openai", request(tmp_path / "x.png"), retries=2)
    assert openai_fake.counts["submit_attempts"] == 3


def test_out_of_quota_is_a_payment_error_and_not_repeated(openai_fake, tmp_path):
    openai_fake.inject("generate", {"status": 429, "json": {"error": {
        "message": "You exceeded your current quota, please check your plan and billing details.",
        "type": "insufficient_quota", "code": "insufficient_quota"}}})
    with pytest.raises(PaymentError) as err:
        generate("openai", request(tmp_path / "x.png"))
    assert err.value.exit_code == 3 and openai_fake.counts["submit_attempts"] == 1


@pytest.mark.parametrize("fault", [{"status": 500, "json": {"error": {"message": "The server had an error"}}},
                                   {"drop": True}])
def test_an_answer_lost_after_the_request_went_out_is_not_sent_again(openai_fake, tmp_path, fault):
    openai_fake.inject("generate", fault)
    with pytest.raises(TransientError) as err:
        generate("openai", request(tmp_path / "x.png"), retries=3)
    assert "not sent again" in str(err.value) and not err.value.not_created
    assert openai_fake.counts["submit_attempts"] == 1  # neither the SDK nor the policy repeated it


def test_a_503_did_no_work_and_is_sent_again(openai_fake, tmp_path):
    openai_fake.inject("generate", {"status": 503, "headers": {"Retry-After": "0.1"},
                                    "json": {"error": {"message": "The engine is currently overloaded"}}})
    generate("openai", request(tmp_path / "x.png"))
    assert openai_fake.counts["submit_attempts"] == 2 and openai_fake.counts["submissions"] == 1


def test_a_bad_key_is_an_auth_error_that_never_shows_the_key(openai_fake, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-revoked-0123456789abcdef")
    with pytest.raises(AuthError) as err:
        generate("openai", request(tmp_path / "x.png"))
    assert err.value.exit_code == 3 and "check the OpenAI API key" in str(err.value)
    assert "sk-revoked-0123456789abcdef" not in str(err.value)  # the service echoed it; the app masked it


def test_past_the_deadline_the_request_is_abandoned_and_not_sent_again(openai_fake, tmp_path):
    openai_fake.inject("generate", {"hang": 3})
    with pytest.raises(ProviderTimeoutError) as err:
        generate("openai", request(tmp_path / "x.png"), retries=3, timeout_s=0.5)
    assert "may still finish it and charge it" in str(err.value) and not (tmp_path / "x.png").exists()
    assert openai_fake.counts["submit_attempts"] == 1


def test_one_provider_serves_runs_on_two_event_loops(openai_fake, tmp_path):
    import asyncio

    from core.config import Settings
    from providers.images.registry import get_image

    provider = get_image("openai", Settings())  # as the GUI keeps it between runs

    async def one(name: str):
        return await provider.generate(provider.prepare(request(tmp_path / name)))

    first = asyncio.run(one("a.png"))
    second = asyncio.run(one("b.png"))
    asyncio.run(provider.aclose())
    assert size_of(first[0].path) == size_of(second[0].path) == (1280, 720)
    assert openai_fake.counts["submissions"] == 2
