"""One real service for the serving tests: `lakeforge serve --workers 2` on the trained world's model,
its own Kafka topic and API key."""

import os
import socket
import subprocess
import time

import httpx
import pytest

from recommendations.world import API_KEY, SERVICE_WORKERS as WORKERS, World, lakeforge, trained_world


@pytest.fixture(scope="session")
def world(spark, tmp_path_factory) -> World:
    return trained_world(spark, tmp_path_factory.mktemp("recs"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_every_worker_is_ready(base: str, timeout: float = 240.0) -> None:
    """Ready answers from WORKERS distinct processes (a new connection per request reaches any worker)."""
    ready, deadline = set(), time.monotonic() + timeout
    while len(ready) < WORKERS:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only workers {ready} became ready within {timeout:.0f} s")
        try:
            response = httpx.get(f"{base}/ready", timeout=5)
            if response.status_code == 200:
                ready.add(response.headers["X-Served-By"])
        except httpx.TransportError:
            pass
        time.sleep(0.2)


@pytest.fixture(scope="session")
def service(world):
    """Base URL of the running service; stopped (its process group) after the session."""
    port = free_port()
    env = {**os.environ, world.config.serving.api_key_env: API_KEY}
    process = lakeforge("serve", "--config", str(world.config_path), "--workers", str(WORKERS), "--port", str(port), env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_every_worker_is_ready(base)
        yield base
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


@pytest.fixture
def auth() -> dict[str, str]:
    return {"X-API-Key": API_KEY}
