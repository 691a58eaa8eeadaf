"""The services' default ports lie outside the kernel's ephemeral range: a port from that range can be
taken first by any outgoing connection or by a Spark driver's randomly chosen listener, and then a
service fails to start at random (a CI run lost the schema registry that way)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PORT = re.compile(r'(LAKEFORGE_\w+_PORT):-(\d+)')


def default_ports() -> dict[str, int]:
    ports = {}
    for script in sorted((ROOT / "scripts/services").glob("*.sh")):
        ports.update((name, int(port)) for name, port in DEFAULT_PORT.findall(script.read_text()))
    return ports


def test_default_ports_are_distinct_and_below_the_ephemeral_range():
    low, _high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = default_ports()
    # Every service the operations guide lists has a default, and worker web UIs follow the master's.
    assert {"LAKEFORGE_PG_PORT", "LAKEFORGE_MQTT_PORT", "LAKEFORGE_KAFKA_PORT", "LAKEFORGE_MOTO_PORT",
            "LAKEFORGE_SCHEMA_REGISTRY_PORT", "LAKEFORGE_SPARK_MASTER_PORT"} <= ports.keys()
    worker_uis = [ports["LAKEFORGE_SPARK_MASTER_UI_PORT"] + n for n in (1, 2)]
    every = [*ports.values(), *worker_uis]
    assert len(set(every)) == len(every), ports
    assert max(every) < low, f"{ports} reach into the ephemeral range starting at {low}"
