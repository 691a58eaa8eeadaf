"""spark-submit entry point: batch-score the configured data with the churn model's champion (`lakeforge score churn`).

    spark-submit --py-files dist/lakeforge.zip jobs/score_churn.py [--config conf/deployment.yml] [--env cluster]

Takes the options of `lakeforge score churn` (`lakeforge score churn --help`).
"""

from __future__ import annotations

import sys

from lakeforge.cli import main

if __name__ == "__main__":
    sys.exit(main(["score", "churn", *sys.argv[1:]]))
