"""spark-submit entry point: cross-validate and register the house-price regressors.

    spark-submit --py-files dist/lakeforge.zip jobs/train_housing.py [--config conf/housing.yml] [--env cluster]
        [--data PATH --label COLUMN] [--json]
"""

from __future__ import annotations

import sys

from lakeforge.training.commands import job_main

if __name__ == "__main__":
    sys.exit(job_main("housing"))
