"""The documentation: the site builds strict (and a broken link or a page left out of the nav does
fail it), every `lakeforge ...` command the docs and README show parses, and the generated
configuration reference says what the models' sources say."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lakeforge.cli import build_parser
from lakeforge.commands import subcommands
from lakeforge.config.models import StorageSettings

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^\s*```\s*(\w*)")
SHELL_BLOCKS = ("", "bash", "sh", "shell", "console")  # ```text and the like hold output, not commands
COMMAND_LINE = re.compile(r"^\s*(?:\$ )?(?:\.venv/bin/)?lakeforge\s+(.*)$")
INLINE_COMMAND = re.compile(r"`(?:\.venv/bin/)?lakeforge ([^`]+)`")

sys.path.insert(0, str(ROOT / "scripts/docs"))
from config_reference import labels_of, model_section  # noqa: E402 (after the path above)


def build_site(project: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=600)


def test_the_site_builds_strict(tmp_path):
    result = build_site(ROOT, tmp_path / "site")
    assert result.returncode == 0, result.stderr[-4000:]
    cli_page = (tmp_path / "site/reference/cli/index.html").read_text()
    assert "lakeforge train churn" in cli_page and "--config" in cli_page  # generated, not the bare stub
    benchmarks_page = (tmp_path / "site/benchmarks/index.html").read_text()
    runs = sorted((ROOT / "bench/results").glob("*.json"))
    assert benchmarks_page.count("<strong>Machine:</strong>") == benchmarks_page.count("<strong>Measured:</strong>") == len(runs)
    assert all(f"bench/results/{run.name}" in benchmarks_page for run in runs)
    config_page = (tmp_path / "site/reference/configuration/index.html").read_text()
    assert all(f"conf/{conf.name}" in config_page for conf in (ROOT / "conf").glob("*.yml"))


def test_a_broken_link_or_a_page_outside_the_nav_fails_the_build(tmp_path):
    project = tmp_path / "project"
    for path in ("mkdocs.yml", "docs", "scripts/docs", "conf", "bench/results"):
        copy = shutil.copytree if (ROOT / path).is_dir() else shutil.copy
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        copy(ROOT / path, project / path)
    (project / "docs/orphan.md").write_text("# Not in the nav\n")
    with (project / "docs/index.md").open("a") as index:
        index.write("\nSee [the missing page](missing.md).\n")
    result = build_site(project, tmp_path / "site")
    assert result.returncode == 1
    assert "orphan.md" in result.stderr and "not included in the \"nav\"" in result.stderr
    assert "missing.md" in result.stderr


def without_placeholders(words: list[str]) -> list[str]:
    """The words of an example with its optional [...] groups and `...`/`|` left out."""
    kept, depth = [], 0
    for word in words:
        if word.startswith("["):
            depth += 1
        if depth == 0 and word not in ("...", "|"):
            kept.append(word)
        depth -= word.count("]") if depth else 0
    return kept


def documented_commands() -> list[tuple[str, str, bool]]:
    """(page, command words, whole line?) of every `lakeforge ...` in code blocks and inline code."""
    found = []
    for page in PAGES:
        in_block, language = False, ""
        for line in page.read_text().splitlines():
            fence = FENCE.match(line)
            if fence:
                in_block, language = not in_block, fence.group(1)
                continue
            match = COMMAND_LINE.match(line) if in_block and language in SHELL_BLOCKS else None
            if match:
                found.append((page.name, match.group(1), True))
            elif not in_block:
                found += [(page.name, inline, False) for inline in INLINE_COMMAND.findall(line)]
    return found


def test_the_docs_show_commands():
    pages = {page for page, _, _ in documented_commands()}
    assert {"README.md", "batch-ingestion.md", "iot-streaming.md", "training.md", "images.md"} <= pages


@pytest.mark.parametrize(("page", "command", "whole_line"), documented_commands())
def test_every_documented_command_exists(page, command, whole_line, capsys):
    words = without_placeholders(shlex.split(command, comments=True))
    if whole_line:  # a line to copy: it must parse as it stands, options and all
        try:
            build_parser().parse_args(words)
        except SystemExit:
            pytest.fail(f"{page}: `lakeforge {command}` does not parse: {capsys.readouterr().err.strip()}")
        return
    parser, names = build_parser(), [word for word in words if not word.startswith(("-", "<"))]
    for name in names:  # prose names a command and its kinds: each must exist
        choices = subcommands(parser)
        if not choices:
            break
        assert name in choices, f"{page}: `lakeforge {command}`: no {name!r} among {sorted(choices)}"
        parser = choices[name]


def test_the_configuration_reference_takes_each_fields_comment_from_the_source():
    section = model_section(StorageSettings, labels_of([StorageSettings]))
    assert "| `root` | str | **required** | Delta tables live at {root}/{layer}/{name}; raw files arrive under {landing}. |" in section
    assert "| `landing` | str | **required** |  |" in section
