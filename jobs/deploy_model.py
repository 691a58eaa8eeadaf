"""spark-submit entry point: validate, promote, deploy and smoke-test a model (`lakeforge deploy run`).

    spark-submit --py-files dist/lakeforge.zip jobs/deploy_model.py --model churn [--target local|aws] [--env cluster]

Takes the options of `lakeforge deploy run` (`lakeforge deploy run --help`).
"""

from __future__ import annotations

import sys

from lakeforge.cli import main

if __name__ == "__main__":
    sys.exit(main(["deploy", "run", *sys.argv[1:]]))
