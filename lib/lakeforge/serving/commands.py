"""`lakeforge serve`: the recommendation service under uvicorn."""

from __future__ import annotations

import argparse
import os
import tempfile
from contextlib import contextmanager

from lakeforge.commands import add_common

DEFAULT_CONF = "conf/recommendations.yml"


def cmd_serve(args) -> int:
    import uvicorn

    from lakeforge.commands import load_args_config
    from lakeforge.recommendations.config import RecsConfig
    from lakeforge.serving.app import CONFIG_ENV

    config = load_args_config(args, RecsConfig, DEFAULT_CONF)  # fails here, once, if the config is wrong
    os.environ[CONFIG_ENV] = args.config or DEFAULT_CONF
    if args.env:
        os.environ["LAKEFORGE_ENV"] = args.env
    with shared_metrics_dir(args.workers):
        uvicorn.run(
            "lakeforge.serving.app:app_from_environment",
            factory=True,
            host=args.host or config.serving.host,
            port=args.port or config.serving.port,
            workers=args.workers,
            log_level=args.log_level,
            access_log=False,  # one line per request would cost more than the request at the target rate
        )
    return 0


@contextmanager
def shared_metrics_dir(workers: int):
    """An empty folder for the workers' Prometheus values (unless $PROMETHEUS_MULTIPROC_DIR names one),
    removed when the server stops: stale files would add a previous run's counts to this one's."""
    from lakeforge.serving.metrics import MULTIPROCESS_ENV

    if workers < 2 or os.environ.get(MULTIPROCESS_ENV):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="lakeforge-metrics-") as folder:
        os.environ[MULTIPROCESS_ENV] = folder
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_ENV]


def cmd_demo(args) -> int:
    from pathlib import Path

    from lakeforge.commands import load_args_config, session_for
    from lakeforge.recommendations.config import RecsConfig
    from lakeforge.serving.demo import run_demo

    config = load_args_config(args, RecsConfig, DEFAULT_CONF)
    run_demo(session_for(config), config, args.config or DEFAULT_CONF, Path(config.platform.storage.landing) / "recommendations")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="the recommendation service (FastAPI under uvicorn)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes; each follows the interactions topic")
    serve.add_argument("--host", default=None, help="default serving.host (127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="default serving.port")
    serve.add_argument("--log-level", default="warning")
    add_common(serve, DEFAULT_CONF)
    serve.set_defaults(handler=cmd_serve)

    demo = commands.add_parser("demo-recs", help="train on generated interactions, serve, post a user's events, show the list move")
    add_common(demo, DEFAULT_CONF)
    demo.set_defaults(handler=cmd_demo)
