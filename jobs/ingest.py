"""spark-submit entry point: run a pipeline config (sources -> bronze -> silver -> gold).

    spark-submit --py-files dist/lakeforge.zip jobs/ingest.py --conf conf/customer360.yml [--env cluster]
"""

from __future__ import annotations

import argparse
import sys

from lakeforge.config import load_pipeline_config
from lakeforge.pipelines.runner import PipelineRunner
from lakeforge.reporting import print_run
from lakeforge.spark import build_spark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conf", required=True, help="pipeline config YAML")
    parser.add_argument("--env", default=None, help="overlay conf/env/<ENV>.yml (default $LAKEFORGE_ENV or local)")
    parser.add_argument("--source", action="append", help="only this source (repeatable)")
    args = parser.parse_args(argv)

    config = load_pipeline_config(args.conf, env=args.env)
    run = PipelineRunner(build_spark(config.platform.spark), config).execute(sources=args.source)
    print_run(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
