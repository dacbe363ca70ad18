"""local-sd with a tiny random Stable Diffusion pipeline built offline (tests/fakes/tiny_sd.py), loaded through the
provider's own from_pretrained path in its worker process: the asked size (also one the pipeline cannot render
directly), the same seed gives the same pixels, image-to-image from a reference, and the worker ends on aclose."""
from __future__ import annotations

import asyncio
import os

import pytest

pytest.importorskip("diffusers")
pytest.importorskip("torch")

from core.config import Settings  # noqa: E402
from core.errors import InvalidRequestError, UnavailableError  # noqa: E402
from core.images.contract import ImageRequest  # noqa: E402
from core.child_process import pid_alive  # noqa: E402
from providers.images.registry import get_image  # noqa: E402
from tests.fakes.clips import write_image  # noqa: E402
from tests.images_support import pixels, size_of  # noqa: E402


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory):
    from tests.fakes.tiny_sd import build_sd

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = tmp_path_factory.getbasetemp() / "tiny-sd"
    if not (root / "model_index.json").exists():
        build_sd(root)
    return root


def req(out, tiny_sd, **kw) -> ImageRequest:
    options = {"model_path": str(tiny_sd), "device": "cpu", "steps": 2, **kw.pop("options", {})}
    return ImageRequest(prompt="a red fox in snow", output_path=out, options=options, **kw)


def test_asked_size_same_seed_same_pixels_and_image_to_image(tiny_sd, tmp_path):
    async def go():
        provider = get_image("local-sd", Settings())
        try:
            first = await provider.generate(provider.prepare(req(tmp_path / "a.png", tiny_sd, width=72, height=36,
                                                                 seed=5, variants=2)))
            again = await provider.generate(provider.prepare(req(tmp_path / "b.png", tiny_sd, width=72, height=36,
                                                                 seed=5)))
            ref = write_image(tmp_path / "ref.png", (96, 64), noise=True)
            i2i = await provider.generate(provider.prepare(req(tmp_path / "c.png", tiny_sd, width=64, height=64,
                                                               seed=5, reference_images=[ref], strength=0.5)))
            pids = provider.worker_pids()
            return first, again, i2i, pids
        finally:
            await provider.aclose()

    first, again, i2i, pids = asyncio.run(go())
    # 72x36 is rendered at 72x40 (sides divisible by 8) and cropped: the file is the asked size
    assert [size_of(r.path) for r in first] == [(72, 36), (72, 36)] and first[0].rendered == (72, 40)
    assert [r.seed for r in first] == [5, 6]
    assert pixels(again[0].path) == pixels(first[0].path)  # the same seed, the same pixels
    assert pixels(first[1].path) != pixels(first[0].path)  # seed 6 is another picture
    assert size_of(i2i[0].path) == (64, 64) and i2i[0].cost == 0.0
    assert len(pids) == 1  # one warm worker served all four images
    assert not pid_alive(pids[0])  # aclose ended it (and freed its memory)


def test_a_folder_that_is_no_pipeline_and_an_unknown_option_are_refused_together(tmp_path):
    provider = get_image("local-sd", Settings())
    with pytest.raises(InvalidRequestError) as err:
        provider.prepare(ImageRequest(prompt="x", output_path=tmp_path / "x.png",
                                      options={"model_path": str(tmp_path), "sampler": "euler"}))
    text = str(err.value)
    assert "model_index.json" in text and "options.sampler" in text and "2 problems" in text


def test_no_gpu_and_no_device_chosen_names_the_way_to_run_on_the_cpu(tiny_sd, tmp_path, monkeypatch):
    from providers.ltx import local_device
    if local_device.detect_cached().kind != "none":
        pytest.skip("this machine has a GPU")
    provider = get_image("local-sd", Settings())
    plan = provider.prepare(req(tmp_path / "x.png", tiny_sd, options={"device": None}))
    with pytest.raises(UnavailableError) as err:
        provider.check_available(plan)
    assert "--device cpu" in str(err.value)
