"""A Replicate fake on 127.0.0.1 speaking the HTTP API that replicate 1.0.7 uses (cloud-apis.md §2.2-2.3):
POST /v1/models/{owner}/{name}/predictions, GET /v1/predictions/{id}, POST /v1/predictions/{id}/cancel,
POST /v1/files (multipart field `content`). Predictions go starting -> processing (tqdm-style logs) -> succeeded,
and answer "starting" when a `Prefer: wait` runs out, as the real API does.

Run alone: python -m tests.fakes.replicate_fake --port N --state FILE [--latency S]
"""
from __future__ import annotations

import email.parser
import email.policy
import json
import time
import uuid
from datetime import datetime, timezone

from tests.fakes.clips import FakeHandler, FakeService, main
from tests.fakes.ltx_fields import replicate_problems


def seconds_for(fake: FakeService, model: str, inp: dict) -> float:
    if model == "lightricks/ltx-video":
        return (int(inp.get("length") or 97) - 1) / 24.0
    task = inp.get("task")
    if task == "extend":
        return fake.source_seconds(inp.get("video")) + float(inp.get("duration") or 5)
    if task == "retake":
        return fake.source_seconds(inp.get("video"))
    return float(inp.get("duration") or 6)


class ReplicateFake(FakeService):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rejected: list[dict] = []  # inputs refused with 422: {"model", "problems": [(field, why)]}

    def prediction(self, pid: str) -> dict:
        job = self.jobs[pid]
        phase = self.phase(job)
        status = {"queued": "starting", "running": "processing", "done": "succeeded",
                  "cancelled": "canceled"}[phase]
        if job.get("final_status"):
            status = job["final_status"]
        logs = ""
        if status in ("processing", "succeeded"):
            age = time.monotonic() - job["t0"] - self.queue_time
            n = min(3, int(max(0.0, age) / max(self.latency, 1e-6) * 3) + 1)
            logs = "\n".join(f"{int(i / 3 * 100):3d}%|{'#' * i}{' ' * (3 - i)}| {i}/3" for i in range(1, n + 1))
        created = datetime.fromtimestamp(job["wall"], timezone.utc).isoformat()
        return {"id": pid, "model": job["model"], "version": "hidden", "status": status, "input": job["input"],
                "output": f"{self.url}/media/{pid}.mp4" if status == "succeeded" else None,
                "logs": logs, "error": job.get("error") if status == "failed" else None,
                "metrics": {"predict_time": 1.0} if status == "succeeded" else {},
                "created_at": created, "started_at": created if status != "starting" else None,
                "completed_at": created if status in ("succeeded", "failed", "canceled") else None,
                "urls": {"get": f"{self.url}/v1/predictions/{pid}", "cancel": f"{self.url}/v1/predictions/{pid}/cancel",
                         "web": f"https://replicate.com/p/{pid}"},
                "data_removed": False}


class ReplicateHandler(FakeHandler):
    def _auth_ok(self) -> bool:
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            self.send(401, {"title": "Unauthenticated", "detail": "You did not pass an authentication token",
                            "status": 401})
            return False
        return True

    def do_POST(self):
        fake: ReplicateFake = self.fake  # type: ignore[assignment]
        if self.serve_admin_post():
            return
        path = self.path.split("?")[0]
        raw = self.body()
        if path == "/v1/files":
            if not self._auth_ok() or self.apply_fault("upload"):
                return
            data, ctype, name = _multipart_file(self.headers.get("Content-Type", ""), raw)
            url = fake.store_file(data, ctype, name)
            fid = url.split("/")[-2]
            now = datetime.now(timezone.utc).isoformat()
            self.send(201, {"id": fid, "name": name, "content_type": ctype, "size": len(data), "etag": fid,
                            "checksums": {"sha256": "0" * 64}, "metadata": {}, "created_at": now,
                            "expires_at": None, "urls": {"get": url}})
            return
        if path.startswith("/v1/models/") and path.endswith("/predictions"):
            fake.bump("submit_attempts")
            model = "/".join(path.split("/")[3:5])
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = None
            with fake.lock:
                fake.requests.append({"method": "POST", "path": path, "body": body,
                                      "prefer": self.headers.get("Prefer")})
            if not self._auth_ok() or self.apply_fault("submit"):
                fake.save()
                return
            if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
                self.send(422, {"title": "Invalid input", "detail": "input is required", "status": 422})
                return
            inp = body["input"]
            problems = replicate_problems(model, inp)
            if problems is None:
                self.send(404, {"title": "Not found", "detail": f"Model {model} not found", "status": 404})
                return
            if problems:
                # Replicate checks the input against the model's OpenAPI schema before making a prediction
                with fake.lock:
                    fake.rejected.append({"model": model, "problems": problems})
                self.send(422, {"title": "Input validation failed", "status": 422,
                                "detail": "\n".join(f"- input.{name}: {msg}" for name, msg in problems),
                                "invalid_fields": [{"type": "invalid", "field": name, "description": msg}
                                                   for name, msg in problems]})
                return
            pid = uuid.uuid4().hex[:20]
            with fake.lock:
                fake.jobs[pid] = {"model": model, "input": inp, "t0": time.monotonic(), "wall": time.time(),
                                  "seconds": seconds_for(fake, model, inp), "fps": int(inp.get("fps") or 24),
                                  "audio": bool(inp.get("generate_audio")), "webhook": body.get("webhook")}
                fault = fake.take_fault("outcome")
                if fault:
                    fake.jobs[pid].update(fault)
            fake.bump("submissions")
            self.send(201, fake.prediction(pid))
            return
        if path.startswith("/v1/predictions/") and path.endswith("/cancel"):
            pid = path.split("/")[3]
            fake.bump("cancels")
            job = fake.jobs.get(pid)
            if job is None:
                self.send(404, {"title": "Not found", "detail": "Not found", "status": 404})
                return
            if fake.phase(job) != "done":
                job["cancelled"] = True
            fake.save()
            self.send(200, fake.prediction(pid))
            return
        self.send(404, {"title": "Not found", "detail": "Not found", "status": 404})

    def do_GET(self):
        fake: ReplicateFake = self.fake  # type: ignore[assignment]
        if self.serve_common_get():
            return
        path = self.path.split("?")[0]
        if path.startswith("/v1/predictions/"):
            fake.bump("status_polls")
            if not self._auth_ok() or self.apply_fault("status"):
                return
            pid = path.split("/")[3]
            if pid not in fake.jobs:
                self.send(404, {"title": "Not found", "detail": "Not found", "status": 404})
                return
            self.send(200, fake.prediction(pid))
            return
        self.send(404, {"title": "Not found", "detail": "Not found", "status": 404})


def _multipart_file(content_type: str, raw: bytes) -> tuple[bytes, str, str]:
    msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    for part in msg.iter_parts():
        if part.get_param("name", header="content-disposition") == "content":
            return (part.get_payload(decode=True) or b"", part.get_content_type(),
                    part.get_filename() or "upload.bin")
    return raw, "application/octet-stream", "upload.bin"


ReplicateFake.handler_class = ReplicateHandler

if __name__ == "__main__":
    main(ReplicateFake)
