"""MkDocs hooks: pages with a `<!-- generated: NAME -->` line get it replaced by the generator NAME, at
every build, from the code and results themselves (config models, the argument parser, bench JSON)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from benchmarks import benchmarks  # noqa: E402 (after the path above)
from cli_reference import cli_reference  # noqa: E402
from config_reference import config_reference  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)


def cli_page() -> str:
    from lakeforge.cli import build_parser

    return cli_reference(build_parser())


GENERATORS = {
    "config-reference": lambda: config_reference(ROOT / "conf"),
    "cli-reference": cli_page,
    "benchmarks": lambda: benchmarks(ROOT / "bench/results"),
}


def on_page_markdown(markdown: str, page, config, files) -> str:
    def generate(match: re.Match) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"{page.file.src_uri}: no generator {name!r}; known: {sorted(GENERATORS)}")
        return GENERATORS[name]()

    return MARKER.sub(generate, markdown)
