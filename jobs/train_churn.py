"""spark-submit entry point: train, validate and register the churn classifier (`lakeforge train churn`).

    spark-submit --py-files dist/lakeforge.zip jobs/train_churn.py [--config conf/churn.yml] [--env cluster] [...]

Takes the options of `lakeforge train churn` (`lakeforge train churn --help`).
"""

from __future__ import annotations

import sys

from lakeforge.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "churn", *sys.argv[1:]]))
