"""The work of one render is done once: one `prepare` per scene for planning, estimating, submitting and waiting;
each input image decoded at most once and each input video probed at most once."""
from __future__ import annotations

import asyncio
from collections import Counter

from core.config import Settings
from core.render.queue import RenderQueue
from core.video import media
from core.video.project import Keyframe, Scene
from core.video.render_settings import RenderSettings
from providers.ltx_video import LTXVideoProvider
from tests.test_ltx_support import FAST, Inputs, fal, project  # noqa: F401


def test_one_prepare_one_decode_one_probe_per_render(fal, project, tmp_path, monkeypatch):  # noqa: F811
    inputs = Inputs(tmp_path / "in")
    store = project
    start = store.import_asset(inputs.start, "images")
    key = store.import_asset(inputs.key, "images")
    other = store.import_asset(inputs.end, "images")
    video = store.import_asset(inputs.video, "clips")
    store.project.render = RenderSettings(provider="ltx-video")
    store.project.scenes += [
        Scene(prompt="a lighthouse", duration=4.0, start_frame=start),
        Scene(prompt="the same harbour at night", duration=3.0, source_video=video),
        Scene(prompt="a gull flies past", duration=4.0, start_frame=other,
              keyframes=[Keyframe(seconds=2.0, image=key)], render=RenderSettings(model="ltx-video-13b")),
    ]
    store.save()

    decoded, probed, prepared = Counter(), Counter(), Counter()
    real_is_image, real_probe = media.is_image, media.probe
    monkeypatch.setattr(media, "is_image", lambda p: decoded.update([str(p)]) or real_is_image(p))
    monkeypatch.setattr(media, "probe", lambda p, *a, **k: probed.update([str(p)]) or real_probe(p, *a, **k))

    class Counting(LTXVideoProvider):
        def prepare(self, request):
            prepared.update([request.prompt])
            return super().prepare(request)

    provider = Counting(Settings(**FAST))
    queue = RenderQueue(store, Settings(**FAST), provider_getter=lambda name, s: provider)
    plan = queue.plan()
    assert plan.total_cost > 0
    summary = asyncio.run(queue.run(plan=plan))
    assert len(summary.done) == 3, summary.failed

    assert set(prepared.values()) == {1}, prepared  # planning, estimate, submit and wait: one prepare each
    inputs_in_project = {str(store.resolve(p)) for p in (start, key, other, video)}
    assert all(n <= 1 for path, n in decoded.items() if path in inputs_in_project), decoded
    assert probed[str(store.resolve(video))] <= 1, probed
