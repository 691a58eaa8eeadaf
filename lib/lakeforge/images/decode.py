"""Decode, check and normalise image bytes (pure functions; the Spark UDF in ingest.py wraps them)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

CHANNELS = {"1": 1, "L": 1, "P": 1, "LA": 2, "RGB": 3, "YCbCr": 3, "LAB": 3, "HSV": 3, "RGBA": 4, "CMYK": 4, "I": 1, "F": 1}


@dataclass(frozen=True)
class Decoded:
    format: str | None = None
    width: int | None = None
    height: int | None = None
    channels: int | None = None
    image: bytes | None = None  # RGB PNG, resized to max_side; None when the file is rejected
    error: str | None = None


def decode_image(content: bytes, formats: list[str], max_side: int | None) -> Decoded:
    """The image's facts and a normalised RGB PNG, or the reason it cannot be used."""
    try:
        image = Image.open(io.BytesIO(content))
    except UnidentifiedImageError:
        return Decoded(error="not an image: no decoder recognises the bytes")
    facts = dict(format=image.format, width=image.width, height=image.height, channels=CHANNELS.get(image.mode))
    if image.format not in formats:
        return Decoded(**facts, error=f"unsupported format {image.format} (accepted: {', '.join(formats)})")
    try:
        image.load()
    except (OSError, SyntaxError) as error:  # truncated or corrupt data after a valid header
        return Decoded(**facts, error=f"corrupt {image.format}: {error}")
    rgb = image.convert("RGB")
    if max_side is not None and max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    rgb.save(buffer, format="PNG")
    return Decoded(**facts, image=buffer.getvalue())
