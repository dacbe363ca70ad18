"""The fake ComfyUI server itself, spoken to with a plain HTTP/websocket client: it must behave like the real 0.3.x
server where the app's bugs hid, or the other ComfyUI tests prove nothing."""
from __future__ import annotations

import asyncio
import io
import json

import aiohttp
import pytest
from PIL import Image

from tests.fakes.comfyui_fake import OBJECT_INFO, FakeComfyUI

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def fake():
    server = FakeComfyUI().start()
    yield server
    server.stop()


def webp_graph(length: int = 49) -> dict:
    return {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ltx-video-2b-v0.9.5.safetensors"}},
            "4": {"class_type": "EmptyLTXVLatentVideo", "inputs": {"width": 64, "height": 64, "length": length,
                                                                   "batch_size": 1}},
            "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["1", 2]}},
            "7": {"class_type": "SaveAnimatedWEBP", "inputs": {"images": ["5", 0], "filename_prefix": "t",
                                                               "fps": 24.0, "lossless": True, "quality": 80,
                                                               "method": "default"}}}


def sampled_graph() -> dict:
    """The same with a sampler between the latent and the decode (a sampler is what a hung prompt hangs in)."""
    g = webp_graph(9)
    g["2"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["1", 1]}}
    g["3"] = {"class_type": "KSampler", "inputs": {
        "model": ["1", 0], "seed": 1, "steps": 4, "cfg": 3.0, "sampler_name": "euler", "scheduler": "simple",
        "positive": ["2", 0], "negative": ["2", 0], "latent_image": ["4", 0], "denoise": 1.0}}
    g["5"]["inputs"]["samples"] = ["3", 0]
    return g


async def _post(session, url, graph, **extra):
    async with session.post(url + "/prompt", json={"prompt": graph, **extra}) as r:
        return r.status, await r.json()


async def _until_done(session, url, pid):
    for _ in range(400):
        async with session.get(f"{url}/history/{pid}") as r:
            data = await r.json()
        if data:
            return data[pid]
        await asyncio.sleep(0.02)
    raise AssertionError("the prompt never finished")


async def _drain(ws, seconds=0.3) -> list[str]:
    kinds = []
    try:
        while True:
            msg = await asyncio.wait_for(ws.receive(), seconds)
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            kinds.append(json.loads(msg.data)["type"])
    except asyncio.TimeoutError:
        pass
    return kinds


def test_only_the_newest_socket_of_a_client_id_hears_the_prompt(fake):
    async def go():
        async with aiohttp.ClientSession() as s:
            old = await s.ws_connect(f"{fake.url}/ws?clientId=same")
            new = await s.ws_connect(f"{fake.url}/ws?clientId=same")
            status, body = await _post(s, fake.url, webp_graph(9), client_id="same")
            assert status == 200
            await _until_done(s, fake.url, body["prompt_id"])
            heard_old, heard_new = await _drain(old), await _drain(new)
            # the older socket closing takes the id's entry with it: now nobody hears that id
            await old.close()
            await asyncio.sleep(0.1)
            _, body = await _post(s, fake.url, webp_graph(9), client_id="same")
            await _until_done(s, fake.url, body["prompt_id"])
            heard_after = await _drain(new)
            await new.close()
            return heard_old, heard_new, heard_after
    heard_old, heard_new, heard_after = asyncio.run(go())
    assert heard_old == ["status"]
    assert heard_new[0] == "status" and "execution_success" in heard_new and "executed" in heard_new
    assert heard_after == []


def test_uploads_overwrite_by_name_and_prompts_read_them_when_they_run(fake):
    def png(color) -> bytes:
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), color).save(buf, format="PNG")
        return buf.getvalue()

    async def go():
        async with aiohttp.ClientSession() as s:
            names = []
            for color, overwrite in (((255, 0, 0), "true"), ((0, 0, 255), "true"), ((0, 255, 0), "false")):
                form = aiohttp.FormData()
                form.add_field("image", png(color), filename="frame.png")
                form.add_field("overwrite", overwrite)
                async with s.post(fake.url + "/upload/image", data=form) as r:
                    names.append((await r.json())["name"])
            return names
    assert asyncio.run(go()) == ["frame.png", "frame.png", "frame (1).png"]
    assert Image.open(io.BytesIO(fake.uploads["frame.png"])).getpixel((1, 1)) == (0, 0, 255)


