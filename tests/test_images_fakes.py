"""The image fakes are as strict as the services they stand for, so a field the product sends wrongly fails a test:
unknown fields, values outside what an endpoint takes and rules between fields are refused by name (plain httpx,
no product code)."""
from __future__ import annotations

import base64

import httpx
import pytest

from tests.fakes.gemini_images_fake import GeminiImagesFake
from tests.fakes.image_service import make_image
from tests.fakes.openai_images_fake import OpenAIImagesFake
from tests.fakes.stability_fake import StabilityFake

PNG = make_image(64, 36, "ref")


@pytest.mark.parametrize("body,param", [
    ({"model": "gpt-image-2", "prompt": "x", "seed": 3}, "seed"),                       # no such field
    ({"model": "gpt-image-2", "prompt": "x", "size": "1000x563"}, "size"),              # not divisible by 16
    ({"model": "gpt-image-1.5", "prompt": "x", "size": "1280x720"}, "size"),            # three sizes only
    ({"model": "gpt-image-2", "prompt": "x", "quality": "max"}, "quality"),             # 2.5 only
    ({"model": "gpt-image-1", "prompt": "x"}, "model"),                                 # shut down
    ({"model": "gpt-image-2", "prompt": "x", "response_format": "url"}, "response_format")])
def test_openai_refuses_what_the_endpoint_does_not_take(body, param):
    with OpenAIImagesFake() as fake:
        r = httpx.post(f"{fake.url}/v1/images/generations", json=body, headers={"Authorization": "Bearer sk-x"})
    assert r.status_code in (400, 404) and r.json()["error"]["param"] == param


def test_openai_edit_refuses_input_fidelity_for_gpt_image_2():
    with OpenAIImagesFake() as fake:
        r = httpx.post(f"{fake.url}/v1/images/edits", data={"model": "gpt-image-2", "prompt": "x",
                                                            "input_fidelity": "high"},
                       files={"image[]": ("a.png", PNG, "image/png")}, headers={"Authorization": "Bearer sk-x"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "input_fidelity"


@pytest.mark.parametrize("endpoint,fields,files,word", [
    ("core", {"prompt": "x"}, {"image": ("a.png", PNG, "image/png")}, "image: unknown field"),
    ("sd3", {"prompt": "x", "mode": "image-to-image", "strength": "0.5", "aspect_ratio": "16:9"},
     {"image": ("a.png", PNG, "image/png")}, "aspect_ratio"),
    ("sd3", {"prompt": "x", "mode": "image-to-image"}, {"image": ("a.png", PNG, "image/png")}, "strength"),
    ("ultra", {"prompt": "x", "aspect_ratio": "4:3"}, {"none": ("", b"")}, "aspect_ratio"),
    ("sd3", {"prompt": "x", "model": "sd3.5-large-turbo", "negative_prompt": "y"}, {"none": ("", b"")},
     "negative_prompt")])
def test_stability_refuses_forms_the_endpoint_does_not_take(endpoint, fields, files, word):
    with StabilityFake() as fake:
        r = httpx.post(f"{fake.url}/v2beta/stable-image/generate/{endpoint}", data=fields, files=files,
                       headers={"Authorization": "Bearer sk-x", "Accept": "image/*"})
    assert r.status_code == 400 and word in r.json()["errors"][0]


def test_stability_refuses_a_json_body():
    with StabilityFake() as fake:
        r = httpx.post(f"{fake.url}/v2beta/stable-image/generate/core", json={"prompt": "x"},
                       headers={"Authorization": "Bearer sk-x"})
    assert r.status_code == 400 and "multipart/form-data" in r.json()["errors"][0]


@pytest.mark.parametrize("model,config,word", [
    ("gemini-2.5-flash-image", {"responseModalities": ["IMAGE"], "imageConfig": {"imageSize": "2K"}}, "imageSize"),
    ("gemini-3.1-flash-image", {"responseModalities": ["IMAGE"], "imageConfig": {"aspectRatio": "5:3"}},
     "aspectRatio"),
    ("gemini-3.1-flash-image", {"responseModalities": ["TEXT"]}, "responseModalities"),
    ("gemini-3.1-flash-image", {"responseModalities": ["IMAGE"], "candidateCount": 2}, "candidates"),
    ("gemini-3.1-flash-image", {"responseModalities": ["IMAGE"], "negativePrompt": "x"}, "negativePrompt")])
def test_gemini_refuses_configs_the_model_does_not_take(model, config, word):
    body = {"contents": [{"role": "user", "parts": [{"text": "x"}, {"inlineData": {
        "mimeType": "image/png", "data": base64.b64encode(PNG).decode()}}]}], "generationConfig": config}
    with GeminiImagesFake() as fake:
        r = httpx.post(f"{fake.url}/v1beta/models/{model}:generateContent", json=body,
                       headers={"x-goog-api-key": "k"})
    assert r.status_code == 400 and word in r.json()["error"]["message"]
