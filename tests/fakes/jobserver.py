"""A loopback job server for crash/resume tests: jobs live in this separate process, so killing the app cannot
forget them; every submission is counted in a state file.

    python -m tests.fakes.jobserver --port 0 --state STATE.json --latency 1.5 --port-file PORT

POST /jobs {prompt, duration, width, height, fps} -> 201 {"id"}; GET /jobs/ID -> {"status": "running"|"done",
"progress"}; GET /jobs/ID/result -> MP4 bytes; POST /jobs/ID/cancel. GET /stats -> {"submissions": n}.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import imageio_ffmpeg


class State:
    def __init__(self, path: Path, latency: float, workdir: Path):
        self.path, self.latency, self.workdir = path, latency, workdir
        self.lock = threading.Lock()
        self.data = json.loads(path.read_text()) if path.exists() else {"submissions": 0, "jobs": {}}

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data))
        tmp.replace(self.path)


def make_clip(path: Path, duration: float, width: int, height: int, fps: int) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"testsrc2=size={width}x{height}:rate={fps}:duration={duration}", "-f", "lavfi", "-i",
                    f"anullsrc=r=48000:cl=stereo", "-t", str(duration), "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)], check=True)


def handler_for(state: State):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            return

        def _json(self, code: int, obj) -> None:
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            payload = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/jobs":
                job_id = uuid.uuid4().hex[:10]
                with state.lock:
                    state.data["submissions"] += 1
                    state.data["jobs"][job_id] = {"created": time.time(), "request": payload, "status": "running"}
                    state.save()
                return self._json(201, {"id": job_id})
            if self.path.endswith("/cancel"):
                job_id = self.path.split("/")[2]
                with state.lock:
                    if job_id in state.data["jobs"]:
                        state.data["jobs"][job_id]["status"] = "cancelled"
                        state.save()
                return self._json(200, {"ok": True})
            self._json(404, {"detail": "not found"})

        def do_GET(self):
            if self.path == "/stats":
                with state.lock:
                    return self._json(200, {"submissions": state.data["submissions"]})
            parts = self.path.strip("/").split("/")
            if len(parts) >= 2 and parts[0] == "jobs":
                job = state.data["jobs"].get(parts[1])
                if job is None:
                    return self._json(404, {"detail": "no such job"})
                elapsed = time.time() - job["created"]
                status = job["status"]
                if status == "running" and elapsed >= state.latency:
                    status = "done"
                if len(parts) == 2:
                    return self._json(200, {"status": status, "progress": min(1.0, elapsed / state.latency)})
                if status != "done":
                    return self._json(409, {"detail": "not finished"})
                r = job["request"]
                clip = state.workdir / f"{parts[1]}.mp4"
                if not clip.exists():
                    make_clip(clip, r["duration"], r["width"], r["height"], r["fps"])
                body = clip.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return None
            self._json(404, {"detail": "not found"})

    return Handler


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--state", required=True)
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    state_path = Path(a.state)
    workdir = state_path.parent / "jobserver-clips"
    workdir.mkdir(exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), handler_for(State(state_path, a.latency, workdir)))
    Path(a.port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
