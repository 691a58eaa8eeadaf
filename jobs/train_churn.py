"""spark-submit entry point: train, validate and register the churn classifier.

    spark-submit --py-files dist/lakeforge.zip jobs/train_churn.py [--config conf/churn.yml] [--env cluster]
        [--data PATH --label COLUMN] [--json]
"""

from __future__ import annotations

import sys

from lakeforge.training.commands import job_main

if __name__ == "__main__":
    sys.exit(job_main("churn"))
