"""spark-submit entry point: fine-tune, evaluate and register the image classifier (`lakeforge train images`).

    spark-submit --py-files dist/lakeforge.zip jobs/train_images.py [--config conf/images.yml] [--env cluster] [...]

Takes the options of `lakeforge train images` (`lakeforge train images --help`).
"""

from __future__ import annotations

import sys

from lakeforge.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "images", *sys.argv[1:]]))
