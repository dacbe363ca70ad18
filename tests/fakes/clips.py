"""Real little media files for the fakes (FFmpeg's test sources), and the plumbing both cloud fakes share: a
threaded HTTP server on 127.0.0.1, a JSON state file with the counters, one-shot fault injection, an upload store
and a media route that serves MP4s of the length a job asked for."""
from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

from core.video.media import ffmpeg_exe, probe

_CACHE = Path(tempfile.gettempdir()) / "imageai-fake-clips"
_lock = threading.Lock()


def make_clip(duration: float, fps: int = 24, width: int = 160, height: int = 90, audio: bool = False) -> bytes:
    """An H.264 MP4 of `duration` seconds (cached on disk: the same clip is asked for again and again)."""
    duration = round(max(0.2, float(duration)), 2)
    fps = int(fps) if fps else 24
    name = f"clip_{duration}_{fps}_{width}x{height}_{int(audio)}.mp4"
    path = _CACHE / name
    with _lock:
        if not path.exists():
            _CACHE.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{uuid.uuid4().hex}.mp4")
            cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                   f"testsrc2=size={width}x{height}:rate={fps}:duration={duration}"]
            if audio:
                cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={duration}", "-c:a", "aac", "-shortest"]
            cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
                    str(tmp)]
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)
            os.replace(tmp, path)
    return path.read_bytes()


def write_clip(path: Path, duration: float, fps: int = 24, **kw) -> Path:
    Path(path).write_bytes(make_clip(duration, fps, **kw))
    return Path(path)


def write_image(path: Path, size: tuple[int, int] = (64, 36), *, noise: bool = False) -> Path:
    """A PNG; with noise=True it is large enough (~1 MB at 600x600) to go through the service's upload."""
    from PIL import Image
    if noise:
        im = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        im = Image.new("RGB", size, (200, 80, 40))
    im.save(path, format="PNG")
    return Path(path)


def seconds_of(data: bytes) -> float:
    """Length of an uploaded video (the fakes use it to answer extend and retake jobs realistically)."""
    with tempfile.NamedTemporaryFile(suffix=".mp4", delete=False) as fh:
        fh.write(data)
        name = fh.name
    try:
        return probe(Path(name)).duration
    finally:
        os.unlink(name)


class FakeService:
    """State, faults and storage of one fake; subclasses add the service's routes in their handler."""

    handler_class: type = BaseHTTPRequestHandler

    def __init__(self, port: int = 0, state_file: Optional[Path] = None, latency: float = 0.3,
                 queue_time: float = 0.0):
        self.lock = threading.RLock()
        self.state_file = Path(state_file) if state_file else None
        self.latency = latency          # seconds from submit until a job completes
        self.queue_time = queue_time    # seconds a job waits IN_QUEUE before IN_PROGRESS
        self.never_finish = False
        self.jobs: dict[str, dict] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.requests: list[dict] = []
        self.counts = {"submit_attempts": 0, "submissions": 0, "status_polls": 0, "cancels": 0, "uploads": 0,
                       "downloads": 0, "result_gets": 0}
        self.faults: dict[str, list[dict]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self.handler_class)
        self.server.daemon_threads = True
        self.server.fake = self  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: Optional[threading.Thread] = None

    # ---- lifecycle ----
    def start(self) -> "FakeService":
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        self.save()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- faults and counters ----
    def inject(self, where: str, *faults: dict) -> None:
        """Queue one-shot faults for a route ("submit", "status", "result", "media", "upload", "cancel")."""
        with self.lock:
            self.faults.setdefault(where, []).extend(faults)

    def take_fault(self, where: str) -> Optional[dict]:
        with self.lock:
            queue = self.faults.get(where) or []
            return queue.pop(0) if queue else None

    def bump(self, counter: str) -> None:
        with self.lock:
            self.counts[counter] = self.counts.get(counter, 0) + 1
        self.save()

    def snapshot(self) -> dict:
        with self.lock:
            return {"counts": dict(self.counts), "jobs": {k: {kk: vv for kk, vv in v.items() if kk != "clip"}
                                                          for k, v in self.jobs.items()},
                    "requests": list(self.requests)}

    def save(self) -> None:
        if not self.state_file:
            return
        data = json.dumps(self.snapshot(), default=str)
        with self.lock:
            tmp = self.state_file.with_suffix(".tmp")
            tmp.write_text(data)
            os.replace(tmp, self.state_file)

    # ---- jobs ----
    def phase(self, job: dict) -> str:
        if job.get("cancelled"):
            return "cancelled"
        age = time.monotonic() - job["t0"]
        if age < self.queue_time:
            return "queued"
        if self.never_finish or job.get("never_finish") or age < self.queue_time + self.latency:
            return "running"
        return "done"

    # ---- storage ----
    def store_file(self, data: bytes, content_type: str, name: str = "upload.bin") -> str:
        fid = uuid.uuid4().hex[:16]
        with self.lock:
            self.files[fid] = (data, content_type)
        self.bump("uploads")
        return f"{self.url}/files/{fid}/{name}"

    def resolve(self, url: Optional[str]) -> Optional[bytes]:
        """The bytes behind a URL the app sent: one of our uploads or a data URI."""
        if not url:
            return None
        if url.startswith("data:"):
            return base64.b64decode(url.partition(",")[2])
        if url.startswith(self.url + "/files/"):
            fid = url[len(self.url) + 7:].split("/")[0]
            return self.files.get(fid, (None, ""))[0]
        return None

    def source_seconds(self, url: Optional[str]) -> float:
        data = self.resolve(url)
        return seconds_of(data) if data else 0.0


class FakeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def fake(self) -> FakeService:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, status: int, payload: Any = None, *, raw: Optional[bytes] = None, headers: Optional[dict] = None,
             content_type: str = "application/json") -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def drop(self) -> None:
        """Close the connection without an answer (a dropped connection as the client sees it)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def apply_fault(self, where: str) -> bool:
        """Answer with the next injected fault for this route; True when one was used."""
        fault = self.fake.take_fault(where)
        if not fault:
            return False
        if fault.get("drop"):
            self.drop()
        elif fault.get("malformed"):
            self.send(200, raw=b'{"status": "IN_PROG', headers=fault.get("headers"))
        else:
            raw = fault.get("text", "").encode() if "text" in fault else None
            self.send(fault.get("status", 500), fault.get("json", {"detail": "injected"}), raw=raw,
                      headers=fault.get("headers"),
                      content_type="text/html" if raw is not None else "application/json")
        return True

    def serve_file(self, data: bytes, content_type: str) -> None:
        fault = self.fake.take_fault("media")
        if fault and fault.get("drop"):
            # send the headers and half the bytes, then hang up: a truncated download
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.drop()
            return
        self.fake.bump("downloads")
        self.send(200, raw=data, content_type=content_type)

    def serve_common_get(self) -> bool:
        """Uploaded files, result media and the admin view; True when handled."""
        path = self.path.split("?")[0]
        if path.startswith("/files/"):
            fid = path.split("/")[2]
            item = self.fake.files.get(fid)
            if item is None:
                self.send(404, {"detail": "no such file"})
            else:
                self.serve_file(*item)
            return True
        if path.startswith("/media/"):
            jid = path.split("/")[2].split(".")[0]
            job = self.fake.jobs.get(jid)
            if job is None:
                self.send(404, {"detail": "no such media"})
            else:
                self.serve_file(make_clip(job["seconds"], job.get("fps") or 24, audio=job.get("audio", False)),
                                "video/mp4")
            return True
        if path == "/_admin/state":
            self.send(200, self.fake.snapshot())
            return True
        return False

    def serve_admin_post(self) -> bool:
        path = self.path.split("?")[0]
        if path == "/_admin/faults":
            spec = json.loads(self.body() or b"{}")
            for where, faults in spec.items():
                self.fake.inject(where, *faults)
            self.send(200, {"ok": True})
            return True
        if path == "/_admin/config":
            spec = json.loads(self.body() or b"{}")
            for key in ("latency", "queue_time", "never_finish"):
                if key in spec:
                    setattr(self.fake, key, spec[key])
            self.send(200, {"ok": True})
            return True
        return False


def main(fake_cls: type, argv: Optional[list[str]] = None) -> None:
    """`python -m tests.fakes.<fake> --port N --state FILE [--latency S]`: serve until killed."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--state", type=Path, default=None)
    ap.add_argument("--latency", type=float, default=0.3)
    ap.add_argument("--queue-time", type=float, default=0.0)
    args = ap.parse_args(argv)
    fake = fake_cls(port=args.port, state_file=args.state, latency=args.latency, queue_time=args.queue_time)
    print(json.dumps({"url": fake.url, "port": fake.port}), flush=True)
    fake.save()
    try:
        fake.server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
