"""spark-submit entry point: fine-tune the image classifier on the silver image table.

    spark-submit --py-files dist/lakeforge.zip jobs/train_images.py [--config conf/images.yml] [--env cluster]
        [--weights PATH] [--json]
"""

from __future__ import annotations

import sys

from lakeforge.training.commands import job_main

if __name__ == "__main__":
    sys.exit(job_main("images"))
