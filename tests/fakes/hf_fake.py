"""A fake of the Hugging Face hub on 127.0.0.1 that huggingface_hub's real client downloads from (HF_ENDPOINT):
repo info by revision, the recursive tree (sizes, git blob ids, LFS sha256), and file resolve (HEAD and GET with
ETag, X-Repo-Commit, X-Linked-Size, Range for resume). It counts the bytes it serves per file and can hold a file's
body after some bytes, so a test can kill a client mid-download at a known point."""
from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


def tiny_pipeline(big_bytes: int = 4 << 20) -> dict[str, bytes]:
    """A tiny diffusers-shaped LTX repo: the index, small configs, one large 'weights' file (LFS), and a
    single-file checkpoint at the top level that a pipeline download skips."""
    weights = bytes((i * 7 + i // 251) % 256 for i in range(big_bytes))
    return {
        "model_index.json": json.dumps({"_class_name": "LTXPipeline", "_diffusers_version": "0.42.1",
                                        "transformer": ["diffusers", "LTXVideoTransformer3DModel"]}).encode(),
        "transformer/config.json": b'{"_class_name": "LTXVideoTransformer3DModel", "num_layers": 1}',
        "transformer/diffusion_pytorch_model.safetensors": weights,
        "scheduler/scheduler_config.json": b'{"_class_name": "FlowMatchEulerDiscreteScheduler"}',
        "ltx-video-2b-v0.9.5.safetensors": b"single-file checkpoint " * 64,
    }


class HubFake:
    def __init__(self, repos: dict[str, dict[str, bytes]]):
        self.repos = repos
        self.served: dict[str, int] = {}  # "repo/path" -> body bytes sent
        self.ranges: list[tuple[str, int]] = []  # ("repo/path", start) of every GET of a body
        self.hold_after: dict[str, int] = {}  # "repo/path" -> stop sending after this many bytes of one GET
        self.tamper: set[str] = set()  # "repo/path" whose body differs from the tree's hash (a bad mirror)
        self.reached = threading.Event()  # set when a held file reached its hold point
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "HubFake":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def is_lfs(self, path: str) -> bool:
        return path.endswith(".safetensors")

    def tree(self, repo: str) -> list[dict]:
        out = []
        for path, data in sorted(self.repos[repo].items()):
            entry = {"type": "file", "path": path, "size": len(data), "oid": git_blob_id(data)}
            if self.is_lfs(path):
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            out.append(entry)
        return out

    def _count(self, key: str, n: int) -> None:
        with self._lock:
            self.served[key] = self.served.get(key, 0) + n

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _json(self, obj, status=200):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Repo-Commit", COMMIT)
                self.end_headers()
                self.wfile.write(body)

            def _route(self):
                path = unquote(urlparse(self.path).path)
                m = re.fullmatch(r"/api/models/([^/]+/[^/]+)/revision/([^/]+)", path)
                if m:
                    return "info", m.group(1), None
                m = re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/([^/]+)(/.*)?", path)
                if m:
                    return "tree", m.group(1), None
                m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
                if m:
                    return "file", m.group(1), m.group(3)
                return None, None, None

            def do_HEAD(self):
                self._serve(body=False)

            def do_GET(self):
                self._serve(body=True)

            def _serve(self, body: bool):
                kind, repo, fpath = self._route()
                if repo not in fake.repos:
                    return self._json({"error": "Repository not found"}, 404)
                if kind == "info":
                    return self._json({"id": repo, "modelId": repo, "sha": COMMIT, "private": False,
                                       "siblings": [{"rfilename": p} for p in sorted(fake.repos[repo])]})
                if kind == "tree":
                    return self._json(fake.tree(repo))
                if kind != "file" or fpath not in fake.repos[repo]:
                    return self._json({"error": "Entry not found"}, 404)
                data = fake.repos[repo][fpath]
                etag = hashlib.sha256(data).hexdigest() if fake.is_lfs(fpath) else git_blob_id(data)
                start = 0
                rng = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
                if body and rng:
                    start = int(rng.group(1))
                if f"{repo}/{fpath}" in fake.tamper:
                    data = data[:-1] + bytes([data[-1] ^ 0xFF])
                chunk = data[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(chunk)))
                self.send_header("ETag", f'"{etag}"')
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("Accept-Ranges", "bytes")
                if fake.is_lfs(fpath):
                    self.send_header("X-Linked-Size", str(len(data)))
                    self.send_header("X-Linked-Etag", f'"{etag}"')
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if not body:
                    return
                key = f"{repo}/{fpath}"
                with fake._lock:
                    fake.ranges.append((key, start))
                hold = fake.hold_after.get(key)
                sent = 0
                try:
                    while sent < len(chunk):
                        piece = chunk[sent:sent + 65536]
                        if hold is not None and sent + len(piece) > hold:
                            piece = piece[:hold - sent]
                            self.wfile.write(piece)
                            self.wfile.flush()
                            fake._count(key, len(piece))
                            fake.reached.set()
                            fake.release.wait()  # the client is killed meanwhile; the rest is never sent
                            return
                        self.wfile.write(piece)
                        fake._count(key, len(piece))
                        sent += len(piece)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
