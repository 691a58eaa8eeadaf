"""Start, stop and check the local brokers (scripts/services/*.sh), and create the Kafka topics."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from lakeforge.streaming.config import KafkaSettings
from lakeforge.streaming.kafka import ensure_topics

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("postgres", "mosquitto", "kafka")
IOT_SERVICES = ("mosquitto", "kafka")
# Started only when named (`lakeforge services up spark-cluster`): scripts/services/<name>.sh.
ON_REQUEST = ("spark-cluster", "schema-registry")


def work_dir() -> Path:
    return Path(os.environ.get("LAKEFORGE_WORK", ROOT / ".work"))


def run_script(service: str, action: str) -> subprocess.CompletedProcess:
    script = ROOT / "scripts" / "services" / f"{service}.sh"
    return subprocess.run(["bash", str(script), action], capture_output=True, text=True, check=False)


def export_credentials(services: tuple[str, ...] = SERVICES) -> None:
    """Put the secrets the service scripts wrote into this process's environment (what
    scripts/services/env.sh does for a shell)."""
    for service in services:
        path = work_dir() / "services" / service / "credentials.env"
        if path.exists():
            for word in shlex.split(path.read_text()):
                if "=" in word:
                    key, value = word.split("=", 1)
                    os.environ[key] = value


def services_up(kafka: KafkaSettings | None, services: tuple[str, ...] = SERVICES) -> list[str]:
    """Start each service (idempotent), then create the configured topics; returns status lines."""
    lines = []
    for service in services:
        result = run_script(service, "up")
        if result.returncode != 0:
            raise RuntimeError(f"scripts/services/{service}.sh up failed ({result.returncode}):\n{result.stderr[-2000:]}")
        lines.append(result.stdout.strip())
    export_credentials(services)
    if kafka is not None and "kafka" in services:
        created = ensure_topics(kafka)
        lines.append(f"kafka topics: created {created}" if created else "kafka topics: present")
    return lines


def services_down(services: tuple[str, ...] = SERVICES) -> list[str]:
    return [run_script(service, "down").stdout.strip() for service in reversed(services)]


def services_status(services: tuple[str, ...] = SERVICES) -> dict[str, bool]:
    return {service: run_script(service, "status").returncode == 0 for service in services}
