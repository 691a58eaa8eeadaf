"""The trained recommender the tests share (see world.py)."""

import pytest

from recommendations.world import World, trained_world


@pytest.fixture(scope="session")
def world(spark, tmp_path_factory) -> World:
    return trained_world(spark, tmp_path_factory.mktemp("recs"))

