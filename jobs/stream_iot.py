"""spark-submit entry point: the IoT streaming job (Kafka -> bronze -> silver -> gold windows + alerts).

    spark-submit --py-files dist/lakeforge.zip jobs/stream_iot.py --config conf/iot.yml [--env cluster] [--available-now]

Runs until SIGTERM (processing-time trigger) or until it has caught up (--available-now, or
`trigger: {kind: available_now}` in the config); restarting it resumes from its checkpoints.
"""

from __future__ import annotations

import sys

from lakeforge.cli import main

if __name__ == "__main__":
    sys.exit(main(["stream", "iot", *sys.argv[1:]]))
