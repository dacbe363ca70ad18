"""Veo's failures as a user meets them, through the real google-genai client and the render queue's retry policy:
safety filtering quoting the reason, 429 retried after its Retry-After, 5xx while polling, a job that never ends,
region and person-generation refusals naming the setting, forbidden combinations refused before anything is sent."""
from __future__ import annotations

import asyncio

import pytest

from core.errors import (AuthError, CancelledError, ContentRejectedError, InvalidRequestError, ProviderTimeoutError,
                         RateLimitedError, TransientError, UnavailableError)
from core.render.retry import follow_job, submit_job
from tests.test_veo_support import Inputs, provider, render, request_for, submissions, veo  # noqa: F401

GEMINI, VERTEX = "veo-3.1-generate-preview", "veo-3.1-generate-001"
REASON = ("Your prompt contains words that violate Google's usage guidelines. The video was not generated: "
          "celebrity likeness.")


def google_error(code: int, status: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "status": status, "message": message, **extra}}


@pytest.mark.parametrize("model", [GEMINI, VERTEX])
def test_a_safety_filtered_result_is_a_content_rejection_quoting_the_reason(veo, tmp_path, model):
    veo.inject("job", {"filtered": [REASON]})
    out = tmp_path / "clips" / "a.mp4"
    with pytest.raises(ContentRejectedError) as err:
        render(request_for(model, "text-to-video", Inputs(tmp_path / "in"), out))
    assert REASON in str(err.value) and err.value.exit_code == 1 and not err.value.retryable
    assert not out.exists() and (not out.parent.exists() or not list(out.parent.iterdir()))
    assert veo.counts["submissions"] == 1


def test_an_operation_that_ends_in_error_is_not_followed_again(veo, tmp_path):
    veo.inject("job", {"error": {"code": 13, "message": "Internal error while generating the video."}})
    with pytest.raises(TransientError) as err:
        render(request_for(VERTEX, "text-to-video", Inputs(tmp_path / "in"), tmp_path / "c" / "a.mp4"))
    assert "Internal error" in str(err.value) and not err.value.retryable and not err.value.not_created


def test_a_429_is_retried_after_its_retry_after(veo, tmp_path):
    veo.inject("submit", {"status": 429, "json": google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for "
                                                              "requests per minute."), "headers": {"Retry-After": "2"}})
    retries = []

    async def go():
        p = provider()
        try:
            plan = p.prepare(request_for(GEMINI, "text-to-video", Inputs(tmp_path / "in"), tmp_path / "c" / "a.mp4"))
            job = await submit_job(p, plan, lambda e: None, retries=3,
                                   on_retry=lambda exc, n, delay, what: retries.append((type(exc), delay, what)))
            return await p.wait(job, plan)
        finally:
            await p.aclose()

    result = asyncio.run(go())
    assert retries == [(RateLimitedError, 2.0, "submit")]  # the backoff alone would wait 1 s
    assert veo.counts["submit_attempts"] == 2 and veo.counts["submissions"] == 1
    assert result.clip_path.is_file()


def test_rate_limit_delay_from_the_retry_info_detail(veo, tmp_path):
    detail = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34s"}]
    veo.inject("submit", {"status": 429, "json": google_error(429, "RESOURCE_EXHAUSTED", "Resource exhausted.",
                                                              details=detail)})
    p = provider()
    plan = p.prepare(request_for(GEMINI, "text-to-video", Inputs(tmp_path / "in"), tmp_path / "c" / "a.mp4"))
    with pytest.raises(RateLimitedError) as err:
        asyncio.run(p.submit(plan))
    assert err.value.retry_after == 34 and err.value.not_created and "retry after 34 s" in str(err.value)


def test_server_errors_while_polling_are_followed_again_without_a_new_submission(veo, tmp_path):
    veo.inject("status", {"status": 503, "json": google_error(503, "UNAVAILABLE", "The service is currently "
                                                              "unavailable.")},
               {"status": 500, "json": google_error(500, "INTERNAL", "Internal error encountered."),
                "headers": {"Retry-After": "0"}})
    retries = []

    async def go():
        p = provider()
        try:
            plan = p.prepare(request_for(VERTEX, "text-to-video", Inputs(tmp_path / "in"), tmp_path / "c" / "a.mp4"))
            job = await p.submit(plan)
            return await follow_job(p, job, plan, lambda e: None, retries=3, timeout_s=60,
                                    on_retry=lambda exc, n, delay, what: retries.append((type(exc), delay)))
        finally:
            await p.aclose()

    result = asyncio.run(go())
    # the first waits the queue's backoff, the second the service's Retry-After
    assert retries == [(TransientError, 1.0), (TransientError, 0.0)] and veo.counts["submissions"] == 1
    assert result.clip_path.is_file()


def test_a_job_that_never_finishes_times_out_and_is_no_longer_followed(veo, tmp_path):
    veo.inject("job", {"never_finish": True})

    async def go():
        p = provider()
        try:
            plan = p.prepare(request_for(GEMINI, "text-to-video", Inputs(tmp_path / "in"), tmp_path / "c" / "a.mp4"))
            job = await p.submit(plan)
            with pytest.raises(ProviderTimeoutError):
                await follow_job(p, job, plan, lambda e: None, retries=0, timeout_s=0.5)
            with pytest.raises(CancelledError):  # the queue cancelled it: waiting again does not follow it
                await p.wait(job, plan)
        finally:
            await p.aclose()

    asyncio.run(go())
    assert veo.counts["submissions"] == 1


