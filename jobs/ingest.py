"""spark-submit entry point: run a pipeline config, sources -> bronze -> silver -> gold (`lakeforge ingest`).

    spark-submit --py-files dist/lakeforge.zip jobs/ingest.py --config conf/customer360.yml [--env cluster] [--source NAME]
"""

from __future__ import annotations

import sys

from lakeforge.cli import main

if __name__ == "__main__":
    sys.exit(main(["ingest", *sys.argv[1:]]))