def test_pillow_merges_identical_frames_like_the_real_save_node(fake):
    async def go(still):
        fake.still = still
        async with aiohttp.ClientSession() as s:
            _, body = await _post(s, fake.url, webp_graph(49))
            entry = await _until_done(s, fake.url, body["prompt_id"])
            item = entry["outputs"]["7"]["images"][0]
            async with s.get(fake.url + "/view", params={"filename": item["filename"], "subfolder": "",
                                                         "type": "output"}) as r:
                return entry["outputs"]["7"]["animated"], await r.read()
    for still, frames in ((False, 49), (True, 1)):
        animated, data = asyncio.run(go(still))
        assert animated == [True] and getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == frames


def test_history_queue_and_restart(fake):
    async def go():
        async with aiohttp.ClientSession() as s:
            async with s.get(fake.url + "/history/no-such-prompt") as r:
                unknown = await r.json()
            fake.hang_next = True
            _, first = await _post(s, fake.url, sampled_graph(), prompt_id="mine-1")
            _, second = await _post(s, fake.url, webp_graph(9))
            for _ in range(200):
                if fake.running:
                    break
                await asyncio.sleep(0.02)
            async with s.get(fake.url + "/queue") as r:
                queue = await r.json()
            fake.restart()
            async with s.get(fake.url + "/queue") as r:
                after = await r.json()
            async with s.get(f"{fake.url}/history/{first['prompt_id']}") as r:
                forgotten = await r.json()
            return unknown, first, second, queue, after, forgotten
    unknown, first, second, queue, after, forgotten = asyncio.run(go())
    assert unknown == {} and first["prompt_id"] == "mine-1"
    assert [i[1] for i in queue["queue_running"]] == ["mine-1"]
    assert [i[1] for i in queue["queue_pending"]] == [second["prompt_id"]]
    assert after == {"queue_running": [], "queue_pending": []} and forgotten == {}


def test_object_info_is_the_recorded_one_with_this_servers_files(fake):
    fake.uploads["imageai-abc.png"] = b"x"
    info = FakeComfyUI(missing_nodes=("LTXVAddGuide",)).info()
    recorded = json.loads(OBJECT_INFO.read_text())
    newer = json.loads(OBJECT_INFO.with_name("object_info_newer.json").read_text())  # the LTX-2.x nodes added
    assert len(recorded) == 478 and set(info) == (set(recorded) | set(newer)) - {"LTXVAddGuide"}
    own = fake.info()
    assert own["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] == fake.checkpoints
    assert own["LoadImage"]["input"]["required"]["image"][0] == ["imageai-abc.png"]
    assert own["KSampler"] == recorded["KSampler"]


@pytest.mark.parametrize("change,kind", [
    (lambda g: g["4"]["inputs"].update(height=32), "value_smaller_than_min"),
    (lambda g: g["4"]["inputs"].update(width="wide"), "invalid_input_type"),
    (lambda g: g["4"]["inputs"].pop("length"), "required_input_missing"),
    (lambda g: g["1"]["inputs"].update(ckpt_name="nope.safetensors"), "value_not_in_list"),
    (lambda g: g["5"]["inputs"].update(vae=["1", 0]), "return_type_mismatch"),
    (lambda g: g["7"].update(class_type="NoSuchNode"), "invalid_prompt"),
])
def test_prompts_are_validated_like_the_real_server(fake, change, kind):
    graph = webp_graph(9)
    change(graph)

    async def go():
        async with aiohttp.ClientSession() as s:
            return await _post(s, fake.url, graph)
    status, body = asyncio.run(go())
    assert status == 400
    kinds = [body["error"]["type"]] + [e["type"] for n in body["node_errors"].values() for e in n["errors"]]
    assert kind in kinds
    assert not fake.received


def test_view_streams_a_large_body(fake):
    fake.files[("", "big.mp4")] = b"HUGE"
    fake.huge_bytes = 8 * 1024 * 1024

    async def go():
        async with aiohttp.ClientSession() as s:
            async with s.get(fake.url + "/view", params={"filename": "big.mp4", "type": "output"}) as r:
                total = 0
                async for chunk in r.content.iter_chunked(1 << 16):
                    total += len(chunk)
                return r.headers.get("Transfer-Encoding"), total
    encoding, total = asyncio.run(go())
    assert encoding == "chunked" and total == 8 * 1024 * 1024
