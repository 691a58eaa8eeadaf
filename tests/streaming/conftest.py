"""Fixtures for the IoT tests: the real Mosquitto and Kafka (started if needed), and per-test config
with its own Kafka topics and lakehouse, so tests never see each other's records."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeforge.streaming.config import IotConfig, load_iot_config, topic_names
from lakeforge.streaming.kafka import delete_topics, ensure_topics
from lakeforge.streaming.mqtt import bridge_login, end_session
from lakeforge.streaming.services import IOT_SERVICES, services_up
from streaming.iot import isolated_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def iot_services() -> IotConfig:
    """Mosquitto and Kafka running on loopback with their credentials exported (idempotent)."""
    base = load_iot_config(ROOT / "conf/iot.yml", env="local")
    services_up(None, IOT_SERVICES)
    return base


@pytest.fixture
def make_config(iot_services, tmp_path):
    """Build a config with fresh topics (created now, deleted after the test)."""
    made: list[IotConfig] = []

    def make(**simulator) -> IotConfig:
        config = isolated_config(iot_services, tmp_path, **simulator)
        ensure_topics(config.kafka)
        made.append(config)
        return config

    yield make
    for config in made:
        delete_topics(config.kafka, topic_names(config))
        end_session(config.mqtt, bridge_login(config.mqtt), config.bridge.client_id)  # or the broker queues for it
