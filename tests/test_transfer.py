"""Bounded downloads (providers/ltx/transfer.py) against real HTTP servers on 127.0.0.1 (aiohttp): a body over the
cap stops early and leaves nothing, redirects are followed hop by hop up to a limit and only to http(s), a URL
that is not an http(s) URL never reaches the network, a connection cut mid-body leaves the destination as it was.
Every failure is a typed ImageAIError."""
from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from aiohttp import web

from core.config import Settings
from core.errors import BadOutputError, ImageAIError, TransientError
from providers.ltx import transfer
from providers.ltx.transfer import MIB, download_cap_bytes, download_clip, stream_to_file
from tests.fakes.clips import make_clip, write_image


class Server:
    """One aiohttp app on 127.0.0.1 in the test's own event loop; `hits` counts requests per path, `sent` the body
    bytes each streaming handler managed to write before the client went away."""

    def __init__(self):
        self.app = web.Application()
        self.hits: dict[str, int] = {}
        self.sent: dict[str, int] = {}
        self.finished: dict[str, asyncio.Event] = {}
        self.url = ""

    def route(self, path: str, handler) -> None:
        async def counted(request):
            self.hits[path] = self.hits.get(path, 0) + 1
            return await handler(request)
        self.app.router.add_get(path, counted)

    @contextlib.asynccontextmanager
    async def running(self):
        runner = web.AppRunner(self.app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            await runner.cleanup()

    def endless(self, path: str, *, declare: int | None = None) -> None:
        """Streams zeros in 1 MiB chunks up to 1 GiB (declared in Content-Length when `declare`)."""
        done = self.finished.setdefault(path, asyncio.Event())

        async def handler(request):
            resp = web.StreamResponse(headers={"Content-Type": "video/mp4"})
            if declare:
                resp.content_length = declare
            await resp.prepare(request)
            self.sent[path] = 0
            try:
                for _ in range(1024):
                    await resp.write(b"\0" * MIB)
                    self.sent[path] += MIB
            except (ConnectionError, RuntimeError):  # the client hung up
                pass
            finally:
                done.set()
            return resp
        self.route(path, handler)


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(transfer, "RETRY_BACKOFF_S", 0.001)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


CLIP = make_clip(2.0, fps=24)


async def _serve_clip(request):
    return web.Response(body=CLIP, content_type="video/mp4")


def test_a_clip_is_downloaded_whole_and_renamed_into_place(tmp_path):
    async def go():
        srv = Server()
        srv.route("/clip.mp4", _serve_clip)
        async with srv.running():
            seen = []
            info = await download_clip("fal", f"{srv.url}/clip.mp4", tmp_path / "clips" / "take.mp4",
                                       expected_duration=2.0, progress=lambda done, total: seen.append((done, total)))
        return info, seen
    info, seen = asyncio.run(go())
    assert (tmp_path / "clips" / "take.mp4").read_bytes() == CLIP
    assert files_in(tmp_path / "clips") == ["take.mp4"]  # no part file left
    assert info.path == tmp_path / "clips" / "take.mp4" and info.duration == pytest.approx(2.0, abs=0.05)
    assert seen[-1] == (len(CLIP), len(CLIP))


def test_a_body_over_the_cap_stops_early_and_leaves_no_file(tmp_path):
    async def go():
        srv = Server()
        srv.endless("/huge.mp4")
        async with srv.running():
            with pytest.raises(BadOutputError) as info:
                await download_clip("fal", f"{srv.url}/huge.mp4", tmp_path / "take.mp4", expected_duration=6.0,
                                    cap=4 * MIB)
            await asyncio.wait_for(srv.finished["/huge.mp4"].wait(), 30)  # the handler saw the hang-up
        return info.value, srv
    err, srv = asyncio.run(go())
    assert "larger than its 4 MiB cap" in str(err) and "download_cap_mb" in str(err)
    assert not err.retryable and srv.hits["/huge.mp4"] == 1  # a re-fetch would repeat it: fetched once
    assert srv.sent["/huge.mp4"] < 64 * MIB  # of a 1 GiB body (socket buffers hold a few MiB more than the cap)
    assert files_in(tmp_path) == []


def test_a_declared_length_over_the_cap_is_refused_before_the_body(tmp_path):
    async def go():
        srv = Server()
        srv.endless("/declared.mp4", declare=1024 * MIB)
        async with srv.running():
            with pytest.raises(BadOutputError) as info:
                await download_clip("replicate", f"{srv.url}/declared.mp4", tmp_path / "take.mp4",
                                    expected_duration=6.0, cap=4 * MIB)
            await asyncio.wait_for(srv.finished["/declared.mp4"].wait(), 30)
        return info.value, srv
    err, srv = asyncio.run(go())
    assert "(1024 MiB) is larger than its 4 MiB cap" in str(err)
    assert srv.sent["/declared.mp4"] < 64 * MIB and files_in(tmp_path) == []


def test_without_a_cap_the_clip_length_sets_one(tmp_path):
    # 0.5 s expected: the derived cap is 32 MiB plus 10 MB; a 1 GiB body is cut off there
    cap = download_cap_bytes(None, None, 0.5)
    assert cap == 10_000_000 + 32 * MIB

    async def go():
        srv = Server()
        srv.endless("/huge.mp4")
        async with srv.running():
            with pytest.raises(BadOutputError) as info:
                await download_clip("fal", f"{srv.url}/huge.mp4", tmp_path / "take.mp4", expected_duration=0.5)
            await asyncio.wait_for(srv.finished["/huge.mp4"].wait(), 30)
        return info.value, srv
    err, srv = asyncio.run(go())
    assert f"{cap / MIB:.0f} MiB cap" in str(err)
    assert srv.sent["/huge.mp4"] < cap + 32 * MIB and files_in(tmp_path) == []


def test_the_cap_follows_the_frame_area_and_length_and_the_setting_raises_it():
    assert download_cap_bytes(1920, 1080, 10) == 200_000_000 + 32 * MIB
    assert download_cap_bytes(3840, 2160, 10) == 800_000_000 + 32 * MIB
    assert download_cap_bytes(960, 540, 10) == 50_000_000 + 32 * MIB
    assert download_cap_bytes(1920, 1080, None) == download_cap_bytes(1920, 1080, transfer.CAP_UNKNOWN_SECONDS)
    assert download_cap_bytes(960, 540, 10, Settings(download_cap_mb=2000)) == 2000 * MIB
    assert download_cap_bytes(3840, 2160, 10, Settings(download_cap_mb=10)) == 800_000_000 + 32 * MIB


def test_a_redirect_loop_is_a_bad_output_after_five_hops(tmp_path):
    async def go():
        srv = Server()
        srv.route("/loop", lambda request: _redirect("/loop"))
        async with srv.running():
            with pytest.raises(BadOutputError) as info:
                await download_clip("fal", f"{srv.url}/loop", tmp_path / "take.mp4", expected_duration=2.0)
        return info.value, srv
    err, srv = asyncio.run(go())
    assert "redirects more than 5 times" in str(err)
    assert srv.hits["/loop"] == transfer.MAX_REDIRECTS + 1 and files_in(tmp_path) == []


async def _redirect(where: str):
    raise web.HTTPFound(where)


def test_five_redirects_are_followed(tmp_path):
    async def go():
        srv = Server()
        for i in range(1, 6):
            srv.route(f"/hop{i}", lambda request, i=i: _redirect(f"/hop{i - 1}" if i > 1 else "/clip.mp4"))
        srv.route("/clip.mp4", _serve_clip)
        async with srv.running():
            await download_clip("fal", f"{srv.url}/hop5", tmp_path / "take.mp4", expected_duration=2.0)
        return srv
    srv = asyncio.run(go())
    assert (tmp_path / "take.mp4").read_bytes() == CLIP and srv.hits["/clip.mp4"] == 1


def test_a_redirect_to_a_file_url_is_refused(tmp_path):
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(CLIP)

    async def go():
        srv = Server()
        srv.route("/sneaky", lambda request: _redirect(secret.as_uri()))
        async with srv.running():
            with pytest.raises(BadOutputError) as info:
                await download_clip("fal", f"{srv.url}/sneaky", tmp_path / "clips" / "take.mp4",
                                    expected_duration=2.0)
        return info.value
    err = asyncio.run(go())
    assert "redirects to a file: URL; only http and https are allowed" in str(err)
    assert files_in(tmp_path / "clips") == []


@pytest.mark.parametrize("url,words", [
    (42, "video.url is the number 42, not a URL; only http and https URLs are allowed"),
    (None, "video.url is missing, not a URL"),
    ({"href": "x"}, "video.url is a dict"),
    ("", "video.url is empty"),
    ("file:///etc/passwd", "video.url is a file: URL; only http and https URLs are allowed"),
    ("data:video/mp4;base64,AAAA", "video.url is a data: URL; only http and https URLs are allowed"),
    ("ftp://example.com/clip.mp4", "video.url is a ftp: URL"),
    ("http://", "video.url has no host"),
], ids=["number", "none", "dict", "empty", "file", "data", "ftp", "no-host"])
def test_a_result_url_that_is_not_an_http_url_names_the_field(tmp_path, url, words):
    with pytest.raises(BadOutputError) as info:
        asyncio.run(download_clip("fal", url, tmp_path / "take.mp4", expected_duration=2.0, field="video.url"))
    assert words in str(info.value) and info.value.field == "video.url"
    assert files_in(tmp_path) == []


def test_a_connection_cut_mid_body_leaves_the_old_take_and_no_part_file(tmp_path):
    dest = tmp_path / "take.mp4"
    dest.write_bytes(b"the previous take")

    async def cut(request):
        resp = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        resp.content_length = len(CLIP)
        await resp.prepare(request)
        await resp.write(CLIP[: len(CLIP) // 2])
        request.transport.close()  # hang up half-way
        return resp

    async def go():
        srv = Server()
        srv.route("/cut.mp4", cut)
        async with srv.running():
            with pytest.raises(TransientError) as info:
                await download_clip("fal", f"{srv.url}/cut.mp4", dest, expected_duration=2.0)
        return info.value, srv
    err, srv = asyncio.run(go())
    assert err.retryable and not err.not_created and "could not be downloaded" in str(err)
    assert srv.hits["/cut.mp4"] == transfer.DOWNLOAD_ATTEMPTS  # a download is free to repeat
    assert dest.read_bytes() == b"the previous take" and files_in(tmp_path) == ["take.mp4"]


def test_http_errors_are_typed(tmp_path):
    async def unavailable(request):
        return web.Response(status=503, text="busy")

    async def gone(request):
        return web.Response(status=404, text="no such object")

    async def teapot(request):
        return web.Response(status=418, text="teapot")

    async def go():
        srv = Server()
        srv.route("/busy", unavailable)
        srv.route("/gone", gone)
        srv.route("/teapot", teapot)
        errors = {}
        async with srv.running():
            for path in ("/busy", "/gone", "/teapot"):
                try:
                    await download_clip("fal", srv.url + path, tmp_path / "take.mp4", expected_duration=2.0)
                except Exception as exc:  # noqa: BLE001 - the test checks every kind is typed
                    errors[path] = exc
        return errors, srv
    errors, srv = asyncio.run(go())
    assert all(isinstance(e, ImageAIError) for e in errors.values()), errors
    assert isinstance(errors["/busy"], TransientError) and srv.hits["/busy"] == transfer.DOWNLOAD_ATTEMPTS
    assert isinstance(errors["/gone"], BadOutputError) and srv.hits["/gone"] == 1
    assert "answered HTTP 404" in str(errors["/gone"])
    assert errors["/teapot"].kind == "invalid_request" and srv.hits["/teapot"] == 1
    assert files_in(tmp_path) == []


def test_a_server_that_is_not_there_is_transient(tmp_path):
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransientError):
        asyncio.run(download_clip("fal", f"http://127.0.0.1:{port}/clip.mp4", tmp_path / "take.mp4",
                                  expected_duration=2.0))
    assert files_in(tmp_path) == []


def test_an_image_or_a_clip_of_the_wrong_length_is_a_bad_output_fetched_once(tmp_path):
    png = write_image(tmp_path / "still.png").read_bytes()

    async def still(request):
        return web.Response(body=png, content_type="video/mp4")

    async def go():
        srv = Server()
        srv.route("/still.mp4", still)
        srv.route("/clip.mp4", _serve_clip)
        errors = {}
        async with srv.running():
            for path, seconds in (("/still.mp4", 2.0), ("/clip.mp4", 6.0)):
                with pytest.raises(BadOutputError) as info:
                    await download_clip("fal", srv.url + path, tmp_path / "clips" / "take.mp4",
                                        expected_duration=seconds)
                errors[path] = info.value
        return errors, srv
    errors, srv = asyncio.run(go())
    assert "not a video: it looks like a PNG image" in str(errors["/still.mp4"])
    assert "the fal clip is 2.00 s, expected about 6.00 s" in str(errors["/clip.mp4"])
    assert srv.hits == {"/still.mp4": 1, "/clip.mp4": 1} and files_in(tmp_path / "clips") == []


# ---------------------------------------------------------------- stream_to_file
async def _chunks(parts: list[bytes], pulled: list[int], fail_after: int | None = None):
    for i, part in enumerate(parts):
        if fail_after is not None and i == fail_after:
            raise ConnectionResetError("peer went away")
        pulled.append(i)
        yield part


def test_stream_to_file_writes_a_complete_file_and_returns_its_size(tmp_path):
    pulled: list[int] = []
    n = asyncio.run(stream_to_file(_chunks([b"ab", b"cd", b"e"], pulled), tmp_path / "out" / "a.webp", cap=5))
    assert n == 5 and (tmp_path / "out" / "a.webp").read_bytes() == b"abcde"
    assert files_in(tmp_path / "out") == ["a.webp"]


def test_stream_to_file_stops_pulling_at_the_cap(tmp_path):
    pulled: list[int] = []
    dest = tmp_path / "a.mp4"
    with pytest.raises(BadOutputError) as info:
        asyncio.run(stream_to_file(_chunks([b"x" * 1000] * 100, pulled), dest, cap=2500))
    assert "2500 bytes cap" in str(info.value)
    assert pulled == [0, 1, 2]  # the chunk that passed the cap is the last one pulled
    assert files_in(tmp_path) == []


def test_stream_to_file_failing_mid_way_keeps_the_old_file(tmp_path):
    dest = tmp_path / "a.mp4"
    dest.write_bytes(b"old")
    with pytest.raises(ConnectionResetError):
        asyncio.run(stream_to_file(_chunks([b"new", b"er", b"!"], [], fail_after=2), dest, cap=100))
    assert dest.read_bytes() == b"old" and files_in(tmp_path) == ["a.mp4"]


def test_part_files_carry_the_owner_process_for_the_leftover_cleaner(tmp_path):
    from core.video.leftovers import tagged_owner
    import os
    part = transfer._temp_in(tmp_path, "take.mp4")
    assert part.name.startswith(".take.mp4.") and part.name.endswith(".part")
    assert tagged_owner(part.name) == os.getpid()


def test_a_cloud_backend_caps_a_download_by_its_plans_frame_and_length():
    from types import SimpleNamespace
    from providers.ltx.cloud_backend import CloudBackend

    def plan(expected, minimum=None, **config):
        cfg = {"width": None, "height": None, "resolution": "1080p", "aspect_ratio": "16:9", "duration": 6.0,
               **config}
        return SimpleNamespace(config=SimpleNamespace(**cfg), expected_duration=expected, min_duration=minimum)

    backend = SimpleNamespace(settings=Settings())
    cap = CloudBackend.download_cap
    assert cap(backend, plan(10.0)) == download_cap_bytes(1920, 1080, 10.0)
    assert cap(backend, plan(10.0, resolution="2160p")) == download_cap_bytes(3840, 2160, 10.0)
    assert cap(backend, plan(6.0, width=768, height=512)) == download_cap_bytes(768, 512, 6.0)
    # an extend: its least length plus room for the part it adds
    assert cap(backend, plan(None, 8.0)) == download_cap_bytes(1920, 1080, 8.0 + transfer.CAP_UNKNOWN_SECONDS)
    assert cap(SimpleNamespace(settings=Settings(download_cap_mb=4096)), plan(10.0)) == 4096 * MIB
