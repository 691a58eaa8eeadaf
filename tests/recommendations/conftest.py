"""The trained recommender the tests share (see world.py)."""

import pytest

from lakeforge.streaming.services import IOT_SERVICES, services_up
from recommendations.world import World, trained_world


@pytest.fixture(scope="session")
def world(spark, tmp_path_factory) -> World:
    return trained_world(spark, tmp_path_factory.mktemp("recs"))


@pytest.fixture(scope="session")
def kafka_services() -> None:
    """Kafka on loopback (started if needed) with its credentials in the environment."""
    services_up(None, IOT_SERVICES)