def test_region_refusal_names_the_deployment_to_use(veo, tmp_path):
    veo.inject("submit", {"status": 400, "json": google_error(400, "FAILED_PRECONDITION",
                                                              "User location is not supported for the API use.")})
    with pytest.raises(UnavailableError) as err:
        render(request_for(GEMINI, "text-to-video", Inputs(tmp_path / "in"), tmp_path / "c" / "a.mp4"))
    assert "Vertex AI deployment" in str(err.value) and "GOOGLE_CLOUD_LOCATION" in str(err.value)
    assert err.value.not_created


def test_person_generation_refusal_names_the_setting(veo, tmp_path):
    with pytest.raises(InvalidRequestError) as err:
        render(request_for(VERTEX, "text-to-video", Inputs(tmp_path / "in"), tmp_path / "c" / "a.mp4",
                           person_generation="allow_all"))
    assert err.value.field == "options.person_generation" and "allowlist" in str(err.value)
    assert "allowed: allow_adult, dont_allow, allow_all" in str(err.value)
    assert veo.counts["submissions"] == 0 and err.value.not_created


def test_a_service_refusal_names_the_field(veo, tmp_path):
    veo.inject("submit", {"status": 400, "json": google_error(
        400, "INVALID_ARGUMENT", "Invalid value for negativePrompt.",
        details=[{"@type": "type.googleapis.com/google.rpc.BadRequest",
                  "fieldViolations": [{"field": "parameters.negativePrompt", "description": "too long"}]}])})
    with pytest.raises(InvalidRequestError) as err:
        render(request_for(GEMINI, "text-to-video", Inputs(tmp_path / "in"), tmp_path / "c" / "a.mp4",
                           negative_prompt="blurry"))
    assert err.value.field == "negative_prompt" and "negativePrompt" in str(err.value)


def test_a_wrong_key_is_an_auth_error(veo, tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "bad-key")
    with pytest.raises(AuthError) as err:
        render(request_for(GEMINI, "text-to-video", Inputs(tmp_path / "in"), tmp_path / "c" / "a.mp4"))
    assert "API key not valid" in str(err.value) and "bad-key" not in str(err.value)


@pytest.mark.parametrize("overrides,field", [
    (dict(reference_images="four"), "reference_images"),
    (dict(resolution="4k", duration=4), "duration"),
    (dict(aspect_ratio="21:9"), "aspect_ratio"),
])
def test_forbidden_combinations_send_nothing(veo, tmp_path, overrides, field):
    inputs = Inputs(tmp_path / "in")
    if overrides.get("reference_images") == "four":
        overrides = dict(reference_images=inputs.refs(4))
    mode = "reference-images" if "reference_images" in overrides else "text-to-video"
    with pytest.raises(InvalidRequestError) as err:
        render(request_for(GEMINI, mode, inputs, tmp_path / "c" / "a.mp4", **overrides))
    assert err.value.field == field and "allowed:" in str(err.value) and err.value.exit_code == 2
    assert veo.requests == [] and submissions(veo) == []


def test_missing_key_makes_the_deployment_unavailable_with_the_reason(veo, tmp_path, monkeypatch):
    from providers import registry
    monkeypatch.delenv("GEMINI_API_KEY")
    p = provider()
    plan = p.prepare(request_for(GEMINI, "text-to-video", Inputs(tmp_path / "in"), tmp_path / "c" / "a.mp4"))
    with pytest.raises(UnavailableError) as err:
        p.check_available(plan)
    assert "GEMINI_API_KEY" in str(err.value)
    status = registry.status("veo")
    assert not status.available and "GEMINI_API_KEY" in status.reason and "GOOGLE_CLOUD_PROJECT" in status.reason
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-proj")
    assert registry.status("veo").available  # Vertex with a project can run


def test_google_genai_3_is_refused_for_the_gemini_api_with_the_way_out(monkeypatch):
    from core.config import Settings
    from providers.veo import gemini_backend
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-test-key-0001")
    monkeypatch.setattr(gemini_backend, "genai_version", lambda: "3.6.1")
    reason = gemini_backend.GeminiBackend(Settings()).unavailable_reason()
    assert "3.6.1" in reason and "google-genai>=2.34,<3" in reason


def test_a_download_cut_short_is_fetched_again_without_a_new_submission(veo, tmp_path):
    veo.inject("media", {"drop": True})  # half the bytes, then the connection closes
    out = tmp_path / "c" / "a.mp4"
    retries = []

    async def go():
        p = provider()
        try:
            plan = p.prepare(request_for(GEMINI, "text-to-video", Inputs(tmp_path / "in"), out))
            job = await p.submit(plan)
            return await follow_job(p, job, plan, lambda e: None, retries=3, timeout_s=60,
                                    on_retry=lambda exc, n, delay, what: retries.append(type(exc)))
        finally:
            await p.aclose()

    result = asyncio.run(go())
    assert retries == [TransientError] and veo.counts["submissions"] == 1
    assert result.clip_path == out and out.is_file() and not list(out.parent.glob(".*"))
