"""spark-submit entry point: train, validate and register the housing regressor (`lakeforge train housing`).

    spark-submit --py-files dist/lakeforge.zip jobs/train_housing.py [--config conf/housing.yml] [--env cluster] [...]

Takes the options of `lakeforge train housing` (`lakeforge train housing --help`).
"""

from __future__ import annotations

import sys

from lakeforge.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "housing", *sys.argv[1:]]))
