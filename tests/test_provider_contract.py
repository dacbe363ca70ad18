"""The contract every registered provider must pass (parametrised over the registry, so each new provider is
checked the day it is registered)."""
import asyncio

import pytest

from core.errors import ImageAIError, InvalidRequestError, UnavailableError
from core.video.media import probe
from core.video.render_settings import RenderSettings
from providers import registry
from providers.base import Capabilities, RenderRequest, VideoProvider

NAMES = registry.names()


def provider_or_skip(name) -> VideoProvider:
    try:
        return registry.get(name)
    except UnavailableError as exc:
        status = registry.status(name)
        assert not status.available and status.reason == str(exc)
        pytest.skip(f"{name} unavailable here: {exc}")


@pytest.mark.parametrize("name", NAMES)
def test_status_never_raises_and_explains(name):
    status = registry.status(name)
    assert status.name == name and status.display_name
    if not status.available:
        assert len(status.reason) > 10


@pytest.mark.parametrize("name", NAMES)
def test_capabilities_are_complete(name):
    provider = provider_or_skip(name)
    caps = provider.capabilities()
    assert isinstance(caps, Capabilities) and caps.models
    for model in caps.models:
        assert model.id and model.label and model.resolutions and model.aspect_ratios and model.fps
        assert all(price >= 0 for price in model.price_per_second.values())
        assert model.min_duration <= model.max_duration


@pytest.mark.parametrize("name", NAMES)
def test_unknown_model_is_refused_with_allowed_ids(name, tmp_path):
    provider = provider_or_skip(name)
    request = RenderRequest(prompt="a test", settings=RenderSettings(provider=name, model="no-such-model"),
                            output_path=tmp_path / "x.mp4")
    with pytest.raises(InvalidRequestError) as err:
        provider.prepare(request)
    assert provider.capabilities().models[0].id in str(err.value)


@pytest.mark.parametrize("name", NAMES)
def test_estimate_matches_price_table(name, tmp_path):
    provider = provider_or_skip(name)
    model = provider.capabilities().models[0]
    settings = RenderSettings(provider=name, model=model.id, resolution=model.resolutions[0],
                              aspect_ratio=model.aspect_ratios[0], fps=model.fps[0],
                              duration=(model.durations[0] if model.durations else model.min_duration))
    request = RenderRequest(prompt="a test", settings=settings, output_path=tmp_path / "x.mp4")
    expected = (model.price_per_video if model.price_per_video is not None
                else (model.cost_per_second(settings.resolution) or 0) * settings.duration)
    plan = provider.prepare(request)  # no network: the estimate a user sees before paying
    assert plan.cost == pytest.approx(expected)
    assert plan.render_seconds == pytest.approx(settings.duration)
    assert plan.adjustments == []  # every value was one the model offers


@pytest.mark.parametrize("name", NAMES)
def test_a_request_with_nothing_set_takes_the_models_defaults(name, tmp_path):
    provider = provider_or_skip(name)
    request = RenderRequest(prompt="a test", settings=RenderSettings(provider=name), output_path=tmp_path / "x.mp4")
    plan = provider.prepare(request)
    model = provider.capabilities().model(plan.model)
    assert plan.adjustments == [] and plan.ignored == []  # nothing was asked for, so nothing differs
    for key in ("resolution", "aspect_ratio", "fps", "duration"):
        if key in model.defaults and key in plan.sent:
            assert plan.sent[key] == model.defaults[key], key
    assert plan.cost >= 0 and plan.render_seconds > 0 and plan.settings_hash


@pytest.mark.parametrize("name", [n for n in NAMES if n == "animatic"])
def test_offline_provider_renders_a_playable_clip(name, tmp_path):
    provider = provider_or_skip(name)
    model = provider.capabilities().models[0]
    settings = RenderSettings(provider=name, model=model.id, resolution="480p", fps=24, duration=1.0)
    request = RenderRequest(prompt="contract", settings=settings, output_path=tmp_path / "c.mp4", work_dir=tmp_path)
    plan = provider.prepare(request)
    provider.check_available(plan)

    async def go():
        job = await provider.submit(plan)
        assert isinstance(job, str) and job
        return await provider.wait(job, plan)

    result = asyncio.run(go())
    info = probe(result.clip_path)
    assert info.has_video and abs(info.duration - 1.0) < 0.05 and result.cost == 0


def test_errors_carry_exit_codes():
    assert InvalidRequestError("x", field="fps", allowed=[24, 30]).exit_code == 2
    assert "allowed: 24, 30" in str(InvalidRequestError("bad", field="fps", allowed=[24, 30]))
    assert UnavailableError("x").exit_code == 3 and ImageAIError("x").exit_code == 1
