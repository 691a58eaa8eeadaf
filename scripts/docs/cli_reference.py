"""The CLI reference page, written from `lakeforge`'s own argument parser: every command and kind,
with the help text `--help` prints."""

from __future__ import annotations

import argparse
import os

from lakeforge.commands import command_parsers

HELP_WIDTH = "100"  # argparse wraps help to $COLUMNS


def cli_reference(parser: argparse.ArgumentParser) -> str:
    os.environ["COLUMNS"] = HELP_WIDTH
    parser.prog = "lakeforge"
    sections = ["```text", parser.format_help().rstrip(), "```", ""]
    for words, sub in command_parsers(parser):
        level = "#" * (len(words) + 1)
        sections += [f"{level} lakeforge {' '.join(words)}", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(sections)
