"""The settings contract on Veo: for every model x mode of its catalog, a request that sets every universal setting
and option; each set value reaches the body the fake service received (under its Veo field) or is named in
`plan.ignored`, and `plan.sent` equals what was sent."""
from __future__ import annotations

import pytest

from providers.veo import catalog
from tests.test_veo_support import Inputs, all_modes, render, request_for, submissions, veo  # noqa: F401

# setting -> the field of predictLongRunning's `parameters` that carries it
PARAMS = {"seed": "seed", "negative_prompt": "negativePrompt", "include_audio": "generateAudio",
          "person_generation": "personGeneration", "enhance_prompt": "enhancePrompt"}


@pytest.mark.parametrize("model,mode", all_modes())
def test_every_set_setting_reaches_the_service_or_is_ignored(veo, tmp_path, model, mode):  # noqa: F811
    deployment = catalog.deployment_of(model)
    values = dict(seed=1234, negative_prompt="blurry, warped hands", include_audio=mode == "audio",
                  camera_motion="dolly_forward", camera_speed=1.5, enhance_prompt=True,
                  person_generation=catalog.person_values(deployment, "text-to-video" if mode == "audio" else mode)[0])
    out = tmp_path / "proj" / "clips" / f"{model}-{mode}.mp4"
    plan, job, result = render(request_for(model, mode, Inputs(tmp_path / "in"), out, **values))
    ignored = {x.field for x in plan.ignored}
    body = submissions(veo)[0]["body"]
    params, prompt = body["parameters"], body["instances"][0]["prompt"]
    for field, wire in PARAMS.items():
        if field == "include_audio" and deployment == "gemini" and field not in ignored:
            # the Gemini API always renders sound and has no switch: "on" is honoured without a field
            assert values[field] is True and plan.sent["include_audio"] is True and wire not in params
            continue
        if field in ignored:
            assert wire not in params or field == "include_audio", (field, params)  # an ignored value is not sent
            continue
        assert params.get(wire) == values[field], (field, wire, params)
        if field in plan.sent:
            assert plan.sent[field] == values[field], (field, plan.sent)
    assert "camera_motion" in ignored or "camera" in prompt.lower(), prompt
    if mode == "audio":
        assert "audio_prompt" in ignored or "paws crunching on snow" in prompt, prompt
