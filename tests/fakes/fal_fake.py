"""A fal.ai fake on 127.0.0.1 speaking the queue wire protocol that fal-client 1.0.3 uses (cloud-apis.md §1.4-1.7):
submit -> {request_id, response_url, status_url, cancel_url}; status IN_QUEUE / IN_PROGRESS (logs) / COMPLETED;
result; PUT cancel; storage token + /files/upload. One port serves queue, run and storage, as IMAGEAI_FAL_URL does.

Run alone: python -m tests.fakes.fal_fake --port N --state FILE [--latency S]
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

from tests.fakes.clips import FakeHandler, FakeService, main
from tests.fakes.ltx_fields import fal_problems


def seconds_for(fake: FakeService, app: str, body: dict) -> float:
    """How long the clip of a job is, as the real endpoint would make it."""
    if "ltx-2-19b" in app:
        fps = float(body.get("fps") or 25)
        own = (int(body.get("num_frames") or 121) - 1) / fps
        if app.startswith("fal-ai/ltx-2-19b/extend-video"):
            return fake.source_seconds(body.get("video_url")) + own
        if "video-to-video" in app and body.get("match_video_length", True):
            return fake.source_seconds(body.get("video_url"))
        return own
    if "ltx-video-13b" in app or "ltxv-13b" in app:
        return (int(body.get("num_frames") or 121) - 1) / float(body.get("frame_rate") or 24)
    if app.startswith("fal-ai/ltx-video"):
        return 5.0
    if app.endswith("/extend-video"):
        return fake.source_seconds(body.get("video_url")) + float(body.get("duration") or 5)
    return float(body.get("duration") or 6)


def fps_for(app: str, body: dict) -> int:
    return int(float(body.get("fps") or body.get("frame_rate") or 24))


class FalFake(FakeService):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rejected: list[dict] = []  # bodies refused with 422: {"app", "problems": [(field, why)]}

    def job_of(self, path: str):
        # /{owner}/{alias}/requests/{id}[/status|/cancel]; a job is known only under its own app, as on fal
        parts = path.strip("/").split("/")
        if len(parts) >= 4 and parts[2] == "requests":
            job = self.jobs.get(parts[3])
            family = f"{parts[0]}/{parts[1]}"
            if job is not None and not (job["app"] == family or job["app"].startswith(family + "/")):
                return "unknown-" + parts[3], (parts[4] if len(parts) > 4 else "")
            return parts[3], (parts[4] if len(parts) > 4 else "")
        return None, None


class FalHandler(FakeHandler):
    def _auth_ok(self, prefix: str = "Key ") -> bool:
        if not (self.headers.get("Authorization") or "").startswith(prefix):
            self.send(401, {"detail": "No authentication credentials"})
            return False
        return True

    def do_POST(self):
        fake: FalFake = self.fake  # type: ignore[assignment]
        if self.serve_admin_post():
            return
        path, _, query = self.path.partition("?")
        raw = self.body()
        if path == "/storage/auth/token":
            if not self._auth_ok():
                return
            expires = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
            self.send(200, {"token": "cdn-token", "token_type": "Bearer", "base_url": fake.url, "expires_at": expires})
            return
        if path == "/files/upload":
            if self.apply_fault("upload"):
                return
            if not self._auth_ok("Bearer "):
                return
            url = fake.store_file(raw, self.headers.get("Content-Type", "application/octet-stream"),
                                  self.headers.get("X-Fal-File-Name", "upload.bin"))
            self.send(200, {"access_url": url})
            return
        # anything else is a queue submit: POST /{owner}/{alias}[/{subpath}]
        fake.bump("submit_attempts")
        with fake.lock:
            fake.requests.append({"method": "POST", "path": path, "query": query, "body": _safe_json(raw),
                                  "auth": (self.headers.get("Authorization") or "")[:4]})
        if not self._auth_ok():
            return
        if self.apply_fault("submit"):
            fake.save()
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self.send(422, {"detail": [{"loc": ["body"], "msg": "invalid JSON", "type": "value_error"}]})
            return
        app = path.strip("/")
        problems = fal_problems(app, body)
        if problems is None:
            self.send(404, {"detail": f"Application '{app}' not found"})
            return
        if problems:
            # as fal's (pydantic) validation answers: one {loc, msg, type} per wrong field; no job is made
            with fake.lock:
                fake.rejected.append({"app": app, "problems": problems})
            self.send(422, {"detail": [{"loc": ["body", name], "msg": msg, "type": "value_error"}
                                       for name, msg in problems]})
            return
        jid = uuid.uuid4().hex[:20]
        owner_alias = "/".join(app.split("/")[:2])
        with fake.lock:
            fake.jobs[jid] = {"app": app, "body": body, "t0": time.monotonic(), "seconds": seconds_for(fake, app, body),
                              "fps": fps_for(app, body), "audio": bool(body.get("generate_audio")) or body.get("retake_mode") == "replace_audio_and_video",
                              "webhook": _webhook(query)}
            queued_before = sum(1 for j in fake.jobs.values() if fake.phase(j) == "queued")
        fake.bump("submissions")
        base = f"{fake.url}/{owner_alias}/requests/{jid}"
        self.send(200, {"request_id": jid, "response_url": base, "status_url": base + "/status",
                        "cancel_url": base + "/cancel", "queue_position": queued_before,
                        "gateway_request_id": jid})

    def do_GET(self):
        fake: FalFake = self.fake  # type: ignore[assignment]
        if self.serve_common_get():
            return
        path = self.path.split("?")[0]
        jid, tail = fake.job_of(path)
        job = fake.jobs.get(jid) if jid else None
        if tail == "status":
            fake.bump("status_polls")
            if self.apply_fault("status"):
                return
            if job is None:
                self.send(404, {"detail": "Request not found"})
                return
            phase = fake.phase(job)
            if phase == "queued":
                position = sum(1 for j in fake.jobs.values() if fake.phase(j) == "queued" and j["t0"] < job["t0"])
                self.send(202, {"status": "IN_QUEUE", "queue_position": position, "response_url": path[:-7]})
            elif phase == "running":
                self.send(202, {"status": "IN_PROGRESS", "logs": _logs(fake, job), "response_url": path[:-7]})
            else:
                self.send(200, {"status": "COMPLETED", "logs": _logs(fake, job), "metrics": {"inference_time": 1.0},
                                "response_url": path[:-7]})
            return
        if jid and tail == "":
            fake.bump("result_gets")
            if self.apply_fault("result"):
                return
            if job is None:
                self.send(404, {"detail": "Request not found"})
            elif job.get("cancelled"):
                self.send(400, {"detail": "Request was cancelled"})
            elif fake.phase(job) != "done":
                self.send(400, {"detail": "Request is still in progress"})
            else:
                self.send(200, {"video": {"url": f"{fake.url}/media/{jid}.mp4", "content_type": "video/mp4",
                                          "file_name": f"{jid}.mp4"}, "seed": 42, "prompt": job["body"].get("prompt")})
            return
        self.send(404, {"detail": "Not Found"})

    def do_PUT(self):
        fake: FalFake = self.fake  # type: ignore[assignment]
        jid, tail = fake.job_of(self.path.split("?")[0])
        job = fake.jobs.get(jid) if jid else None
        if tail != "cancel":
            self.send(404, {"detail": "Not Found"})
            return
        fake.bump("cancels")
        if job is None:
            self.send(404, {"status": "NOT_FOUND"})
        elif fake.phase(job) == "done":
            self.send(400, {"status": "ALREADY_COMPLETED"})
        else:
            job["cancelled"] = True
            fake.save()
            self.send(202, {"status": "CANCELLATION_REQUESTED"})


def _logs(fake: FakeService, job: dict) -> list[dict]:
    # the whole list so far on every poll, as fal does: the client must de-duplicate
    age = time.monotonic() - job["t0"] - fake.queue_time
    total = max(fake.latency, 1e-6)
    n = min(4, int(max(0.0, age) / total * 4) + 1)
    return [{"message": f"step {i}/4 {i * 25}%", "level": "INFO", "source": "user",
             "timestamp": f"2026-11-25T00:00:0{i}Z"} for i in range(1, n + 1)]


def _webhook(query: str):
    from urllib.parse import parse_qs
    return (parse_qs(query).get("fal_webhook") or [None])[0]


def _safe_json(raw: bytes):
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return None


FalFake.handler_class = FalHandler

if __name__ == "__main__":
    main(FalFake)
