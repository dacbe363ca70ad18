"""What the three image-service fakes share: a FakeService (tests/fakes/clips.py: a threaded HTTP server on
127.0.0.1, one-shot faults, counters), a multipart/form-data parser as strict as the services' (a part without a
name, or a body that is not multipart, is refused), real PNGs of the size a request asks for, and a record of every
request (the fields, the files as their decoded sizes, which kind of credential came; never the credential)."""
from __future__ import annotations

import hashlib
import io
import time
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Optional

from tests.fakes.clips import FakeHandler, FakeService


class MultipartError(ValueError):
    pass


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, list[str]], dict[str, list[dict]]]:
    """(text fields, files) of a multipart/form-data body; files as {"filename", "type", "data"}."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise MultipartError(f"expected multipart/form-data, got {content_type or 'no Content-Type'}")
    msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    if not msg.is_multipart():
        raise MultipartError("the body is not multipart")
    fields: dict[str, list[str]] = {}
    files: dict[str, list[dict]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            raise MultipartError("a part has no name")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files.setdefault(name, []).append({"filename": filename, "type": part.get_content_type(), "data": data})
        else:
            fields.setdefault(name, []).append(data.decode("utf-8"))
    return fields, files


def image_size_of(data: bytes) -> Optional[tuple[int, int]]:
    """The size of an image, or None when the bytes are not one."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return im.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def make_image(width: int, height: int, key: str, fmt: str = "PNG") -> bytes:
    """An image whose colours follow `key` (prompt, seed, variant): the same key gives the same pixels."""
    from PIL import Image, ImageDraw

    digest = hashlib.sha256(key.encode()).digest()
    im = Image.new("RGB", (width, height), tuple(digest[:3]))
    draw = ImageDraw.Draw(im)
    draw.rectangle((width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill=tuple(digest[3:6]))
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


class ImageFake(FakeService):
    """Counters: `submit_attempts` (every request that reached a route), `submissions` (images made and charged)."""

    def record(self, entry: dict) -> None:
        with self.lock:
            self.requests.append(entry)
        self.save()

    def last(self) -> dict:
        with self.lock:
            return self.requests[-1]


class ImageHandler(FakeHandler):
    def apply_fault(self, where: str) -> bool:
        """As FakeHandler's, plus {"hang": seconds}: a service that takes that long and then hangs up (the client's
        deadline ends the request first)."""
        with self.fake.lock:
            queue = self.fake.faults.get(where) or []
            hang = queue[0].get("hang") if queue else None
            if hang is not None:
                queue.pop(0)
        if hang is None:
            return super().apply_fault(where)
        time.sleep(float(hang))
        self.drop()
        return True

    def auth_kind(self) -> str:
        if self.headers.get("x-goog-api-key"):
            return "key"
        if (self.headers.get("Authorization") or "").startswith("Bearer "):
            return "bearer"
        return ""

    def bearer(self) -> str:
        value = self.headers.get("Authorization") or ""
        return value[len("Bearer "):] if value.startswith("Bearer ") else ""

    @staticmethod
    def file_summary(files: dict[str, list[dict]]) -> list[dict[str, Any]]:
        out = []
        for name, items in files.items():
            for f in items:
                out.append({"field": name, "filename": f["filename"], "type": f["type"], "bytes": len(f["data"]),
                            "size": image_size_of(f["data"])})
        return out
