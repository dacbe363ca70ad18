"""Writing a delivered image: decoded (a reply that is not an image is a BadOutputError), cropped to the asked shape
around its centre and scaled to the asked size, saved in the format the output's suffix names, through a temp file
beside it that carries this process's owner tag (the leftovers cleaner never removes it while we write)."""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from core.atomic import give_file_mode
from core.errors import BadOutputError, ImageAIError
from core.video.leftovers import owner_tag


class ImageWriteError(ImageAIError):
    """An image the service made (and charged) that could not be written here: a full disk, a vanished or read-only
    folder. Never sent again on its own (that pays again). `written`: the results of the same request already on
    disk; `lost`: the outputs paid for that are not; `cost_per_image`: what each of them cost."""

    kind = "write_failed"

    def __init__(self, message: str, *, written: list, lost: list[Path], cost_per_image: float):
        super().__init__(message)
        self.written, self.lost, self.cost_per_image = list(written), list(lost), cost_per_image


def write_failed(what: str, path: Path, lost: list[Path], written: list, cost_per_image: float,
                 exc: OSError) -> ImageWriteError:
    """The error for an image delivered but not written: it names the image, the folder and what was paid."""
    paid = f" (paid: ${cost_per_image * len(lost):.2f} for {len(lost)} image(s))" if cost_per_image else ""
    again = " (that is paid again)" if cost_per_image else ""
    return ImageWriteError(f"{what} made image {Path(path).name}{paid} but it could not be written to "
                           f"{Path(path).parent} ({exc.strerror or exc}); free room there and make it again{again}",
                           written=written, lost=lost, cost_per_image=cost_per_image)


FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def variant_paths(output: Path, count: int) -> list[Path]:
    """out.png for one image; out-1.png, out-2.png, ... for variants."""
    output = Path(output)
    if count == 1:
        return [output]
    return [output.with_name(f"{output.stem}-{i + 1}{output.suffix}") for i in range(count)]


def fit(image, width: int, height: int):
    """Crop to width:height around the centre, then scale to exactly width x height."""
    from PIL import Image

    w, h = image.size
    if (w, h) == (width, height):
        return image
    target = width / height
    if w / h > target:  # too wide: cut the sides
        new_w = max(1, round(h * target))
        left = (w - new_w) // 2
        image = image.crop((left, 0, left + new_w, h))
    elif w / h < target:  # too tall: cut top and bottom
        new_h = max(1, round(w / target))
        top = (h - new_h) // 2
        image = image.crop((0, top, w, top + new_h))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def decode(data: bytes, what: str):
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise BadOutputError(f"{what} returned data that is not an image ({len(data)} bytes: {exc})") from None
    return image


def write_image(data: bytes, dest: Path, width: int, height: int, *, what: str) -> tuple[int, int]:
    """Write the image in `data` to `dest` at width x height; returns the size the service delivered."""
    return save_image(decode(data, what), dest, width, height)


def save_image(image, dest: Path, width: int, height: int) -> tuple[int, int]:
    dest = Path(dest)
    rendered = image.size
    fmt = FORMATS.get(dest.suffix.lower(), "PNG")
    out = fit(image, width, height)
    if fmt == "JPEG" and out.mode not in ("RGB", "L"):
        out = out.convert("RGB")
    elif out.mode not in ("RGB", "RGBA", "L"):
        out = out.convert("RGBA" if "A" in out.mode else "RGB")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.{owner_tag()}-", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            out.save(fh, format=fmt)
            fh.flush()
            os.fsync(fh.fileno())
        give_file_mode(name)  # mkstemp makes it 0600; an image in the project is not private
        os.replace(name, dest)
    finally:
        if os.path.exists(name):
            os.unlink(name)
    return rendered
