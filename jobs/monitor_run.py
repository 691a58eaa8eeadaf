"""spark-submit entry point: compute the monitors, raise and post alerts, decide on retraining
(`lakeforge monitor run`), as a scheduled job.

    spark-submit --py-files dist/lakeforge.zip jobs/monitor_run.py [--config conf/monitoring.yml] [--env cluster] [--json]

Takes the options of `lakeforge monitor run` (`lakeforge monitor run --help`).
"""

from __future__ import annotations

import sys

from lakeforge.cli import main

if __name__ == "__main__":
    sys.exit(main(["monitor", "run", *sys.argv[1:]]))
