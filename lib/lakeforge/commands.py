"""What every area's subcommands share: the config options, config loading, the Spark session, the
work folder, and verbs that several areas extend with kinds of their own (`train churn`, `train images`).

Each area's `commands.py` builds on this module and registers its subcommands with `register(subparsers)`;
`lakeforge.cli` only lists those modules, so no area imports the command line's top.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)


def work_dir() -> Path:
    """Where demo data, services and the local lakehouse live ($LAKEFORGE_WORK, default .work)."""
    return Path(os.environ.get("LAKEFORGE_WORK", ".work"))


def add_common(parser: argparse.ArgumentParser, default_conf: str | None) -> None:
    """--config (alias --conf) and --env, for every subcommand that loads a config; None: the command picks it."""
    parser.add_argument("--config", "--conf", dest="config", default=default_conf, metavar="YAML",
                        help=f"config file (default {default_conf or 'per kind'}); any path, conf/env overlays apply")
    parser.add_argument("--env", default=None, help="environment overlay conf/env/<ENV>.yml (default $LAKEFORGE_ENV or local)")


def load_args_config(args: argparse.Namespace, model: type[T], default_conf: str) -> T:
    """The config a command's --config / --env name, validated as `model`."""
    from lakeforge.config import load_config

    return load_config(args.config or default_conf, model, env=args.env)


def session_for(config):
    """The Spark session a config's platform section describes."""
    from lakeforge.spark import build_spark

    return build_spark(config.platform.spark)


def kind_parser(commands: argparse._SubParsersAction, verb: str, kind: str, help: str, verb_help: str = "") -> argparse.ArgumentParser:
    """The parser of `lakeforge <verb> <kind>`; the first area to add a kind creates the verb.

    A verb created earlier with a handler of its own runs it when no kind is given (`lakeforge ingest`
    runs the pipeline, `lakeforge ingest images` the image ingestion); otherwise the kind is required.
    """
    parent = commands.choices.get(verb) or commands.add_parser(verb, help=verb_help or f"{verb} one of the kinds below")
    kinds = parent.get_default("kinds_")  # the verb's own subparsers, kept on the parser that owns them
    if kinds is None:
        kinds = parent.add_subparsers(dest="kind", metavar="KIND", required=parent.get_default("handler") is None)
        parent.set_defaults(kinds_=kinds)
    return kinds.add_parser(kind, help=help)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """A parser's commands or kinds by name ({} if it has none)."""
    for action in parser._actions:  # argparse keeps its subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_parsers(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """(words, parser) of every command and kind, depth first: ("train",), ("train", "churn"), ..."""
    for name, sub in subcommands(parser).items():
        yield (*words, name), sub
        yield from command_parsers(sub, (*words, name))
