"""Soak test of the IoT stream's exactly-once writes: 100,000 events (with duplicates, spikes and a stuck
sensor) straight to Kafka, the streaming job (all four queries) SIGKILLed 5 times while it works through
them, then caught up; bronze, silver, gold windows and alerts are compared, row by row by key, with a
run that was never killed, and the audit's sums with Kafka's offsets and the tables. Writes
bench/results/stream-soak.json; exits 1 if any row was lost, doubled, unexpected or changed, or the
audit misses or doubles a micro-batch.

    source scripts/services/env.sh && .venv/bin/python scripts/bench/stream_soak.py [--devices 100 --readings 1000 --kills 5]

The same check at test size is tests/streaming/test_exactly_once.py; both use tests/streaming/crashes.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # the kill-and-compare helpers shared with the test

from lakeforge.spark import build_spark  # noqa: E402
from lakeforge.streaming.config import AvailableNow, Faults, load_iot_config, topic_names, write_iot_config  # noqa: E402
from lakeforge.streaming.job import run_stream  # noqa: E402
from lakeforge.streaming.kafka import delete_topics, ensure_topics  # noqa: E402
from lakeforge.streaming.services import IOT_SERVICES, services_up  # noqa: E402
from lakeforge.streaming.simulator import simulate  # noqa: E402
from lakeforge.streaming.tables import IotTables  # noqa: E402
from streaming.crashes import audit_gaps, differences, kill_repeatedly  # noqa: E402
from streaming.iot import WORK, isolated_config  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "stream-soak.json"
FAULTS = Faults(duplicate_probability=0.02, spike_probability=0.003, stuck_devices=1)  # in order: see crashes.py
KILL_AT = ("silver", "bronze", "silver")  # silver's micro-batches also score alerts and refresh gold


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--readings", type=int, default=1000, help="readings per device")
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--max-offsets", type=int, default=5000, help="records per micro-batch at most")
    args = parser.parse_args()

    base = load_iot_config(ROOT / "conf/iot.yml", env="local")
    services_up(None, IOT_SERVICES)
    folder = WORK / "bench" / "soak"
    shutil.rmtree(folder, ignore_errors=True)
    config = isolated_config(base, folder, devices=args.devices, readings_per_device=args.readings, faults=FAULTS)
    config = config.model_copy(update={"stream": config.stream.model_copy(update={"max_offsets_per_trigger": args.max_offsets})})
    ensure_topics(config.kafka)
    try:
        manifest, produced = simulate(config, via="kafka")
        started = time.monotonic()
        killed_at = kill_repeatedly(write_iot_config(config, folder / "conf"), IotTables.of(config), args.kills, KILL_AT, log=folder / "stream.log")
        killed_seconds = time.monotonic() - started
        storage = config.platform.storage.model_copy(update={"root": str(folder / "never-killed")})
        reference = config.model_copy(update={"platform": config.platform.model_copy(update={"storage": storage})})
        spark = build_spark(reference.platform.spark)
        started = time.monotonic()
        run_stream(spark, reference.model_copy(update={"stream": reference.stream.model_copy(update={"trigger": AvailableNow()})}))
        reference_seconds = time.monotonic() - started
        report = differences(spark, IotTables.of(config), IotTables.of(reference))
        audit = audit_gaps(spark, IotTables.of(config), config.platform.storage.root, produced.messages)
    finally:
        delete_topics(config.kafka, topic_names(config))

    exact = all(counts[kind] == 0 for counts in report.values() for kind in ("lost", "duplicated", "unexpected", "changed"))
    audited = all(gap == 0 for name, gap in audit.items() if not name.startswith("windows_")) and "windows_unreconciled" not in audit
    result = {
        "benchmark": "stream-soak",
        "run": uuid.uuid4().hex[:8],
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "events": produced.messages,
        "injected": manifest.to_dict(),
        "kills": len(killed_at),
        "killed_after_a_commit_of": killed_at,
        "max_offsets_per_trigger": args.max_offsets,
        "seconds": {"killed_runs_and_catch_up": round(killed_seconds, 1), "never_killed_catch_up": round(reference_seconds, 1)},
        "tables": report,
        "exactly_once": exact,
        # Audit sums over every window minus Kafka's offsets or the tables' rows (0: each micro-batch
        # audited once, windows cut by kills included), and windows per status.
        "audit": audit,
        "audit_complete": audited,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if exact and audited else 1


if __name__ == "__main__":
    sys.exit(main())
