"""The built-in labelled image dataset: shapes and textures with varied position, scale, colour and noise.

Target and source tasks draw different classes from the same visual world, so a backbone trained on
the source classes carries real features (edges, corners, fills) over to the target classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from lakeforge.images.config import GenerateSpec

Drawer = Callable[[ImageDraw.ImageDraw, np.random.Generator, tuple[float, float], float, tuple[int, int, int]], None]


def _polygon(sides: int, star: bool = False) -> Drawer:
    def draw(canvas, rng, centre, radius, colour):
        turn = rng.uniform(0, 2 * math.pi)
        points = []
        for k in range(sides * (2 if star else 1)):
            r = radius * (0.45 if star and k % 2 else 1.0)
            angle = turn + 2 * math.pi * k / (sides * (2 if star else 1))
            points.append((centre[0] + r * math.cos(angle), centre[1] + r * math.sin(angle)))
        canvas.polygon(points, fill=colour)

    return draw


def _circle(canvas, rng, centre, radius, colour):
    canvas.ellipse([centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius], fill=colour)


def _ring(canvas, rng, centre, radius, colour):
    box = [centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius]
    canvas.ellipse(box, outline=colour, width=max(2, int(radius * 0.3)))


def _cross(canvas, rng, centre, radius, colour):
    width = max(2, int(radius * 0.35))
    canvas.line([centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius], fill=colour, width=width)
    canvas.line([centre[0] - radius, centre[1] + radius, centre[0] + radius, centre[1] - radius], fill=colour, width=width)


def _stripes(vertical: bool) -> Drawer:
    def draw(canvas, rng, centre, radius, colour):
        period = max(4, int(radius * rng.uniform(0.35, 0.6)))
        low, high = centre[0 if vertical else 1] - radius, centre[0 if vertical else 1] + radius
        for start in np.arange(low, high, period):
            if vertical:
                canvas.rectangle([start, centre[1] - radius, start + period / 2, centre[1] + radius], fill=colour)
            else:
                canvas.rectangle([centre[0] - radius, start, centre[0] + radius, start + period / 2], fill=colour)

    return draw


def _checker(canvas, rng, centre, radius, colour):
    cell = max(3, int(radius * rng.uniform(0.3, 0.5)))
    x0, y0 = centre[0] - radius, centre[1] - radius
    for i in range(int(2 * radius // cell)):
        for j in range(int(2 * radius // cell)):
            if (i + j) % 2 == 0:
                canvas.rectangle([x0 + i * cell, y0 + j * cell, x0 + (i + 1) * cell, y0 + (j + 1) * cell], fill=colour)


def _dots(canvas, rng, centre, radius, colour):
    for _ in range(int(rng.integers(5, 10))):
        x, y = centre[0] + rng.uniform(-radius, radius), centre[1] + rng.uniform(-radius, radius)
        r = max(1.5, radius * 0.12)
        canvas.ellipse([x - r, y - r, x + r, y + r], fill=colour)


SHAPES: dict[str, Drawer] = {
    "circle": _circle,
    "square": _polygon(4),
    "triangle": _polygon(3),
    "cross": _cross,
    "star": _polygon(5, star=True),
    "hexagon": _polygon(6),
    "ring": _ring,
    "hstripes": _stripes(vertical=False),
    "vstripes": _stripes(vertical=True),
    "checker": _checker,
    "dots": _dots,
}


def render(shape: str, size: int, rng: np.random.Generator) -> Image.Image:
    """One image of `shape`: random background, colour, position, scale and pixel noise."""
    background = rng.integers(0, 256, 3)
    colour = (background + rng.integers(80, 176, 3)) % 256  # always distinct from the background
    image = Image.new("RGB", (size, size), tuple(int(c) for c in background))
    canvas = ImageDraw.Draw(image)
    radius = size * rng.uniform(0.25, 0.42)
    centre = (rng.uniform(radius, size - radius), rng.uniform(radius, size - radius))
    SHAPES[shape](canvas, rng, centre, radius, tuple(int(c) for c in colour))
    pixels = np.asarray(image, dtype=np.int16) + rng.normal(0, 12, (size, size, 3)).astype(np.int16)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def write_classes(root: Path, counts: dict[str, int], size: int, seed: int) -> int:
    """Write `counts[class]` images per class under root/<class>/, alternating PNG and JPEG."""
    unknown = sorted(set(counts) - set(SHAPES))
    if unknown:
        raise ValueError(f"unknown image classes {unknown}; known: {sorted(SHAPES)}")
    rng = np.random.default_rng(seed)
    written = 0
    for name, count in tqdm(counts.items(), desc=f"images -> {root}", unit="class"):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(count):
            image = render(name, size, rng)
            if index % 2:
                image.save(folder / f"{name}-{index:05d}.jpg", format="JPEG", quality=92)
            else:
                image.save(folder / f"{name}-{index:05d}.png", format="PNG")
            written += 1
    return written


def target_counts(spec: GenerateSpec) -> dict[str, int]:
    counts = {name: spec.per_class for name in spec.target_classes}
    counts[spec.target_classes[-1]] = max(3, int(spec.per_class * spec.minority_share))
    return counts


def generate_images(spec: GenerateSpec, target: Path, source: Path | None = None) -> dict[str, int]:
    """Target dataset (last class the minority) and, optionally, the source-task dataset; idempotent."""
    written = {"target": 0, "source": 0}
    if not any(target.glob("*/*")):
        written["target"] = write_classes(target, target_counts(spec), spec.size, spec.seed)
    if source is not None and not any(source.glob("*/*")):
        counts = {name: spec.source_per_class for name in spec.source_classes}
        written["source"] = write_classes(source, counts, spec.size, spec.seed + 1)
    return written
