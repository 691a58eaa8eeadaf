"""Decoding decides what reaches silver: every rejected file carries a reason a person can act on."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from lakeforge.images.decode import decode_image
from lakeforge.images.generate import SHAPES, render

FORMATS = ["JPEG", "PNG"]


def encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_valid_images_are_normalised_to_rgb_png_within_the_max_side():
    image = Image.new("L", (120, 60), color=128)
    decoded = decode_image(encode(image, "JPEG"), FORMATS, max_side=40)
    assert decoded.error is None
    assert (decoded.format, decoded.width, decoded.height, decoded.channels) == ("JPEG", 120, 60, 1)
    stored = Image.open(io.BytesIO(decoded.image))
    assert (stored.format, stored.mode, stored.size) == ("PNG", "RGB", (40, 20))


def test_small_images_keep_their_size():
    decoded = decode_image(encode(Image.new("RGBA", (20, 30)), "PNG"), FORMATS, max_side=64)
    assert decoded.channels == 4 and Image.open(io.BytesIO(decoded.image)).size == (20, 30)


def test_rejections_say_why():
    png = encode(render("circle", 32, np.random.default_rng(0)), "PNG")
    truncated = decode_image(png[: len(png) // 2], FORMATS, max_side=None)
    assert truncated.image is None and truncated.error.startswith("corrupt PNG")
    assert decode_image(b"plain text, not pixels", FORMATS, None).error == "not an image: no decoder recognises the bytes"
    gif = decode_image(encode(Image.new("RGB", (8, 8)), "GIF"), FORMATS, None)
    assert gif.error == "unsupported format GIF (accepted: JPEG, PNG)" and gif.width == 8


def test_generated_classes_differ_in_pixels():
    rng = np.random.default_rng(1)
    images = {name: np.asarray(render(name, 32, rng), dtype=np.float32) for name in SHAPES}
    assert all(image.shape == (32, 32, 3) for image in images.values())
    assert len({image.tobytes() for image in images.values()}) == len(SHAPES)
