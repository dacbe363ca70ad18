"""Docs/Video-Provider-Comparison.md is generated from the Veo and LTX catalogs (providers/comparison_doc.py): the
page on disk must be exactly what the catalogs give today, a catalog change must show on the page, and the scene
prices it quotes must be the estimates the providers' own planners make."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InvalidRequestError
from core.render.contract import RenderRequest
from core.video.render_settings import RenderSettings, layer_settings
from providers import comparison_doc
from providers.ltx import catalog as ltx
from providers.ltx import catalog_data as ltx_data
from providers.veo import catalog as veo
from providers.veo import catalog_data as veo_data

DOC = Path(__file__).resolve().parent.parent / "Docs" / "Video-Provider-Comparison.md"


def test_the_page_is_what_the_catalogs_give():
    assert DOC.read_text(encoding="utf-8") == comparison_doc.render(), \
        "the page drifted from the catalogs: python -m providers.comparison_doc --write"


def test_every_model_on_every_deployment_has_its_rows():
    text = comparison_doc.render()
    expected = [("veo", m, veo.label_of(veo.deployment_of(m)).removeprefix("the ")) for m in veo.model_ids()]
    expected += [("ltx-video", m, comparison_doc.LTX_DEPLOYMENTS[d]) for m in ltx.model_ids()
                 for d in ltx.deployments_of(m)]
    for provider, model, deployment in expected:
        prefix = f"| {provider} | `{model}` | {deployment} |"
        assert text.count(prefix) == 2, prefix  # the models table and the prices table


def test_a_veo_price_change_shows_on_the_page(monkeypatch):
    entry = dict(veo_data.MODELS["veo-3.1-fast-generate-preview"])
    entry["price_per_second"] = {**entry["price_per_second"], "1080p": 0.19}
    monkeypatch.setitem(veo_data.MODELS, "veo-3.1-fast-generate-preview", entry)
    text = comparison_doc.render()
    assert text != DOC.read_text(encoding="utf-8")
    assert "1080p $0.19" in text and "| $1.52 |" in text  # the rate and an 8 s scene at that rate


def test_an_ltx_change_shows_on_the_page(monkeypatch):
    model = dict(ltx_data.MODELS["ltx-2-pro"])
    fal = dict(model["deployments"]["fal"], durations=[6, 8, 12])
    model["deployments"] = {**model["deployments"], "fal": fal}
    monkeypatch.setitem(ltx_data.MODELS, "ltx-2-pro", model)
    text = comparison_doc.render()
    assert text != DOC.read_text(encoding="utf-8")
    assert "| ltx-video | `ltx-2-pro` | fal | 1080p, 1440p, 4K | 25, 50 | 16:9 | 6, 8, 12 s |" in text


def _estimate(row: comparison_doc.Row, seconds: float):
    from providers import registry
    layered = layer_settings([("project", RenderSettings(provider=row.provider, model=row.model,
                                                         deployment=row.deployment if row.provider != "veo" else None,
                                                         resolution=comparison_doc.SCENE_RES,
                                                         aspect_ratio="16:9"))])
    request = RenderRequest(prompt="a lighthouse at dusk", layered=layered, cut_seconds=seconds,
                            output_path=Path("/nonexistent/clips/x.mp4"))
    return registry.get(row.provider).prepare(request)


HOSTED = [r for r in comparison_doc.rows() if r.hosted]


@pytest.mark.parametrize("seconds", [comparison_doc.SHORT, comparison_doc.LONG])
@pytest.mark.parametrize("row", HOSTED, ids=lambda r: f"{r.model}@{r.deployment}")
def test_scene_prices_on_the_page_are_the_planners_estimates(row, seconds):
    quoted = row.scene_cost(seconds)
    if quoted is None:  # the page says "split the scene": the planner refuses the length, naming it
        with pytest.raises(InvalidRequestError) as err:
            _estimate(row, seconds)
        assert "duration" in str(err.value)
        return
    plan = _estimate(row, seconds)
    usd, length, resolution = quoted
    assert plan.cost == pytest.approx(usd, abs=0.005)
    assert plan.render_seconds == pytest.approx(length)
    assert plan.sent.get("resolution", resolution) in (resolution, veo.WIRE_RESOLUTION.get(resolution))
